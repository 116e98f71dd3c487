"""The label catalogue: every code the platform can produce has a Chinese and an English
label, the catalogues agree, unknown codes are caught, and an edited catalogue is recompiled."""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import get_args

import pytest

import domain.labels as labels
from audit.timeline import TimelineEntry
from credit_model.features import FEATURE_LABELS, FEATURES
from credit_model.pipeline import CHALLENGER_GRID, SCORECARD_GRID
from domain.classification import RiskCategory
from domain.credit_decision import ApprovalAuthority, Decision
from domain.decision_chain import BreakKind
from domain.disclosure import AMOUNT_BANDS, ConsentScope
from domain.early_warning import Signal
from domain.labels import Vocabulary, codes, known, label, period_label, reasons_text
from domain.monitoring import AlertState, Severity
from domain.monitoring import Rule as AlertRule
from domain.onboarding import INDUSTRY_SECTIONS, PROVINCE_PREFIXES, DocumentKind, NextStep, Verdict
from domain.origination import LOAN_NOT_DISBURSED, Material
from domain.policies import EnterpriseSize
from domain.products import FinancingType, LprTenor, ProductFamily
from domain.reports import DECISION_BUCKETS, ReportKind
from domain.roles import Role
from domain.schedule import Frequency, PrepaymentStrategy, RepaymentMethod
from domain.scorecard import ScoringInput, factor_points
from domain.servicing import InstallmentStatus, LoanStatus
from workflows.activity_stubs import STUBS
from workflows.contracts import CreditAction, WorkflowType

ENUMS: list[tuple[Vocabulary, type[StrEnum]]] = [
    (Vocabulary.ROLE, Role),
    (Vocabulary.RISK_CATEGORY, RiskCategory),
    (Vocabulary.PRODUCT_FAMILY, ProductFamily),
    (Vocabulary.FINANCING_TYPE, FinancingType),
    (Vocabulary.LPR_TENOR, LprTenor),
    (Vocabulary.REPAYMENT_METHOD, RepaymentMethod),
    (Vocabulary.PREPAYMENT_STRATEGY, PrepaymentStrategy),
    (Vocabulary.FREQUENCY, Frequency),
    (Vocabulary.MATERIAL, Material),
    (Vocabulary.DOCUMENT_KIND, DocumentKind),
    (Vocabulary.DOCUMENT_KIND, Material),
    (Vocabulary.LOAN_STATUS, LoanStatus),
    (Vocabulary.INSTALLMENT_STATUS, InstallmentStatus),
    (Vocabulary.ALERT_RULE, AlertRule),
    (Vocabulary.SEVERITY, Severity),
    (Vocabulary.ALERT_STATE, AlertState),
    (Vocabulary.REPORT_KIND, ReportKind),
    (Vocabulary.REPORT_PERIOD, ReportKind),
    (Vocabulary.ENTERPRISE_SIZE, EnterpriseSize),
    (Vocabulary.EARLY_WARNING, Signal),
    (Vocabulary.CREDIT_DECISION, Decision),
    (Vocabulary.AUTHORITY, ApprovalAuthority),
    (Vocabulary.CREDIT_ACTION, CreditAction),
    (Vocabulary.WORKFLOW_TYPE, WorkflowType),
    (Vocabulary.VERDICT, Verdict),
    (Vocabulary.NEXT_STEP, NextStep),
    (Vocabulary.BREAK_KIND, BreakKind),
    (Vocabulary.CONSENT, ConsentScope),
]


def _unlabelled(vocabulary: str, values: list[str]) -> list[str]:
    return [value for value in values if not known(vocabulary, value)]


@pytest.mark.parametrize(("vocabulary", "enum"), ENUMS, ids=lambda v: getattr(v, "__name__", v))
def test_every_enum_value_has_a_label(vocabulary: Vocabulary, enum: type[StrEnum]) -> None:
    assert _unlabelled(vocabulary, [member.value for member in enum]) == []


def test_codes_outside_enums_have_labels() -> None:
    assert known(Vocabulary.LOAN_STATUS, LOAN_NOT_DISBURSED)
    assert label(Vocabulary.LOAN_STATUS, LOAN_NOT_DISBURSED, "zh") == "未放款"
    assert _unlabelled(Vocabulary.INDUSTRY, list(INDUSTRY_SECTIONS)) == []
    assert _unlabelled(Vocabulary.REGION, sorted(PROVINCE_PREFIXES)) == []
    assert _unlabelled(Vocabulary.DECISION_BUCKET, [b for b, _ in DECISION_BUCKETS]) == []
    assert _unlabelled(Vocabulary.ENTERPRISE_SIZE, ["large"]) == []
    assert _unlabelled(Vocabulary.AMOUNT_BAND, list(AMOUNT_BANDS)) == []
    assert _unlabelled(Vocabulary.CONSENT, ["required", "anonymous"]) == []
    assert _unlabelled(Vocabulary.TIMELINE_EVENT, sorted(_steps_of_workflows())) == []
    assert _unlabelled(Vocabulary.MODEL_FEATURE, list(FEATURES)) == []
    parameters = {
        name for grid in (SCORECARD_GRID, CHALLENGER_GRID) for p in grid for name in asdict(p)
    }
    assert _unlabelled(Vocabulary.MODEL_PARAMETER, sorted(parameters)) == []
    sources = get_args(TimelineEntry.model_fields["source"].annotation)
    assert len(sources) == 4 and _unlabelled(Vocabulary.TIMELINE_SOURCE, list(sources)) == []


