"""Platform exposure decides for real (issue 21): a loan at one bank and an offer at another turn
what would be an automatic approval at a third into a referral cut to the headroom, and five
simultaneous applications of one enterprise never get more approved automatically than the cap
allows (they are decided one after the other under the enterprise's lock)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx

from adapters.bureau.http import HttpCreditBureau
from adapters.bureau.protocol import CreditReport
from adapters.tax.http import HttpTaxDataProvider
from adapters.tax.protocol import TaxProfile
from db.models import LoanApplication
from db.repositories import latest_lpr, product_version
from domain.calendar import business_today
from domain.credit_decision import Decision, DecisionInput, decide
from domain.exposure import ABOVE_CAP, MULTIPLE_BORROWING
from domain.formats import money
from domain.product_codec import terms_from_json
from domain.products import CreditGrade
from domain.scorecard import ScoreResult, score
from domain.scoring_input import scoring_input
from services.exposure import application_exposure
from tests.integration.conftest import Platform
from tests.integration.material_files import uploaded
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import ACCOUNT, _progress_until
from tests.integration.test_demand_api import STAFF_PASSWORD, _lender, product_body
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess

FOUNDED, INDUSTRY, REGION = date(2015, 6, 1), "I", "310101"  # as registration_body registers
CAP_RATIO = Decimal("0.50")  # the default Settings.exposure_cap_ratio
GOOD = {CreditGrade.A, CreditGrade.B}


@dataclass(frozen=True)
class Candidate:
    """An enterprise the sandbox knows, with what the assessment will read of it."""

    uscc: str
    report: CreditReport
    tax: TaxProfile

    @property
    def revenue(self) -> Decimal:
        return self.tax.filings[-1].revenue

    def share(self, ratio: str) -> Decimal:
        """That share of its revenue, in whole yuan."""
        return (self.revenue * Decimal(ratio)).quantize(Decimal(1), rounding=ROUND_DOWN)

    def scored(self, amount: Decimal, platform: Decimal = Decimal(0)) -> ScoreResult:
        """What the rule-based scorecard gives ``amount`` on top of ``platform``."""
        facts = scoring_input(
            founded=FOUNDED,
            as_of=business_today(),
            industry=INDUSTRY,
            requested_amount=amount,
            report=self.report,
            tax=self.tax,
            region=REGION,
            platform_exposure=platform,
        )
        return score(facts)

    def grade(self, amount: Decimal, platform: Decimal = Decimal(0)) -> CreditGrade:
        return self.scored(amount, platform).grade


async def _candidate(sandbox: SandboxProcess, fits: Callable[[Candidate], bool]) -> Candidate:
    """A fresh USCC whose bureau report and tax filings make ``fits`` true."""
    async with (
        HttpCreditBureau(sandbox.base_url, 5.0) as bureau,
        HttpTaxDataProvider(sandbox.base_url, 5.0) as tax_provider,
    ):
        for _ in range(400):
            uscc = new_uscc()
            report, tax = await asyncio.gather(
                bureau.get_report(uscc), tax_provider.get_filings(uscc)
            )
            if report is None or tax is None or not tax.filings:
                continue
            found = Candidate(uscc, report, tax)
            if found.revenue <= Decimal(20_000_000) and fits(found):
                return found
    raise AssertionError("no sandbox enterprise fits")


async def _registered(platform: Platform, sandbox: SandboxProcess, uscc: str) -> dict[str, str]:
    enterprise_id, headers = await onboard_to_documents(
        platform, sandbox, uscc, new_mobile(), new_id_number()
    )
    await upload_all(platform, headers)
    assert (await wait_for_stage(platform, enterprise_id, {"verified"}))["stage"] == "verified"
    return headers


async def _product(platform: Platform, admin: dict[str, str], code: str) -> str:
    """A product every amount of these tests may be approved automatically for."""
    body = product_body(
        code,
        amount_min="10000.00",
        amount_max="20000000.00",
        auto_approval_limit="20000000.00",
    )
    created = await platform.http.post("/api/v1/products", json=body, headers=admin)
    assert created.status_code == 201, created.text
    product_id: str = created.json()["id"]
    return product_id


async def _apply(
    platform: Platform, applicant: dict[str, str], product_id: str, amount: Decimal
) -> str:
    body = {
        "product_id": product_id,
        "amount": f"{amount}.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
        "material_ids": await uploaded(
            platform, applicant, "financial_statements", "bank_statements"
        ),
    }
    submitted = await platform.http.post("/api/v1/applications", json=body, headers=applicant)
    assert submitted.status_code == 201, submitted.text
    app_id: str = submitted.json()["id"]
    return app_id


async def _assessed(platform: Platform, app_id: str, applicant: dict[str, str]) -> dict[str, Any]:
    progress = await _progress_until(
        platform, app_id, applicant, {"offered", "in_review", "declined"}
    )
    assessment: dict[str, Any] = progress["assessment"]
    return assessment


async def test_exposure_at_two_banks_turns_an_approval_at_a_third_into_a_referral(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    # An enterprise without bureau debt for whom ¥0.2 × revenue at bank A, then ¥0.15 × revenue
    # at bank B, then ¥0.2 × revenue at bank C alone would each be a small clean case.
    def fits(c: Candidate) -> bool:
        a, b, cc = c.share("0.20"), c.share("0.15"), c.share("0.20")
        return (
            c.report.outstanding_loans_amount == 0
            and a >= 10_000
            and c.grade(a) in GOOD
            and c.grade(b, platform=a) in GOOD
            and c.grade(cc) in GOOD
        )

    firm = await _candidate(sandbox, fits)
    applicant = await _registered(platform, sandbox, firm.uscc)
    at_a, at_b, at_c = firm.share("0.20"), firm.share("0.15"), firm.share("0.20")
    banks = [await _lender(platform) for _ in range(3)]
    products = [
        await _product(platform, admin, f"EXP-{n}") for n, (_, admin, _) in enumerate(banks)
    ]

    # A loan at bank A: approved automatically, accepted, disbursed.
    loan_app = await _apply(platform, applicant, products[0], at_a)
    assert (await _assessed(platform, loan_app, applicant))["decision"] == "auto_approve"
    accepted = await sign_and_accept(platform, sandbox, loan_app, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(
        platform, loan_app, applicant, {"disbursed", "disbursement_failed"}
    )
    assert done["stage"] == "disbursed", done
    # An offer at bank B, approved automatically on top of the loan (¥0.35 × revenue in all).
    offer_app = await _apply(platform, applicant, products[1], at_b)
    assert (await _assessed(platform, offer_app, applicant))["decision"] == "auto_approve"

    # At bank C: ¥0.55 × revenue would be on the platform, above the ¥0.5 × revenue cap.
    third = await _apply(platform, applicant, products[2], at_c)
    assessment = await _assessed(platform, third, applicant)
    assert assessment["decision"] == "refer", assessment
    assert ABOVE_CAP in assessment["reasons"]
    assert MULTIPLE_BORROWING in assessment["reasons"]  # three banks within 30 days
    cap = (firm.revenue * CAP_RATIO).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert Decimal(assessment["proposed_amount"]) == cap - at_a - at_b  # cut to the headroom

    # Without the exposure the same application would have been approved automatically.
    async with platform.sessions() as session:
        version = await product_version(session, uuid.UUID(products[2]), 1)
        assert version is not None
        lpr = await latest_lpr(session, business_today())
    alone = decide(
        DecisionInput(
            amount=at_c,
            term_months=12,
            product=terms_from_json(version.terms),
            score=firm.scored(at_c),
            registry_status="ACTIVE",
            bureau_current_overdue=False,
            sanctions_hit=False,
            annual_revenue=firm.revenue,
            policy=platform.settings.risk_policy,
        ),
        lpr,
    )
    assert alone.decision is Decision.AUTO_APPROVE

    # The application's detail shows the exposure elsewhere, by bank to the enterprise itself.
    detail = (await platform.http.get(f"/api/v1/applications/{third}", headers=applicant)).json()
    exposure = detail["exposure"]
    assert Decimal(exposure["outstanding_principal"]) == at_a
    assert Decimal(exposure["open_offers"]) == at_b
    assert Decimal(exposure["platform_total"]) == at_a + at_b
    assert exposure["recent_applications"] == 2
    shares = {s["institution_id"]: Decimal(s["total"]) for s in exposure["institutions"]}
    assert shares == {banks[0][0]: at_a, banks[1][0]: at_b}
    # Bank C's officer reads it too (applying authorises the credit check, 征信查询授权);
    # a reader without the credit_report scope gets the amounts but not the banks.
    officer_c = banks[2][2]
    seen = (await platform.http.get(f"/api/v1/applications/{third}", headers=officer_c)).json()
    assert seen["exposure"] == exposure
    async with platform.sessions() as session:
        row = await session.get(LoanApplication, uuid.UUID(third))
        assert row is not None
        _, aggregated = await application_exposure(session, row, frozenset(), 30)
    assert aggregated.institutions is None and aggregated.platform_total == at_a + at_b
    # The officer's case page shows it, by bank, in ¥ — not "0".
    page = await _case_page(platform, banks[2][0], third)
    assert 'id="exposure-institutions"' in page and money(at_a + at_b) in page


async def _case_page(platform: Platform, institution_id: str, app_id: str) -> str:
    """The case page of an application as a new officer of the institution sees it."""
    username = f"offcr{uuid.uuid4().hex[:6]}"
    created = await platform.http.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": STAFF_PASSWORD,
            "role": "officer",
            "institution_id": institution_id,
        },
        headers=await platform.admin_headers(),
    )
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(
        transport=platform.http._transport, base_url=platform.http.base_url
    ) as browser:
        form = await browser.get("/web/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        login = await browser.post(
            "/web/login",
            data={"username": username, "password": STAFF_PASSWORD, "csrf_token": token[1]},
            headers={"Origin": str(browser.base_url).rstrip("/")},
        )
        assert login.status_code == 303, login.text
        page = await browser.get(f"/web/applications/{app_id}")
        assert page.status_code == 200, page.text
        return page.text


async def test_five_simultaneous_applications_respect_the_cap(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    # Each asks for just under 30 % of revenue (the per-application cap): one fits under the
    # 50 % exposure cap, two do not; without the ordering all five would be approved.
    def fits(c: Candidate) -> bool:
        amount = c.share("0.29")
        return amount >= 10_000 and c.grade(amount) in GOOD

    firm = await _candidate(sandbox, fits)
    applicant = await _registered(platform, sandbox, firm.uscc)
    amount = firm.share("0.29")
    _inst, admin, _officer = await _lender(platform)
    products = [await _product(platform, admin, f"EXP5-{n}") for n in range(5)]

    app_ids = await asyncio.gather(
        *(_apply(platform, applicant, product, amount) for product in products)
    )
    assessments = [await _assessed(platform, app_id, applicant) for app_id in app_ids]

    approved = [a for a in assessments if a["decision"] == "auto_approve"]
    cap = (firm.revenue * CAP_RATIO).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert sum(Decimal(a["proposed_amount"]) for a in approved) <= cap
    assert len(approved) == 1, assessments  # the first decided; the others see its offer
    referred = [a for a in assessments if a["decision"] == "refer"]
    assert len(referred) == 4
    for a in referred:
        assert ABOVE_CAP in a["reasons"] and MULTIPLE_BORROWING not in a["reasons"]
        assert Decimal(a["proposed_amount"]) == cap - amount
