"""Render SMS and e-mail texts from ``templates/notify/<template>.<locale>.txt``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import jinja2

from documents.environment import shared_environment, template_root

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
    first_line, _, body = compiled.render(context).partition("\n")
    if not first_line.startswith(_SUBJECT_PREFIX):
        raise ValueError(f"templates/{path} must start with a '{_SUBJECT_PREFIX} ...' line")
    subject = first_line.removeprefix(_SUBJECT_PREFIX).strip()
    text = body.strip()
    if not subject or not text:
        raise ValueError(f"templates/{path} rendered an empty subject or body")
    return RenderedMessage(subject=subject, text=text)
