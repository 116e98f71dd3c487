"""Log lines never carry an ID number, phone or account number in clear."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from config.logging import configure_logging


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
