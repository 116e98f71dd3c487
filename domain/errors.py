"""Business-rule violations as field-level issues with a machine code and bilingual messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One problem with one input field: where, what (machine code) and why (zh + en)."""

    field: str
    code: str
    message_zh: str
    message_en: str


@dataclass(slots=True)
class BusinessRuleError(Exception):
    """Raised by domain code when input breaks a rule; carries every field issue found."""

    issues: list[FieldIssue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{i.field}: {i.code}" for i in self.issues)


def issue(field_name: str, code: str, zh: str, en: str) -> FieldIssue:
    """Shorthand constructor used by validators."""
    return FieldIssue(field=field_name, code=code, message_zh=zh, message_en=en)
