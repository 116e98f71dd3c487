"""Deterministic lifecycle simulation: seeded portfolios driven for years on the real workers."""
