"""Simulated external providers served over real HTTP for development, demos and tests."""
