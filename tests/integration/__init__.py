"""Integration tests against real PostgreSQL, Temporal and the sandbox."""
