"""Persistence: SQLAlchemy 2 models, session factory and repositories."""
