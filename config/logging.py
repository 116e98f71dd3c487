"""structlog set-up: JSON off a terminal, pretty on one, stdlib loggers through it too."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Long digit runs (ID numbers, phones, bank accounts) never reach a log line in clear.
_PII_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{5,14}(\d{2}[0-9Xx]?)(?![0-9A-Za-z])")


def _mask(value: str) -> str:
    return _PII_PATTERN.sub(lambda m: f"{m.group(1)}****{m.group(2)}", value)


def scrub_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask anything that looks like an ID number, phone or account number in every string,
    also inside nested values (a rendered exception is a list of dicts)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _scrub(value)
    return event_dict


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _mask(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and route stdlib logging (uvicorn, SQLAlchemy, temporalio) through it."""
    render_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if render_json:
        renderer = structlog.processors.JSONRenderer()
        # Frames without their local variables: locals may hold personal data, and they
        # made one record of an API error weigh 640 KiB.
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
    else:
        renderer = structlog.dev.ConsoleRenderer()
    shared.append(scrub_personal_data)  # last: the rendered exception is scrubbed too

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio", "sqlalchemy"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
