"""Notification texts: every template renders in both locales, carries no personal numbers."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from documents.environment import template_root
from documents.notifications import (
    LOCALES,
    Locale,
    RenderedMessage,
    notification_templates,
    render_notification,
)
from domain.onboarding import rejection_guidance

SAMPLE_CONTEXTS: dict[str, dict[str, object]] = {
    "otp_code": {"code": "482913", "minutes": 5},
    "signing_code": {"code": "482913", "minutes": 10, "document_tail": "9f3a1c"},
    "registration_received": {"enterprise_name": "杭州云桥科技有限公司"},
    "application_in_review": {"enterprise_name": "杭州云桥科技有限公司"},
    "application_declined": {"enterprise_name": "杭州云桥科技有限公司", "reason": "征信逾期"},
    "application_offered": {
        "enterprise_name": "杭州云桥科技有限公司",
        "amount": "500,000.00",
        "rate": "3.95%",
        "expires": "2026-12-05",
    },
    "loan_disbursed": {
        "enterprise_name": "杭州云桥科技有限公司",
        "amount": "497,500.00",
        "account_tail": "6789",
    },
    "policy_published": {
        "enterprise_name": "杭州云桥科技有限公司",
        "title": "小微企业贷款贴息",
        "issuer": "杭州市财政局",
    },
    "verification_in_review": {"enterprise_name": "杭州云桥科技有限公司"},
    "verification_approved": {"enterprise_name": "杭州云桥科技有限公司"},
    "verification_rejected": {
        "enterprise_name": "杭州云桥科技有限公司",
        "reason": "营业执照已过期",
    },
    "documents_missing": {
        "enterprise_name": "杭州云桥科技有限公司",
        "missing": ["营业执照", "法定代表人授权书"],
    },
    "application_materials_requested": {
        "enterprise_name": "杭州云桥科技有限公司",
        "materials": "最近一期财务报表",
        "deadline": "2026-12-12",
    },
    "application_information_requested": {
        "enterprise_name": "杭州云桥科技有限公司",
        "question": "请说明近三个月营收下降的原因",
        "deadline": "2026-12-12",
    },
    "application_counter_offered": {
        "enterprise_name": "杭州云桥科技有限公司",
        "amount": "400,000.00",
        "term": "24",
        "rate": "4.35%",
        "apr": "4.44%",
        "expires": "2026-12-05",
    },
    "application_escalated": {"enterprise_name": "杭州云桥科技有限公司"},
    "application_disbursement_failed": {
        "enterprise_name": "杭州云桥科技有限公司",
        "failure_code": "ACCOUNT_FROZEN",
    },
    "repayment_reminder": {
        "enterprise_name": "杭州云桥科技有限公司",
        "number": "3",
        "due_date": "2027-03-01",
        "amount": "8,606.64",
    },
    "repayment_received": {"enterprise_name": "杭州云桥科技有限公司", "amount": "8,606.64"},
    "repayment_overdue": {
        "enterprise_name": "杭州云桥科技有限公司",
        "days": "7",
        "amount": "8,606.64",
    },
    "prepayment_received": {"enterprise_name": "杭州云桥科技有限公司", "amount": "50,000.00"},
    "loan_settled": {"enterprise_name": "杭州云桥科技有限公司"},
    "extension_approved": {"enterprise_name": "杭州云桥科技有限公司", "maturity": "2028-06-01"},
    "extension_declined": {"enterprise_name": "杭州云桥科技有限公司", "reason": "经营现金流不足"},
}
SIGNATURES: dict[Locale, str] = {"zh": "【LoanBridge】", "en": "[LoanBridge]"}
# A mainland mobile number has 11 digits, an ID number 18: no template may hold such a run.
LONG_DIGIT_RUN = re.compile(r"\d{11,}")


def test_the_expected_templates_exist_in_every_locale() -> None:
    assert notification_templates() == sorted(SAMPLE_CONTEXTS)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", sorted(SAMPLE_CONTEXTS))
def test_template_renders_a_signed_subject_and_body(template: str, locale: Locale) -> None:
    message = render_notification(template, locale, SAMPLE_CONTEXTS[template])
    assert isinstance(message, RenderedMessage)
    assert message.subject
    assert message.text
    assert "\n" not in message.subject
    assert not message.text.startswith("Subject:")
    assert SIGNATURES[locale] in message.text
    assert not LONG_DIGIT_RUN.search(message.subject + message.text)


@pytest.mark.parametrize(
    "path", sorted((template_root() / "notify").glob("*.txt")), ids=lambda path: path.name
)
def test_template_source_holds_no_long_digit_run(path: Path) -> None:
    assert not LONG_DIGIT_RUN.search(path.read_text("utf-8"))


def test_context_values_appear_in_the_body() -> None:
    message = render_notification("otp_code", "zh", {"code": "482913", "minutes": 5})
    assert "482913" in message.text
    assert "5 分钟" in message.text


def test_missing_documents_are_listed_in_locale_style() -> None:
    context = SAMPLE_CONTEXTS["documents_missing"]
    assert (
        "营业执照、法定代表人授权书" in render_notification("documents_missing", "zh", context).text
    )
    assert (
        "营业执照, 法定代表人授权书" in render_notification("documents_missing", "en", context).text
    )


def test_rejection_reason_is_shown() -> None:
    context = SAMPLE_CONTEXTS["verification_rejected"]
    assert "营业执照已过期" in render_notification("verification_rejected", "zh", context).text


def test_rejection_says_what_to_correct_and_how_to_resubmit() -> None:
    guidance = rejection_guidance("identity.mismatch")
    context = {
        **SAMPLE_CONTEXTS["verification_rejected"],
        "guidance_zh": guidance.message_zh,
        "guidance_en": guidance.message_en,
    }
    zh = render_notification("verification_rejected", "zh", context).text
    en = render_notification("verification_rejected", "en", context).text
    assert "身份证号码" in zh and "重新提交" in zh and "onboarding resubmit" in zh
    assert "ID number" in en and "resubmit" in en


def test_decline_says_the_applicant_may_apply_again() -> None:
    context = SAMPLE_CONTEXTS["application_declined"]
    assert "新的申请" in render_notification("application_declined", "zh", context).text
    assert "new application" in render_notification("application_declined", "en", context).text


@pytest.mark.parametrize("template", ["no_such_template", "../pdf/base", "OTP_CODE", ""])
def test_unknown_template_raises_lookup_error(template: str) -> None:
    with pytest.raises(LookupError, match="unknown notification template"):
        render_notification(template, "zh", {})


def test_unknown_locale_raises_lookup_error() -> None:
    with pytest.raises(LookupError, match="locale"):
        render_notification("otp_code", "fr", {"code": "1", "minutes": 5})  # type: ignore[arg-type]


def test_missing_context_variable_raises() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render_notification("otp_code", "en", {"code": "482913"})
