"""Unit tests: pure code and fakes, no services."""
