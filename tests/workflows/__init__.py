"""Workflow tests on the time-skipping test server with stand-in activities."""
