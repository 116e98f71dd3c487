"""How a ``loanbridge`` command ends on an error: one message in Chinese and English (an API
refusal with a line per field it is about, named as the command's option), then an exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import NoReturn

import typer

from client.api import LoanBridgeError


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one error line and exit at once.

    ``os._exit`` skips interpreter teardown: after a failed Temporal connection the SDK's
    native runtime threads can abort a normal shutdown, which would turn a clear one-line
    error into a crash dump.
    """
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def explain(
    exc: LoanBridgeError, names: Mapping[str, str] | None = None, hint: str = ""
) -> NoReturn:
    """The API's refusal: its message, then a line per field issue, named as ``names`` call the
    field (``amount`` of the request is ``--amount`` of ``apply``; ``enterprise.name`` of the
    registration is its question); a field without a name there is not named, its message
    says what is wrong (the API's field names are no words of the command line). ``hint`` is
    the way forward the command knows after a refusal of a record not found."""
    known = names or {}
    lines = [f"{exc.message_zh} / {exc.message_en}"]
    for issue in exc.fields:
        name = known.get(issue.field.split(".")[0]) or known.get(issue.field)
        lines.append(f"  {f'{name}: ' if name else ''}{issue.message_zh} / {issue.message_en}")
    if hint and exc.status == 404:
        lines.append(hint)
    fail("\n".join(lines))
