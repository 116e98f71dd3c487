"""No raw machine code in what a borrower or a regulator reads: every PDF template and every
notification template, rendered from data shaped as production passes it (codes, ISO dates,
plain amounts), shows labels, ¥ amounts and dates — and a new template fails here until it
is covered."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import domain.labels as labels
from audit.service import AuditStory, WorkflowTimeline
from audit.timeline import TimelineEntry
from credit_model.demo_version import DEMO_VERSION
from documents.environment import template_root
from documents.loan_documents import (
    AcceptanceView,
    StatementTransaction,
    document_sha256,
    render_contract_addendum,
    render_loan_contract,
    render_loan_statement,
    render_offer_letter,
    render_settlement_certificate,
)
from documents.notifications import LOCALES, Locale, notification_templates, render_notification
from documents.pdf import render_pdf
from documents.reports import ReportMeta, report_pdf
from domain.reports import compute
from services.audit import render_story_pdf
from tests.raw_codes import find_raw_codes, pdf_text
from tests.support import PROJECT_ROOT
from tests.unit.documents.test_loan_documents import (
    EXTENSION,
    SETTLEMENT,
    STATEMENT,
    TERMS_12,
)
from tests.unit.documents.test_pdf import CERTIFICATE_CONTEXT
from tests.unit.documents.test_report_documents import ROWS

DISBURSED_ON = date(2026, 12, 15)
OFFICER = uuid.UUID("0b3e6a4c-5a8e-4a1f-9d51-2f3c1e0a9b77")


def _statement_as_posted() -> bytes:
    """A statement with the transactions as the loan workflow posts them (kinds are codes)."""
    transactions = (
        StatementTransaction(DISBURSED_ON, "disbursement", Decimal("9900.00")),
        StatementTransaction(date(2027, 1, 15), "auto_debit", Decimal("860.66")),
        StatementTransaction(
            date(2027, 3, 1), "prepayment", Decimal("2000.00"), "reduce_installment_count"
        ),
        StatementTransaction(
            date(2027, 4, 1), "extended", Decimal("0.00"), f"+6 months by user:{OFFICER}"
        ),
        StatementTransaction(date(2027, 4, 15), "repayment", Decimal("412.50")),
    )
    return render_loan_statement(replace(STATEMENT, transactions=transactions))


def _comparison() -> bytes:
    quote = {
        "institution_name": "工商银行深圳分行",
        "product_name": "科创贷",
        "institution_interested": None,
        "apr": Decimal("0.0480"),
        "rate": Decimal("0.0435"),
        "method": "equal_installment",
        "first_installment": Decimal("8606.64"),
        "total_interest": Decimal("12345.67"),
        "total_fees": Decimal("500.00"),
        "subsidy": Decimal("1000.00"),
        "net_cost": Decimal("11845.67"),
        "response_sla_hours": 48,
    }
    demand = {"amount": Decimal("800000.00"), "term_months": 24, "purpose": "采购原材料"}
    return render_pdf(
        "offer_comparison",
        {
            "enterprise_name": "杭州云桥科技有限公司",
            "demand": demand,
            "quotes": [quote],
            "generated_on": date(2026, 12, 7),
        },
    )


def _report() -> bytes:
    figures = compute(ROWS)
    meta = ReportMeta(
        version=1,
        generated_at="2026-11-01T00:30:00+08:00",
        generated_by=f"user:{OFFICER}",
        sha256="ab" * 32,
        generated_by_name="合规审计员（合规审计员）",
    )
    return report_pdf(figures, meta)


def _contract() -> bytes:
    offer = render_offer_letter(TERMS_12)
    acceptance = AcceptanceView(
        typed_name="张三",
        accepted_at=datetime(2026, 11, 29, 10, 15, 3, tzinfo=timezone(timedelta(hours=8))),
        offer_sha256=document_sha256(offer),
        masked_account="6222 **** **** 1234",
    )
    return render_loan_contract(TERMS_12, acceptance)


APPLICATION = "application-3594b5c8-2754-5b3c-923e-d5933457ba2c"
LOAN = "loan-1efe3c52-e5b9-4dac-9196-3a4a00092d58"
AT = datetime(2026, 12, 7, 14, 41, 45, tzinfo=UTC)


def _entry(minute: int, **fields: object) -> TimelineEntry:
    """An entry as the audit service records it: its payload also summarised as recorded."""
    inputs = fields.get("inputs")
    summary = (
        ", ".join(f"{k}={v}" for k, v in inputs.items())
        if isinstance(inputs, dict) and not inputs.get("withheld")
        else ""
    )
    base: dict[str, object] = {
        "summary": summary,
        "at": AT + timedelta(minutes=minute),
        "workflow_id": APPLICATION,
        "category": "activity",
        "name": "assess_application",
        "title_zh": "信用评估",
        "title_en": "credit assessment",
        "actor": "system",
        "outcome": "completed",
    }
    return TimelineEntry.model_validate({**base, **fields})


def _audit_timeline() -> bytes:
    """Compliance's export of an application and its loan, as the audit service builds it:
    decoded payloads with ids and keys, a person's decision, a retried failure, a task."""
    application = WorkflowTimeline(
        workflow_id=APPLICATION,
        workflow_type="LoanApplicationWorkflow",
        title_zh="贷款申请",
        title_en="loan application",
        status="completed",
        started_at=AT,
        closed_at=AT + timedelta(hours=1),
        parent_workflow_id=None,
        runs=["01a250f4-1cae-7f3f-9b5f-6fb49a28540f"],
        children=[LOAN],
        entries=[
            _entry(
                0,
                category="workflow",
                name="LoanApplicationWorkflow",
                outcome="started",
                title_zh="贷款申请开始",
                title_en="loan application started",
                inputs={
                    "application_id": APPLICATION[12:],
                    "amount": "300000.00",
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                },
            ),
            _entry(
                1,
                category="status",
                name="status",
                outcome="recorded",
                title_zh="状态 → 人工审批中",
                title_en="status → In review",
            ),
            _entry(
                2,
                source="decision_log",
                category="decision",
                name="credit.decided",
                title_zh="决策记录：授信审批",
                title_en="decision logged: credit decided",
                actor="icbc-sz-officer (officer)",
                actor_role="officer",
                outcome="logged",
                inputs={
                    "decision": "approve",
                    "amount": "250000.00",
                    "rate": "0.0420",
                    "reason": "amount.above_auto_limit",
                    "authority": "officer",
                    "decider_id": str(OFFICER),
                    "key": f"{APPLICATION}-decided",
                },
            ),
            _entry(
                3,
                source="human_task",
                category="task",
                name="credit_approval",
                title_zh="授信审批任务",
                title_en="credit approval task",
                actor="icbc-sz-officer (officer)",
                actor_role="officer",
                outcome="approved",
            ),
            _entry(
                4,
                name="disburse_loan",
                title_zh="放款",
                title_en="disbursement",
                outcome="failed",
                attempts=3,
                failure={
                    "types": ["ActivityError", "ApplicationError"],
                    "message": "core banking unavailable",
                },
                inputs={
                    "withheld": True,
                    "reason_zh": "载荷无法解密（密钥不可用）",
                    "reason_en": "payload could not be decrypted (key not available)",
                },
            ),
        ],
    )
    loan = WorkflowTimeline(
        workflow_id=LOAN,
        workflow_type="LoanServicingWorkflow",
        title_zh="贷后管理",
        title_en="loan servicing",
        status="running",
        started_at=AT + timedelta(hours=1),
        closed_at=None,
        parent_workflow_id=APPLICATION,
        depth=1,
        runs=["01a250f4-2d22-7063-8cf2-58ea1c9f32f7"],
        children=[],
        entries=[
            _entry(
                70,
                workflow_id=LOAN,
                source="loan_transaction",
                category="money",
                name="repayment",
                title_zh="还款入账",
                title_en="repayment posted",
                actor="demo-verified (applicant)",
                actor_role="applicant",
                outcome="posted",
                inputs={
                    "kind": "repayment",
                    "amount": "1000.00",
                    "key": f"pay-{LOAN[5:]}-m-demo-app-1-pay",
                },
            ),
        ],
    )
    story = AuditStory(
        root=APPLICATION,
        revealed=True,
        generated_at=AT + timedelta(days=1),
        generated_by=f"user:{OFFICER}",
        generated_role="compliance",
        workflows=[application, loan],
    )
    return render_story_pdf(story, "合规审计员")


