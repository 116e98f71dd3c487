"""Support policies: size classes, applicability with reasons, and capped interest subsidies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.matching import EnterpriseProfile
from domain.policies import (
    EnterpriseSize,
    SupportPolicy,
    interest_subsidy,
    policy_applies,
    policy_checks,
    size_of,
    validate_policy,
)
from domain.products import CreditGrade

D = Decimal
TODAY = date(2025, 6, 20)
POLICY = SupportPolicy(
    policy_id="FJ-2025-01",
    title="福建省小微企业贷款贴息",
    issuer="福建省财政厅",
    regions=frozenset({"35"}),
    industries=frozenset({"C", "I"}),
    sizes=frozenset({EnterpriseSize.MICRO, EnterpriseSize.SMALL}),
    interest_subsidy_rate=D("0.40"),
    subsidy_cap_per_year=D("500000"),
    guarantee_fee_subsidy_rate=D("0.5"),
    valid_from=date(2025, 1, 1),
    valid_until=date(2025, 12, 31),
)
ENTERPRISE = EnterpriseProfile(
    industry="C",
    region="350102",
    founding_date=date(2020, 1, 1),
    annual_revenue=D("5000000"),
    credit_grade=CreditGrade.B,
    has_collateral=False,
    has_guarantor=False,
)


@pytest.mark.parametrize(
    ("revenue", "employees", "size"),
    [
        ("2999999.99", 50, EnterpriseSize.MICRO),
        ("3000000", 20, EnterpriseSize.SMALL),
        ("3000000", 19, EnterpriseSize.MICRO),
        ("19999999.99", 500, EnterpriseSize.SMALL),
        ("20000000", 300, EnterpriseSize.MEDIUM),
        ("20000000", 299, EnterpriseSize.SMALL),
        ("399999999.99", 5000, EnterpriseSize.MEDIUM),
        ("400000000", 999, EnterpriseSize.MEDIUM),
        ("400000000", 1000, None),
        ("2000000", None, EnterpriseSize.MICRO),
        ("3000000", None, EnterpriseSize.SMALL),
        ("20000000", None, EnterpriseSize.MEDIUM),
        ("400000000", None, None),
    ],
)
def test_size_thresholds(revenue: str, employees: int | None, size: EnterpriseSize | None) -> None:
    assert size_of(D(revenue), employees) is size


def test_policy_applies_to_a_matching_enterprise() -> None:
    assert policy_applies(POLICY, ENTERPRISE, EnterpriseSize.SMALL, TODAY)
    assert all(
        c.passed and c.reason_zh and c.reason_en
        for c in policy_checks(POLICY, ENTERPRISE, EnterpriseSize.SMALL, TODAY)
    )


@pytest.mark.parametrize(
    ("condition", "policy_changes", "enterprise_changes", "size", "today"),
    [
        ("valid", {}, {}, EnterpriseSize.SMALL, date(2024, 12, 31)),
        ("valid", {}, {}, EnterpriseSize.SMALL, date(2026, 1, 1)),
        ("region", {}, {"region": "440305"}, EnterpriseSize.SMALL, TODAY),
        ("region", {"regions": frozenset({"350103"})}, {}, EnterpriseSize.SMALL, TODAY),
        ("industry", {}, {"industry": "F"}, EnterpriseSize.SMALL, TODAY),
        ("size", {}, {}, EnterpriseSize.MEDIUM, TODAY),
        ("size", {}, {}, None, TODAY),
    ],
)
def test_each_policy_condition_can_fail(
    condition: str,
    policy_changes: dict[str, Any],
    enterprise_changes: dict[str, Any],
    size: EnterpriseSize | None,
    today: date,
) -> None:
    policy = replace(POLICY, **policy_changes)
    enterprise = replace(ENTERPRISE, **enterprise_changes)
    checks = policy_checks(policy, enterprise, size, today)
    assert [c.condition for c in checks if not c.passed] == [condition]
    assert not policy_applies(policy, enterprise, size, today)


def test_unrestricted_policy_applies_to_everyone_in_force() -> None:
    policy = replace(POLICY, regions=frozenset(), industries=frozenset(), sizes=frozenset())
    enterprise = replace(ENTERPRISE, region="440305", industry="F")
    assert policy_applies(policy, enterprise, None, TODAY)
    assert policy_applies(replace(policy, valid_until=None), enterprise, None, date(2040, 1, 1))


def test_interest_subsidy_is_capped_per_year() -> None:
    # 40 % of the interest up to ¥500,000 a year.
    assert interest_subsidy(POLICY, [D("100000"), D("2000000"), D("0")]) == D("540000.00")
    assert interest_subsidy(POLICY, [D("1250000")]) == D("500000.00")  # exactly at the cap
    assert interest_subsidy(POLICY, [D("1234.56")]) == D("493.82")  # rounded to the fen
    assert interest_subsidy(replace(POLICY, subsidy_cap_per_year=None), [D("2e6")]) == D(
        "800000.00"
    )
    assert interest_subsidy(POLICY, []) == D("0")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"interest_subsidy_rate": D("1.1")}, "interest_subsidy_rate"),
        ({"guarantee_fee_subsidy_rate": D("-0.1")}, "guarantee_fee_subsidy_rate"),
        ({"subsidy_cap_per_year": D("0")}, "subsidy_cap_per_year"),
        ({"regions": frozenset({"00"})}, "regions"),
        ({"industries": frozenset({"Z"})}, "industries"),
        ({"valid_until": date(2024, 1, 1)}, "valid_until"),
    ],
)
def test_policy_validation(changes: dict[str, Any], field: str) -> None:
    assert validate_policy(POLICY) == []
    assert [i.field for i in validate_policy(replace(POLICY, **changes))] == [field]
