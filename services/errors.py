"""The refusal every service raises for an expected "no": status, machine code, Chinese and
English message, field issues."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import FieldIssue
from domain.labels import Vocabulary, label


class Refusal(Exception):
    """An expected refusal with a status, a machine code and bilingual messages.

    ``status`` is the HTTP-style status the caller's front end shows (the API answers with it,
    the workbench renders its error page with it); ``headers`` are hints for an HTTP answer
    (``Retry-After``, ``WWW-Authenticate``) that other front ends ignore; ``details`` are the
    facts a client acts on (the id of the open application a duplicate refers to)."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        fields: Sequence[FieldIssue] = (),
        headers: dict[str, str] | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.fields = list(fields)
        self.headers = headers
        self.details = details


def not_found() -> Refusal:
    """404: missing, or another tenant's record (which must not even be confirmed to exist)."""
    return Refusal(404, "not_found", "资源不存在", "Not found")


# When each loan document is issued: the way forward of a request made before it is.
_ISSUED_WHEN = {
    "offer_letter": ("审批通过后签发", "it is issued when the application is approved"),
    "contract": ("接受要约后签发", "it is issued when the offer is accepted"),
    "addendum": ("展期获批后签发", "it is issued when an extension is approved"),
    "settlement_certificate": ("贷款结清后签发", "it is issued once the loan is paid off"),
}


def not_issued(kind: str) -> Refusal:
    """404: a loan document asked for before it exists: which one, and when it comes."""
    zh, en = _ISSUED_WHEN[kind]
    return Refusal(
        404,
        "not_found",
        f"{label(Vocabulary.DOCUMENT_KIND, kind, 'zh')}尚未签发：{zh}，请稍后再试",
        f"{label(Vocabulary.DOCUMENT_KIND, kind, 'en')} not issued yet: {en}; try again later",
    )
