"""Typed Python client for the LoanBridge HTTP API."""
