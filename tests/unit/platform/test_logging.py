"""Log lines never carry an ID number, phone or account number in clear."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from config.logging import configure_logging

# What configure_logging changes besides the root logger.
_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio", "sqlalchemy")
_LEVELS = ("sqlalchemy.engine", "httpx")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """configure_logging sets the process's logging up, with a handler on this test's captured
    stderr; the tests after these get the logging they had (a handler left on a closed stream
    prints '--- Logging error ---' and a traceback into whatever stderr is current)."""
    root = logging.getLogger()
    root_handlers, root_level = root.handlers[:], root.level
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in _LOGGERS
    }
    levels = {n: logging.getLogger(n).level for n in _LEVELS}
    structlog_config = structlog.get_config()
    yield
    root.handlers[:] = root_handlers
    root.setLevel(root_level)
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    structlog.configure(**structlog_config)


def test_personal_numbers_are_masked_in_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    structlog.get_logger("t").info("checking 11010519491231002X", phone="13812345678")
    logging.getLogger("uvicorn").info("account 6222020200112233445 paid")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    text = json.dumps(lines)
    for secret in ("11010519491231002X", "13812345678", "6222020200112233445"):
        assert secret not in text
    assert lines[0]["phone"].startswith("138****")
    assert lines[1]["logger"] == "uvicorn"


def test_exceptions_are_logged_without_locals_and_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    id_number = "11010519491231002X"  # a local variable of the failing frame
    try:
        raise ValueError(f"no such person {id_number}")
    except ValueError:
        structlog.get_logger("t").exception("lookup failed")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert id_number not in json.dumps(line)
    frames = line["exception"][0]["frames"]
    assert frames and all("locals" not in frame for frame in frames)
    assert line["exception"][0]["exc_value"].startswith("no such person 110****")
