"""The HTTP API: FastAPI app factory, routers, dependencies and schemas."""
