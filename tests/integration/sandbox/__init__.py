"""Integration tests of the sandbox as a real uvicorn process, reached through the adapters."""