# A 1×1 PNG: the plots are pictures, not text a person reads.
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    "AAAABJRU5ErkJggg=="
)
DEMO_MODEL = PROJECT_ROOT / "credit_model" / "demo_model"


def _model_report() -> bytes:
    """The demo model's report, from its committed metrics and scorecard (what the training
    pipeline hands the template)."""
    context = {
        "version": DEMO_VERSION,
        "m": json.loads((DEMO_MODEL / "metrics.json").read_text()),
        "images": {"roc": PIXEL, "ks": PIXEL, "calibration": PIXEL},
        "scorecard": json.loads((DEMO_MODEL / "scorecard.json").read_text()),
    }
    return render_pdf("model_report", context)


PDFS = {
    "offer_letter": lambda: render_offer_letter(TERMS_12),
    "loan_contract": _contract,
    "contract_addendum": lambda: render_contract_addendum(EXTENSION),
    "settlement_certificate": lambda: render_settlement_certificate(SETTLEMENT),
    "loan_statement": _statement_as_posted,
    "regulatory_report": _report,
    "verification_certificate": lambda: render_pdf("verification_certificate", CERTIFICATE_CONTEXT),
    "offer_comparison": _comparison,
    "audit_timeline": _audit_timeline,
    "model_report": _model_report,
}
# Ids printed on purpose: the workflows an audit export is about (what `audit show` takes).
HANDLES = {"audit_timeline": frozenset({APPLICATION, LOAN})}


