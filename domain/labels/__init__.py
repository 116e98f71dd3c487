"""Labels in Chinese and English for every machine code a person reads, looked up in the
gettext catalogues beside this module.

The API (stable; the workbench, the PDFs, the notices and the CLI call it)::

    label(vocabulary: str, code: str, lang: str = "zh") -> str

``vocabulary`` is one of :class:`Vocabulary` (the gettext ``msgctxt``), ``code`` the machine
code (the ``msgid``), ``lang`` ``"zh"`` or ``"en"`` (anything else reads as ``"zh"``).
``label("reason", "model.request_to_revenue", "zh")`` → ``"申请金额相对营业收入偏高"``;
``label("region", "440305", "en")`` → ``"Nanshan District, Shenzhen, Guangdong"``.

Around it: :func:`known` and :func:`codes` (what a vocabulary holds), :func:`first_known` and
:func:`first_label` (a code that may be any of several vocabularies'), :func:`bilingual`
(Chinese then English), :func:`reasons_text` (a comma-joined list of reason codes, or a
person's free text, as one line), :func:`period_label` (a report period) and :func:`misses`
(every unknown code asked for since the process started).

The catalogues are ``labels.<lang>.po`` and ``regions.<lang>.po`` (GB/T 2260): Babel message
catalogues, the source to edit. They are compiled on first use to ``.mo`` files in a cache
folder beside them (``.compiled/``, keyed by the ``.po``'s SHA-256, so an edited catalogue is
compiled again) and read with Babel; with no writable folder they are compiled in memory.

An unknown code is shown as it is — never an exception on a page — but is logged and kept in
:func:`misses`; the raw-code tests fail on it, so a code without a label never ships unnoticed.
A region code missing from GB/T 2260 falls back to its prefecture, then its province.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

log = logging.getLogger("loanbridge.labels")

LANGUAGES = ("zh", "en")
CATALOGUE_DIR = Path(__file__).resolve().parent
_CATALOGUES = ("labels", "regions")

# A machine code as our vocabularies write them: snake_case, optionally dotted.
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class Vocabulary(StrEnum):
    """The vocabularies of codes a person may read (each a ``msgctxt`` of the catalogues)."""

    INDUSTRY = "industry"  # GB/T 4754-2017 sections
    REGION = "region"  # GB/T 2260 divisions (6 digits; a 2-digit province prefix is accepted)
    ROLE = "role"
    APPLICATION_STAGE = "application_stage"
    ENTERPRISE_STATUS = "enterprise_status"
    DEMAND_STATUS = "demand_status"
    RESPONSE_STATUS = "response_status"
    LOAN_STATUS = "loan_status"
    INSTALLMENT_STATUS = "installment_status"
    RISK_CATEGORY = "risk_category"
    TASK_KIND = "task_kind"
    TASK_STATE = "task_state"
    TASK_OUTCOME = "task_outcome"
    PRODUCT_STATUS = "product_status"
    PRODUCT_FAMILY = "product_family"
    FINANCING_TYPE = "financing_type"
    LPR_TENOR = "lpr_tenor"
    REPAYMENT_METHOD = "repayment_method"
    PREPAYMENT_STRATEGY = "prepayment_strategy"
    FREQUENCY = "frequency"
    MATERIAL = "material"
    DOCUMENT_KIND = "document_kind"
    AUTHORITY = "authority"
    CREDIT_DECISION = "credit_decision"
    CREDIT_ACTION = "credit_action"
    REASON = "reason"
    DECISION_KIND = "decision_kind"
    TIMELINE_EVENT = "timeline_event"
    TIMELINE_SOURCE = "timeline_source"  # where an audit timeline entry comes from
    WORKFLOW_TYPE = "workflow_type"
    WORKFLOW_STATUS = "workflow_status"
    OUTCOME = "outcome"
    JOURNAL_KIND = "journal_kind"
    ALERT_RULE = "alert_rule"
    SEVERITY = "severity"
    ALERT_STATE = "alert_state"
    REPORT_KIND = "report_kind"
    REPORT_PERIOD = "report_period"
    DECISION_BUCKET = "decision_bucket"
    ENTERPRISE_SIZE = "enterprise_size"
    EARLY_WARNING = "early_warning"
    VERDICT = "verdict"
    NEXT_STEP = "next_step"
    BREAK_KIND = "break_kind"
    INSTITUTION_KIND = "institution_kind"
    INSTITUTION_STATUS = "institution_status"
    LIFECYCLE_STAGE = "lifecycle_stage"  # the stage search attribute of a workflow
    FIELD = "field"  # names of the facts an event records (amount, rate, reason …)
    MODEL_FEATURE = "model_feature"  # the credit model's SME features (credit_model.features)
    MODEL_KIND = "model_kind"  # scorecard, challenger
    MODEL_STATUS = "model_status"  # registered, promoted, retired
    MODEL_SAMPLE = "model_sample"  # cross-validated, out of time
    MODEL_PARAMETER = "model_parameter"  # the tuning grids' parameters
    FEATURE_SET = "feature_set"  # sme, custom
    AMOUNT_BAND = "amount_band"  # an anonymous demand's amount (domain.disclosure)
    CONSENT = "consent"  # the consent scopes, and what stands where a withheld value would
    NOTICE = "notice"  # the notices sent to an enterprise (templates/notify), by template
    NOTICE_CASE = "notice_case"  # the case a notice is about (domain.notices.CaseKind)


def _compiled(po: Path, cache_dir: Path) -> bytes:
    """The ``.mo`` bytes of one ``.po`` catalogue, from the cache when it is current."""
    source = po.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    cached = cache_dir / f"{po.stem}.{digest}.mo"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    buffer = io.BytesIO()
    write_mo(buffer, read_po(io.BytesIO(source)))
    compiled = buffer.getvalue()
    try:
        cache_dir.mkdir(exist_ok=True)
        for stale in cache_dir.glob(f"{po.stem}.*.mo"):
            stale.unlink(missing_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(compiled)
        os.replace(temporary, cached)  # atomic: a concurrent reader sees all or nothing
    except OSError as exc:  # a read-only installation: compiled in memory each start
        log.info("catalogue %s not cached: %s", po.name, exc)
    return compiled


def read_catalogue(po: Path) -> dict[tuple[str | None, str], str]:
    """Every (context, message id) → text of a gettext catalogue, compiled on first use and
    cached in ``.compiled/`` beside it (the labels' catalogues here, the pages' words in
    ``web/locale``)."""
    table: dict[tuple[str | None, str], str] = {}
    for message in read_mo(io.BytesIO(_compiled(po, po.parent / ".compiled"))):
        if message.id and isinstance(message.id, str):
            table[(message.context, message.id)] = str(message.string)
    return table


@functools.cache
def _table(lang: str) -> dict[tuple[str, str], str]:
    """Every (vocabulary, code) → label of one language."""
    table: dict[tuple[str, str], str] = {}
    for name in _CATALOGUES:
        for (context, code), text in read_catalogue(CATALOGUE_DIR / f"{name}.{lang}.po").items():
            if context:
                table[(context, code)] = text
    return table


_MISSES: set[tuple[str, str]] = set()
_MISSES_LOCK = threading.Lock()


def _language(lang: str) -> str:
    return lang if lang in LANGUAGES else "zh"


def _region_key(code: str, table: dict[tuple[str, str], str]) -> str | None:
    """The most precise GB/T 2260 division the catalogue names for ``code``."""
    if len(code) == 2 and code.isdigit():
        code = f"{code}0000"
    if len(code) != 6 or not code.isdigit():
        return None
    for candidate in (code, f"{code[:4]}00", f"{code[:2]}0000"):
        if ("region", candidate) in table:
            return candidate
    return None


def known(vocabulary: str, code: str) -> bool:
    """Whether both languages have a label for ``code`` (regions: down to the province)."""
    for lang in LANGUAGES:
        table = _table(lang)
        if vocabulary == Vocabulary.REGION:
            if _region_key(code, table) is None:
                return False
        elif (str(vocabulary), code) not in table:
            return False
    return True


def label(vocabulary: str, code: str, lang: str = "zh") -> str:
    """The label of ``code`` in ``vocabulary`` and ``lang``; the code itself when unknown
    (logged and kept in :func:`misses`, which the raw-code tests check)."""
    table = _table(_language(lang))
    key = _region_key(code, table) if vocabulary == Vocabulary.REGION else code
    text = table.get((str(vocabulary), key)) if key is not None else None
    if text:
        return text
    with _MISSES_LOCK:
        first = (str(vocabulary), code) not in _MISSES
        _MISSES.add((str(vocabulary), code))
    if first:
        log.warning("no label for %s code %r", vocabulary, code)
    return code


def first_known(code: str, vocabularies: Sequence[str]) -> str:
    """The first of ``vocabularies`` that knows ``code`` (a stage or status a search attribute
    holds may be any process's), else the first, so the lookup records a miss there."""
    return next((v for v in vocabularies if known(v, code)), vocabularies[0])


def first_label(code: str, vocabularies: Sequence[str], lang: str = "zh") -> str:
    """The label of ``code`` from the first of ``vocabularies`` that knows it."""
    return label(first_known(code, vocabularies), code, lang)


def bilingual(vocabulary: str, code: str) -> str:
    """The Chinese then the English label, for a reader of both (the CLI, the PDFs):
    ``已放款 Disbursed``; once where they are the same (an unknown code)."""
    zh, en = label(vocabulary, code, "zh"), label(vocabulary, code, "en")
    return zh if zh == en else f"{zh} {en}"


def codes(vocabulary: str) -> frozenset[str]:
    """Every code the catalogue labels in ``vocabulary`` (the Chinese catalogue's)."""
    return frozenset(code for voc, code in _table("zh") if voc == vocabulary)


def misses() -> frozenset[tuple[str, str]]:
    """Every (vocabulary, code) asked for without a label since the process started."""
    with _MISSES_LOCK:
        return frozenset(_MISSES)


def clear_misses() -> None:
    """Forget the recorded misses (a test starts from a clean slate)."""
    with _MISSES_LOCK:
        _MISSES.clear()


def reasons_text(value: str, lang: str = "zh", vocabulary: str = Vocabulary.REASON) -> str:
    """Reasons as a person reads them: ``"amount.above_auto_limit,grade.needs_review"`` →
    ``"金额超过自动审批上限；信用等级需人工审核"``; codes ``vocabulary`` knows read the same way
    (``"financial_statements,bank_statements"`` of the materials). A person's own words (an
    officer's decline reason) are not codes and come back unchanged; empty stays empty."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    dotted_codes = all(CODE_PATTERN.fullmatch(part) and "." in part for part in parts)
    if not parts or not (dotted_codes or all(known(vocabulary, part) for part in parts)):
        return value.strip()
    separator = "; " if _language(lang) == "en" else "；"
    return separator.join(label(vocabulary, part, lang) for part in parts)


def period_label(kind: str, start: date, lang: str = "zh") -> str:
    """A report period as a person says it: 2026年10月 / October 2026, 2026年第4季度 / Q4 2026."""
    pattern = label(Vocabulary.REPORT_PERIOD, kind, lang)
    return pattern.format(
        year=start.year,
        month=start.month,
        month_name=_MONTHS_EN[start.month - 1],
        quarter=(start.month - 1) // 3 + 1,
    )
