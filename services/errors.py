"""The refusal every service raises for an expected "no": status, machine code, Chinese and
English message, field issues."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import FieldIssue


class Refusal(Exception):
    """An expected refusal with a status, a machine code and bilingual messages.

    ``status`` is the HTTP-style status the caller's front end shows (the API answers with it,
    the workbench renders its error page with it); ``headers`` are hints for an HTTP answer
    (``Retry-After``, ``WWW-Authenticate``) that other front ends ignore."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        fields: Sequence[FieldIssue] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.fields = list(fields)
        self.headers = headers


def not_found() -> Refusal:
    """404: missing, or another tenant's record (which must not even be confirmed to exist)."""
    return Refusal(404, "not_found", "资源不存在", "Not found")
