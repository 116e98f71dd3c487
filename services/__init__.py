"""Application services, one module per capability: a typed command or query and the acting
principal in, a typed result out, with role, tenancy and consent checked once here (no FastAPI,
no jinja2)."""