def _steps_of_workflows() -> set[str]:
    """The activities of the workflows' typed table and the Updates of every workflow (what a
    timeline names)."""
    steps: set[str] = {activity.name for activity in STUBS}
    for source in Path("workflows").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        steps |= set(re.findall(r"@workflow\.update(?:\([^)]*\))?\s+async def ([a-z_]+)", text))
    assert len(steps) > 40
    return steps


def _scoring(**changes: object) -> ScoringInput:
    base: dict[str, object] = {
        "enterprise_age_months": 3,
        "annual_revenue": Decimal("100000"),
        "revenue_growth": Decimal("-0.5"),
        "profit_margin": Decimal("-0.1"),
        "tax_grade": "D",
        "bureau_score": 400,
        "overdue_count_24m": 5,
        "current_overdue": True,
        "outstanding_debt": Decimal("900000"),
        "requested_amount": Decimal("1000000"),
        "industry": "K",
    }
    return ScoringInput(**{**base, **changes})  # type: ignore[arg-type]


def test_every_reason_the_scorecards_give_has_a_label() -> None:
    inputs = [
        _scoring(),
        _scoring(revenue_growth=None, profit_margin=None, tax_grade=None, bureau_score=None),
        _scoring(tax_grade="M"),
    ]
    rule_based = sorted({part.reason_code for inp in inputs for part in factor_points(inp)})
    assert len(rule_based) >= 15
    model = [f"model.{feature}" for feature in FEATURE_LABELS]
    assert _unlabelled(Vocabulary.REASON, rule_based + model) == []
    assert label(Vocabulary.REASON, "model.request_to_revenue", "zh") == "申请金额相对营业收入偏高"


def test_every_reason_of_an_automatic_decision_has_a_label() -> None:
    source = Path("domain/credit_decision.py").read_text(encoding="utf-8")
    appended = re.findall(r'(?:reasons|refer)\.append\("([a-z_.]+)"\)', source)
    assert len(appended) >= 10
    assert _unlabelled(Vocabulary.REASON, [*appended, "auto.small_clean_case"]) == []


def test_both_languages_label_the_same_codes_and_no_label_is_its_code() -> None:
    zh, en = labels._table("zh"), labels._table("en")
    assert set(zh) == set(en)
    for key, text in {**zh, **en}.items():
        assert text.strip(), key
    raw = [key for key, text in zh.items() if text == key[1] and key[0] != "lpr_tenor"]
    assert raw == []
    used = {vocabulary for vocabulary, _ in zh}
    assert used == {v.value for v in Vocabulary}


def test_regions_name_the_whole_path_and_fall_back_to_the_known_division() -> None:
    assert label(Vocabulary.REGION, "310115", "zh") == "上海市浦东新区"
    assert label(Vocabulary.REGION, "310115", "en") == "Pudong New Area, Shanghai"
    assert label(Vocabulary.REGION, "440300", "zh") == "广东省深圳市"
    assert label(Vocabulary.REGION, "44", "en") == "Guangdong"
    assert label(Vocabulary.REGION, "440399", "zh") == "广东省深圳市"  # not in GB/T 2260
    assert len(codes(Vocabulary.REGION)) > 3000


def test_an_unknown_code_is_shown_as_is_and_recorded() -> None:
    labels.clear_misses()
    assert label(Vocabulary.APPLICATION_STAGE, "teleported", "en") == "teleported"
    assert labels.misses() == {("application_stage", "teleported")}
    assert not known(Vocabulary.APPLICATION_STAGE, "teleported")
    labels.clear_misses()


def test_reasons_are_labelled_and_a_persons_words_are_kept() -> None:
    both = "amount.above_auto_limit,grade.needs_review"
    assert reasons_text(both, "zh") == "金额超过自动审批上限；信用等级需人工审核"
    assert reasons_text(both, "en") == (
        "Amount above the automatic-approval limit; Credit grade needs a review"
    )
    assert reasons_text("经营流水不足, 无法覆盖月供", "zh") == "经营流水不足, 无法覆盖月供"
    assert reasons_text("", "zh") == ""
    materials = "financial_statements,bank_statements"
    assert reasons_text(materials, "zh", Vocabulary.MATERIAL) == (
        f"{label(Vocabulary.MATERIAL, 'financial_statements', 'zh')}；"
        f"{label(Vocabulary.MATERIAL, 'bank_statements', 'zh')}"
    )
    assert reasons_text("all_checks_passed", "en") == "All checks passed"
    assert reasons_text("paid, thanks", "en") == "paid, thanks"


def test_report_periods_read_as_people_say_them() -> None:
    assert period_label("monthly", date(2026, 10, 1), "zh") == "2026年10月"
    assert period_label("monthly", date(2026, 10, 1), "en") == "October 2026"
    assert period_label("quarterly", date(2026, 10, 1), "zh") == "2026年第4季度"
    assert period_label("quarterly", date(2026, 10, 1), "en") == "Q4 2026"


def test_an_edited_catalogue_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("labels", "regions"):
        for lang in ("zh", "en"):
            shutil.copy(labels.CATALOGUE_DIR / f"{name}.{lang}.po", tmp_path / f"{name}.{lang}.po")
    monkeypatch.setattr(labels, "CATALOGUE_DIR", tmp_path)
    labels._table.cache_clear()
    try:
        assert labels._table("zh")[("role", "officer")] == "信贷审批员"
        po = tmp_path / "labels.zh.po"
        po.write_text(
            po.read_text(encoding="utf-8").replace('msgstr "信贷审批员"', 'msgstr "审批员"'),
            encoding="utf-8",
        )
        labels._table.cache_clear()
        assert labels._table("zh")[("role", "officer")] == "审批员"
        assert len(list((tmp_path / ".compiled").glob("labels.zh.*.mo"))) == 1
    finally:
        labels._table.cache_clear()
