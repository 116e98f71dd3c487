"""Imports every model module so Alembic and tests see the whole metadata."""

from db import models, models_audit, models_compliance, models_risk, models_security

# models_audit: decision-log checkpoints, retention; models_compliance: reports, monitoring,
# ratings; models_risk: credit model registry, re-ratings, alerts; models_security: account
# lock and unlock events.
__all__ = ["models", "models_audit", "models_compliance", "models_risk", "models_security"]
