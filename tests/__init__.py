"""LoanBridge test suite."""
