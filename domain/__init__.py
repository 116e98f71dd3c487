"""Pure business rules of LoanBridge: money, schedules, APR, validators, classification."""
