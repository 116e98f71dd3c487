"""Unit tests of the provider sandbox and the HTTP adapters, run in process over ASGI."""