def test_every_pdf_template_is_covered() -> None:
    templates = {
        path.stem
        for path in (template_root() / "pdf").glob("*.html")
        if not path.stem.startswith("_") and path.stem != "base"
    }
    assert templates == set(PDFS)


@pytest.mark.parametrize("template", sorted(PDFS))
def test_a_pdf_shows_no_raw_code(template: str, tmp_path: Path) -> None:
    labels.clear_misses()
    text = pdf_text(PDFS[template](), tmp_path)
    assert text.strip()
    # Bilingual documents: English words are words here ("en" skips the status-word check).
    handles = HANDLES.get(template, frozenset())
    assert [str(f) for f in find_raw_codes(text, "en", handles=handles)] == []
    assert labels.misses() == frozenset()


# Contexts as the workflows pass them: codes, ISO dates, amounts formatted '12,345.00'.
PRODUCTION_CONTEXTS: dict[str, dict[str, object]] = {
    "otp_code": {"code": "482913", "minutes": 5},
    "signing_code": {"code": "482913", "minutes": 10, "document_tail": "9f3a1c"},
    "registration_received": {},
    "verification_in_review": {},
    "verification_approved": {},
    "verification_rejected": {"reason": "registry.revoked"},
    "documents_missing": {"missing": ["id_back", "business_licence"]},
    "application_in_review": {},
    "application_escalated": {},
    "application_declined": {"reason": "licence.revoked,bureau.current_overdue"},
    "application_materials_requested": {
        "materials": "financial_statements、bank_statements",
        "deadline": "2026-12-21",
    },
    "application_information_requested": {
        "question": "请说明近三个月营收下降的原因",
        "deadline": "2026-12-21",
    },
    "application_offered": {
        "amount": "500,000.00",
        "rate": "4.20%",
        "apr": "4.45%",
        "term": "12",
        "expires": "2026-12-14",
    },
    "application_counter_offered": {
        "amount": "250,000.00",
        "rate": "4.50%",
        "apr": "4.61%",
        "term": "12",
        "expires": "2026-12-14",
    },
    "application_disbursement_failed": {"failure_code": "ACCOUNT_FROZEN"},
    "loan_disbursed": {
        "amount": "497500.00",
        "principal": "500000.00",
        "fee": "2500.00",
        "account_tail": "3445",
        "loan_id": str(OFFICER),
    },
    "repayment_reminder": {"number": "3", "due_date": "2027-03-15", "amount": "8,606.64"},
    "repayment_received": {"amount": "8,606.64"},
    "repayment_overdue": {"days": "7", "amount": "8,610.12"},
    "prepayment_received": {"amount": "50,000.00"},
    "loan_settled": {},
    "extension_approved": {"maturity": "2028-06-01"},
    "extension_declined": {"reason": "经营现金流不足"},
    "policy_published": {"title": "小微企业贷款贴息", "issuer": "杭州市财政局"},
}


def test_every_notification_template_is_covered() -> None:
    assert set(notification_templates()) == set(PRODUCTION_CONTEXTS)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", sorted(PRODUCTION_CONTEXTS))
def test_a_notice_shows_no_raw_code(template: str, locale: Locale) -> None:
    labels.clear_misses()
    context = {"enterprise_name": "杭州云桥科技有限公司", **PRODUCTION_CONTEXTS[template]}
    message = render_notification(template, locale, context)
    text = f"{message.subject}\n{message.text}"
    assert [str(f) for f in find_raw_codes(text, locale)] == []
    assert labels.misses() == frozenset()


def test_the_disbursement_notice_names_what_arrived_and_where() -> None:
    context = {"enterprise_name": "杭州云桥科技有限公司", **PRODUCTION_CONTEXTS["loan_disbursed"]}
    text = render_notification("loan_disbursed", "zh", context).text
    assert "实际到账 ¥497,500.00" in text and "尾号 3445" in text and "¥2,500.00" in text


def test_a_planted_code_in_a_notice_is_caught() -> None:
    context = {"enterprise_name": "杭州云桥科技有限公司", "reason": "grade.teleported"}
    text = render_notification("application_declined", "zh", context).text
    assert [f.code for f in find_raw_codes(text, "zh")] == ["grade.teleported"]


def test_a_planted_code_in_a_pdf_is_caught(tmp_path: Path) -> None:
    planted = (StatementTransaction(DISBURSED_ON, "teleported_payment", Decimal("1.00")),)
    pdf = render_loan_statement(replace(STATEMENT, transactions=planted))
    found = [f.code for f in find_raw_codes(pdf_text(pdf, tmp_path), "en")]
    assert "teleported_payment" in found
    labels.clear_misses()
