"""Clients for external systems, one package per provider, each behind a Protocol."""
