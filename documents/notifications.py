"""Render SMS and e-mail texts from ``templates/notify/<template>.<locale>.txt``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal, get_args

import jinja2

from documents.environment import date_zh, money, shared_environment, template_root
from domain.labels import CODE_PATTERN, Vocabulary, label, reasons_text

Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = get_args(Locale)

_SUBJECT_PREFIX = "Subject:"
# Template names become file paths: keep them to plain identifiers.
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A rendered notification: ``subject`` for e-mail, ``text`` is the body (all an SMS sends)."""

    subject: str
    text: str


def notification_templates() -> list[str]:
    """The names of the notification templates that exist in every locale, sorted."""
    folder = template_root() / "notify"
    per_locale = [
        {path.name.removesuffix(f".{locale}.txt") for path in folder.glob(f"*.{locale}.txt")}
        for locale in LOCALES
    ]
    return sorted(set.intersection(*per_locale))


_AMOUNTS = frozenset({"amount", "principal", "fee"})
_DATES = frozenset({"deadline", "expires", "due_date", "maturity"})


def _amount(value: object) -> object:
    """A yuan amount however the workflow wrote it ('12,345.60') as '¥12,345.60'."""
    try:
        return money(Decimal(str(value).replace(",", "").replace("¥", "")))
    except (InvalidOperation, ValueError):
        return value


def _day(value: object, locale: Locale) -> object:
    """An ISO date as people write it: 2026年12月15日 in Chinese, ISO in English."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return value
    return date_zh(day) if locale == "zh" else day.isoformat()


def _words(value: object, vocabulary: Vocabulary, locale: Locale) -> list[str]:
    """Codes in a list (or a 、- or comma-joined text) as labels; people's words kept."""
    items = value if isinstance(value, list | tuple) else str(value).replace("、", ",").split(",")
    words = [str(item).strip() for item in items if str(item).strip()]
    return [label(vocabulary, w, locale) if CODE_PATTERN.fullmatch(w) else w for w in words]


def _codes(value: object, vocabulary: Vocabulary, locale: Locale) -> str:
    return ("、" if locale == "zh" else ", ").join(_words(value, vocabulary, locale))


def humane_context(context: Mapping[str, object], locale: Locale) -> dict[str, object]:
    """The facts a workflow passes, as a person reads them: ¥ amounts, dates, and labels for
    reason codes, materials and documents (a person's own words are kept)."""
    shown: dict[str, object] = dict(context)
    for key, value in context.items():
        if key in _AMOUNTS:
            shown[key] = _amount(value)
        elif key in _DATES:
            shown[key] = _day(value, locale)
        elif key == "reason":
            shown[key] = reasons_text(str(value), locale)
        elif key == "materials":
            shown[key] = _codes(value, Vocabulary.MATERIAL, locale)
        elif key == "missing":
            shown[key] = _words(value, Vocabulary.DOCUMENT_KIND, locale)
    return shown


def render_notification(
    template: str, locale: Locale, context: Mapping[str, object]
) -> RenderedMessage:
    """Render a notification; its first line ``Subject: ...`` is the subject, the rest the body.

    Raises ``LookupError`` for an unknown template or locale, ``jinja2.UndefinedError`` when
    the context lacks a variable the template uses, and ``ValueError`` for a malformed template.
    """
    if locale not in LOCALES:
        raise LookupError(f"unknown notification locale {locale!r}; expected one of {LOCALES}")
    if not _TEMPLATE_NAME.fullmatch(template):
        raise LookupError(f"unknown notification template {template!r}")
    path = f"notify/{template}.{locale}.txt"
    try:
        compiled = shared_environment().get_template(path)
    except jinja2.TemplateNotFound:
        raise LookupError(
            f"unknown notification template {template!r} (no templates/{path}); "
            f"known: {', '.join(notification_templates())}"
        ) from None
    first_line, _, body = compiled.render(humane_context(context, locale)).partition("\n")
    if not first_line.startswith(_SUBJECT_PREFIX):
        raise ValueError(f"templates/{path} must start with a '{_SUBJECT_PREFIX} ...' line")
    subject = first_line.removeprefix(_SUBJECT_PREFIX).strip()
    text = body.strip()
    if not subject or not text:
        raise ValueError(f"templates/{path} rendered an empty subject or body")
    return RenderedMessage(subject=subject, text=text)
