"""Deterministic Temporal workflows, one module per lifecycle stage."""
