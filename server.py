"""Composition root of the HTTP server: the API with the workbench mounted under ``/web``, as
``loanbridge up``, uvicorn and the tests run it.

The API (``api/``) and the workbench (``web/``) do not know each other; this module is the
one place that puts them into one ASGI app sharing one lifespan (engine, Temporal client,
settings), as ``worker.py`` is the one place that wires the workers."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_api
from config.settings import Settings, get_settings
from web import install as install_workbench


def create_app(settings: Settings | None = None, *, server_process: bool = False) -> FastAPI:
    """The API and the workbench under ``/web``; nothing connects until the lifespan starts.
    ``server_process``: the app is this process's only job (uvicorn), so its garbage collector
    is tuned at start."""
    app = create_api(settings, server_process=server_process)
    install_workbench(app)
    return app


def create_default_app() -> FastAPI:
    """Entry point for ``uvicorn server:create_default_app --factory`` (logging configured)."""
    from config.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings, server_process=True)
