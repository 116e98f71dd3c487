"""Find what a person should never read: raw machine codes (snake_case and dotted codes of our
vocabularies), UUIDs and UTC ISO timestamps, in the visible text of a page, a PDF or a notice.

Used by the raw-code tests of the workbench, the PDFs and the notifications; its own unit test
plants each kind of code to prove it is found."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from domain.labels import Vocabulary, codes

# Vocabularies whose codes are single lowercase English words ("offered", "active"): on a
# Chinese rendering such a word can only be a code that missed its label.
_WORD_VOCABULARIES = (
    Vocabulary.APPLICATION_STAGE,
    Vocabulary.ENTERPRISE_STATUS,
    Vocabulary.DEMAND_STATUS,
    Vocabulary.RESPONSE_STATUS,
    Vocabulary.LOAN_STATUS,
    Vocabulary.INSTALLMENT_STATUS,
    Vocabulary.RISK_CATEGORY,
    Vocabulary.TASK_STATE,
    Vocabulary.PRODUCT_STATUS,
    Vocabulary.ROLE,
    Vocabulary.REPORT_KIND,
    Vocabulary.SEVERITY,
    Vocabulary.ALERT_STATE,
    Vocabulary.MODEL_STATUS,
    Vocabulary.MODEL_KIND,
)
_SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@-])")
_DOTTED = re.compile(r"(?<![\w./@-])[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+(?![\w@(/-])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_UTC = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|\+00:?00)|"
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})? ?UTC|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"
)
# An id a command prints for the next command to take: a UUID or a workflow id, standing alone.
_HANDLE = re.compile(
    r"(?<![\w-])(?:[a-z]+-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])"
)
# A value a command line takes, listed for a person to type with its words after it:
# ``id_front (法定代表人身份证人像面 ID card, photo side)``.
_TYPED = re.compile(r"(?<![\w./@-])([a-z][a-z0-9_]*)(?= \()")
_URL_OR_MAIL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FILE_NAME = re.compile(r"\b[\w-]+\.(?:pdf|csv|json|png|jpg|jpeg|html|txt)\b", re.I)


@dataclass(frozen=True, slots=True)
class Finding:
    """One raw code in a text: what kind, the code, and the words around it."""

    kind: str  # snake_case, dotted, uuid, utc_timestamp, code_word, code_cell
    code: str
    context: str

    def __str__(self) -> str:
        return f"{self.kind} {self.code!r} in …{self.context}…"


def _single_word_codes() -> frozenset[str]:
    return frozenset(
        code
        for vocabulary in _WORD_VOCABULARIES
        for code in codes(vocabulary)
        if re.fullmatch(r"[a-z]+", code)
    )


def find_raw_codes(
    text: str,
    lang: str = "zh",
    names: frozenset[str] = frozenset(),
    handles: frozenset[str] = frozenset(),
    typed: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every raw code in ``text`` (what a person reads); ``lang`` is the rendering's language:
    on a Chinese one, a status word such as ``offered`` is a raw code too. ``names`` are
    people's names (a username may read like a code: ``compliance``) and are not codes.
    ``handles`` are ids a command line prints on purpose, for the next command to take (an
    application's id, a workflow id): each is left alone where it stands as a word of its own,
    not inside a longer token (``loan-<id>`` is no loan id). ``typed`` are the values a command
    line takes (``id_front`` of ``onboarding upload KIND FILE``): where one is listed for a
    person to type, its words in parentheses after it, it is left alone; anywhere else it is a
    code like any other."""
    cleaned = _FILE_NAME.sub(" ", _URL_OR_MAIL.sub(" ", text))
    if handles:
        cleaned = _HANDLE.sub(lambda m: " " if m.group(0) in handles else m.group(0), cleaned)
    if typed:
        cleaned = _TYPED.sub(lambda m: " " if m.group(1) in typed else m.group(0), cleaned)
    findings: list[Finding] = []

    def add(kind: str, match: re.Match[str]) -> None:
        start, end = match.span()
        context = cleaned[max(0, start - 30) : end + 30].replace("\n", " ")
        findings.append(Finding(kind, match.group(0), context))

    for match in _UUID.finditer(cleaned):
        add("uuid", match)
    for match in _UTC.finditer(cleaned):
        add("utc_timestamp", match)
    without_ids = _UUID.sub(" ", cleaned)
    for match in _SNAKE.finditer(without_ids):
        add("snake_case", match)
    for match in _DOTTED.finditer(without_ids):
        add("dotted", match)
    if lang == "zh":
        words = _single_word_codes()
        for match in re.finditer(r"(?<![\w-])[a-z]+(?![\w-])", without_ids):
            if match.group(0) in words and match.group(0) not in names:
                add("code_word", match)
    return findings


# A word standing as a cell of a terminal table: after a line's start, two spaces or "· ",
# before two spaces or the line's end.
_CELL = re.compile(r"(?:^|(?<=  )|(?<=· ))([a-z]+)(?=  |$)", re.M)


def find_code_cells(text: str, names: frozenset[str] = frozenset()) -> list[Finding]:
    """Status words (``offered``, ``investigating``) standing as a cell of a terminal table.

    A bilingual command line is read with ``lang="en"``: its English words are words
    (``submitted 提交于``). A status code printed in place of its label still stands alone in
    its column, which a word of a bilingual title never does."""
    words = _single_word_codes()
    findings: list[Finding] = []
    for match in _CELL.finditer(text):
        word = match.group(1)
        if word in words and word not in names:
            start, end = match.span(1)
            context = text[max(0, start - 30) : end + 30].replace("\n", " ")
            findings.append(Finding("code_cell", word, context))
    return findings


class _VisibleText(HTMLParser):
    """Text nodes a person sees: not attributes, scripts, styles, nor ``data-machine``
    blocks (recorded payloads shown to compliance as they were recorded)."""

    _SKIP = frozenset({"script", "style", "template"})
    _VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []  # per open element: is it hidden?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._VOID:
            return
        hidden = tag in self._SKIP or any(name == "data-machine" for name, _ in attrs)
        self._stack.append(hidden or (bool(self._stack) and self._stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self._stack and self._stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of an HTML page as a person reads it."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def pdf_text(pdf: bytes, folder: Path) -> str:
    """The text of a PDF (``pdftotext -layout``, from poppler-utils)."""
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
