"""What the workbench shows in place of ids and codes: a person's name and role in words, and a
case event's title (its details in words: ``audit.details``; the names behind ids are looked up
by ``services.subjects``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from audit.timeline import TimelineEntry
from domain.labels import Vocabulary, label
from services.subjects import Person


def actor_text(actor: str, known_people: Mapping[str, Person], lang: str) -> str:
    """'徐明娜（信贷审批员）' for a person, '系统' for the platform itself."""
    person = known_people.get(actor)
    if person is not None:
        role = label(Vocabulary.ROLE, person.role, lang)
        return f"{person.name} ({role})" if lang == "en" else f"{person.name}（{role}）"
    kind, _, detail = actor.partition(":")
    if kind == "model" and detail:  # an automatic decision: the model version decided
        return f"{label(Vocabulary.ROLE, 'credit_model', lang)} {detail}"
    if actor in ("system", "") or kind == "system":
        return label(Vocabulary.ROLE, "system", lang)
    return actor


_ROLE_SUFFIX = re.compile(r" \([a-z_]+\)$")


def audit_actor(entry: TimelineEntry, lang: str) -> str:
    """An audit timeline's actor (``username (role)`` as the audit API names people) with the
    role in words."""
    actor = entry.actor or ""
    if not entry.actor_role:
        return actor_text(actor, {}, lang)
    name = _ROLE_SUFFIX.sub("", actor)  # the account's role as the audit API appends it
    role = label(Vocabulary.ROLE, entry.actor_role, lang)
    return f"{name} ({role})" if lang == "en" else f"{name}（{role}）"


def event_title(kind: str, lang: str) -> str:
    """A case event: a decision-log kind, or ``task.<kind>.<opened|state>``."""
    if kind.startswith("task."):
        _, task_kind, what = kind.split(".", 2)
        happened = label(Vocabulary.OUTCOME, what, lang)
        separator = ": " if lang == "en" else "："
        return f"{label(Vocabulary.TASK_KIND, task_kind, lang)}{separator}{happened}"
    return label(Vocabulary.DECISION_KIND, kind, lang)


_FILE_KINDS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "text/csv": "CSV",
}


def file_kind(content_type: str) -> str:
    """An upload's type as people name it: PDF, JPEG, PNG, XLSX, CSV."""
    if content_type in _FILE_KINDS:
        return _FILE_KINDS[content_type]
    return content_type.rsplit("/", 1)[-1].upper() if content_type else "—"
