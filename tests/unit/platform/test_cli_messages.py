"""``loanbridge messages list`` prints each notice's Chinese text and, when it was kept, its
English one, with the notice's name, Beijing time and the case it is about."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from api.schemas import NotificationOut
from cli.messages import _line


def _notice(**changes: object) -> NotificationOut:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "template": "verification_approved",
        "subject": "LoanBridge 企业认证已通过",
        "body": "【LoanBridge】测试企业已通过认证。",
        "subject_en": "LoanBridge verification approved",
        "body_en": "[LoanBridge] The enterprise has been verified.",
        "channels": ["in_app", "sms"],
        "created_at": datetime(2026, 12, 8, 1, 30, tzinfo=UTC),
        "read_at": None,
        "case_kind": "verification",
        "case_id": None,
    }
    return NotificationOut.model_validate(fields | changes)


def test_a_notice_reads_in_both_languages_in_beijing_time() -> None:
    line = _line(_notice())
    assert line.startswith("●")  # unread
    assert "2026-12-08 09:30" in line  # 01:30 UTC in Beijing
    assert "测试企业已通过认证" in line and "The enterprise has been verified." in line


def test_an_older_notice_without_english_prints_the_chinese_once() -> None:
    line = _line(_notice(subject_en=None, body_en=None, read_at=datetime.now(UTC)))
    assert line.startswith(" ")
    assert line.count("\n") == 2  # title, the Chinese text, the id
