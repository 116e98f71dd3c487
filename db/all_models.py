"""Imports every model module so Alembic and tests see the whole metadata."""

from db import models

__all__ = ["models"]
