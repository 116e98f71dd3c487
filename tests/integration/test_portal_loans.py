"""The applicant portal's loan pages over HTTP on the real workflows: the loans and a loan's
schedule, paying and prepaying with a confirmation keyed once (a double submit pays once),
the payment's status in words, an extension requested, refused twice over and followed, the
payoff quote and the payoff, statements and certificates, and the rating of the outcome —
each form refused with its fields named (never a 500) and no raw code on any page."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.calendar import business_today
from gateway.deps import SESSION_COOKIE
from tests.integration.conftest import Platform
from tests.integration.signing_support import sign_and_accept
from tests.integration.test_application_api import (
    ACCOUNT,
    _progress_until,
    offered_by_a_supervisor,
)
from tests.integration.test_demand_api import _user
from tests.integration.test_portal_pages import Browser, browser
from tests.raw_codes import find_raw_codes, visible_text
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

_KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


@dataclass
class ServicedLoan:
    """A loan disbursed on the real workflow, its applicant and the lender's officer."""

    loan_id: str
    applicant: dict[str, str]
    officer: dict[str, str]


async def disbursed_loan(platform: Platform, sandbox: SandboxProcess, code: str) -> ServicedLoan:
    """¥200,000 over 12 months approved by a supervisor, accepted, disbursed and serviced on
    the real workflow (as tests/integration/test_loan_api.py gets a loan), and an officer of
    the lender."""
    app_id, applicant = await offered_by_a_supervisor(platform, sandbox, code, "789")
    accepted = await sign_and_accept(platform, sandbox, app_id, applicant, ACCOUNT)
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert done["stage"] == "disbursed", done
    loan_id = str(done["loan_id"])
    for _ in range(200):  # the loan workflow opens the account
        schedule = await platform.http.get(f"/api/v1/loans/{loan_id}/schedule", headers=applicant)
        if schedule.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert schedule.status_code == 200, schedule.text
    loan = await platform.http.get(f"/api/v1/loans/{loan_id}", headers=applicant)
    officer = await _user(platform, "officer", loan.json()["institution_id"])
    return ServicedLoan(loan_id, applicant, officer)


def _log_in(owner: Browser, headers: dict[str, str]) -> None:
    owner.client.cookies.set(SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))


async def _page(owner: Browser, url: str, status: int = 200) -> str:
    """A page's visible text, with no raw code on it."""
    page = await owner.get(url)
    assert page.status_code == status, (url, page.status_code, visible_text(page.text)[:500])
    text = visible_text(page.text)
    assert find_raw_codes(text, "zh") == [], (url, find_raw_codes(text, "zh"))
    return text


async def _progress(platform: Platform, loan: ServicedLoan) -> dict[str, Any]:
    schedule = await platform.http.get(
        f"/api/v1/loans/{loan.loan_id}/schedule", headers=loan.applicant
    )
    assert schedule.status_code == 200, schedule.text
    body: dict[str, Any] = schedule.json()
    return body


async def _confirmed(owner: Browser, url: str, form: dict[str, str]) -> str:
    """The confirmation's key for a payment form (the page chose it)."""
    page = await owner.post(f"{url}/confirm", form)
    assert page.status_code == 200, visible_text(page.text)[:500]
    found = _KEY.search(page.text)
    assert found, visible_text(page.text)[:500]
    return found.group(1)


async def decide_extension(
    platform: Platform, officer: dict[str, str], loan_id: str, approve: bool, reason: str
) -> None:
    """The lender's officer claims the loan's extension task and decides it."""
    task: dict[str, Any] | None = None
    for _ in range(100):
        inbox = await platform.http.get("/api/v1/tasks?kind=extension_approval", headers=officer)
        task = next((t for t in inbox.json() if t["subject"] == f"loan-{loan_id}"), None)
        if task:
            break
        await asyncio.sleep(0.1)
    assert task is not None
    claimed = await platform.http.post(f"/api/v1/tasks/{task['id']}/claim", headers=officer)
    assert claimed.status_code == 200, claimed.text
    decided = await platform.http.post(
        f"/api/v1/tasks/{task['id']}/decision",
        json={"approve": approve, "reason": reason},
        headers=officer,
    )
    assert decided.status_code == 200, decided.text


async def test_an_owner_pays_prepays_extends_pays_off_downloads_and_rates_in_the_portal(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    loan = await disbursed_loan(platform, sandbox, "PORTAL-LOAN")
    base = f"/portal/loans/{loan.loan_id}"
    async with browser(platform) as owner:
        _log_in(owner, loan.applicant)

        listed = await _page(owner, "/portal/loans")
        assert "¥200,000.00" in listed and "还款中" in listed
        home = await owner.get("/portal/home")
        assert f'href="{base}"' in home.text  # the home links each loan
        page = await _page(owner, base)
        assert "还款计划" in page and "未逾期" in page and "¥200,000.00" in page
        assert page.count("未到期") == 12  # twelve upcoming installments
        owner.client.cookies.set("lb_lang", "en")
        english = await owner.client.get(base)
        owner.client.cookies.delete("lb_lang")
        assert "Repayment schedule" in english.text
        assert find_raw_codes(visible_text(english.text), "en") == []

        # Pay: the form proposes the next installment; a wrong amount is named, never a 500.
        form = await _page(owner, f"{base}/pay")
        assert "付款金额" in form
        wrong = await owner.post(f"{base}/pay/confirm", {"amount": "12.345"})
        assert wrong.status_code == 422 and 'id="amount-error"' in wrong.text
        assert "两位小数" in visible_text(wrong.text) or "小数" in visible_text(wrong.text)
        key = await _confirmed(owner, f"{base}/pay", {"amount": "1000.00"})
        confirm = {"amount": "1000.00", "key": key}
        paid = await owner.post(f"{base}/pay", confirm)
        assert paid.status_code == 303, paid.text
        status_url = paid.headers["location"]
        assert status_url.startswith(f"{base}/payments/pay-{loan.loan_id}-m-{key}")
        status = await _page(owner, status_url.split("?")[0])
        assert "付款成功" in status
        again = await owner.post(f"{base}/pay", confirm)  # a double submit pays once
        assert again.status_code == 303 and again.headers["location"].startswith(status_url)
        assert Decimal((await _progress(platform, loan))["credit"]) == Decimal("1000.00")
        forged = await owner.post(f"{base}/pay", {"amount": "1.00", "key": "not-a-key"})
        assert forged.status_code == 400

        # Prepay: more than the principal is refused by the workflow, in words.
        too_much = {"amount": "900000.00", "strategy": "reduce_installment_count"}
        key = await _confirmed(owner, f"{base}/prepay", too_much)
        refused = await owner.post(f"{base}/prepay", {**too_much, "key": key})
        assert refused.status_code in (409, 422), refused.status_code
        assert 'role="alert"' in refused.text
        no_strategy = await owner.post(f"{base}/prepay/confirm", {"amount": "10000.00"})
        assert no_strategy.status_code == 422 and 'id="strategy-error"' in no_strategy.text
        prepayment = {"amount": "10000.00", "strategy": "reduce_installment_amount"}
        key = await _confirmed(owner, f"{base}/prepay", prepayment)
        prepaid = await owner.post(f"{base}/prepay", {**prepayment, "key": key})
        assert prepaid.status_code == 303, visible_text(prepaid.text)[:500]
        assert "付款成功" in await _page(owner, prepaid.headers["location"].split("?")[0])
        schedule = await _progress(platform, loan)
        assert Decimal(schedule["principal_outstanding"]) == Decimal("190000.00")

        # Extension: the reason is required; sent, it is pending; a second one is refused.
        await _page(owner, f"{base}/extension")
        empty = await owner.post(f"{base}/extension", {"extra_months": "3", "reason": ""})
        assert empty.status_code == 422 and 'id="reason-error"' in empty.text
        months = await owner.post(f"{base}/extension", {"extra_months": "0", "reason": "回款慢"})
        assert months.status_code == 422 and 'id="extra_months-error"' in months.text
        asked = await owner.post(
            f"{base}/extension", {"extra_months": "3", "reason": "下游客户回款延迟"}
        )
        assert asked.status_code == 303, visible_text(asked.text)[:500]
        page = await _page(owner, base)
        assert "待机构审批" in page and "下游客户回款延迟" in page
        pending_form = await _page(owner, f"{base}/extension")
        assert "待机构审批" in pending_form
        twice = await owner.post(f"{base}/extension", {"extra_months": "2", "reason": "再次申请"})
        assert twice.status_code == 409 and 'role="alert"' in twice.text
        refusal = "现金流尚可覆盖本期还款"
        await decide_extension(platform, loan.officer, loan.loan_id, False, refusal)
        for _ in range(50):
            page = await _page(owner, base)
            if "未获批准" in page:
                break
            await asyncio.sleep(0.1)
        assert "未获批准" in page and "现金流尚可覆盖本期还款" in page

        # Rating waits for the loan to be settled.
        early = await owner.post(f"{base}/rating", {"score": "5", "comment": "很好"})
        assert early.status_code == 409 and "结清后" in visible_text(early.text)

        # Payoff: a quote for a day in the window; a day outside it is named.
        outside = (business_today() + timedelta(days=45)).isoformat()
        far = await owner.get(f"{base}/payoff?valid_until={outside}")
        assert far.status_code == 422 and 'id="valid_until-error"' in far.text
        day = (business_today() + timedelta(days=5)).isoformat()
        quoted = await _page(owner, f"{base}/payoff?valid_until={day}")
        assert f"至 {day} 24:00（北京时间）" in quoted and "结清金额" in quoted
        today = await platform.http.get(
            f"/api/v1/loans/{loan.loan_id}/payoff-quote", headers=loan.applicant
        )
        total = today.json()["total"]
        key = await _confirmed(owner, f"{base}/payoff", {"amount": total})
        short = await owner.post(f"{base}/payoff", {"amount": "1000.00", "key": key})
        assert short.status_code == 409 and 'role="alert"' in short.text
        key = await _confirmed(owner, f"{base}/payoff", {"amount": total})
        settled = await owner.post(f"{base}/payoff", {"amount": total, "key": key})
        assert settled.status_code == 303, visible_text(settled.text)[:500]
        assert "付款成功" in await _page(owner, settled.headers["location"].split("?")[0])
        closed = await owner.get(f"{base}/pay")
        assert closed.status_code == 409  # a settled loan has no payment page

        # Documents: the statement today, the contract and the settlement certificate.
        statement = await owner.get(f"{base}/statement.pdf")
        assert statement.status_code == 200 and statement.content.startswith(b"%PDF")
        assert "attachment" in statement.headers["content-disposition"]
        contract = await owner.get(f"{base}/documents/contract")
        assert contract.status_code == 200 and contract.content.startswith(b"%PDF")
        assert (await owner.get(f"{base}/documents/passport")).status_code == 404
        for _ in range(100):
            certificate = await owner.get(f"{base}/documents/settlement_certificate")
            if certificate.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert certificate.content.startswith(b"%PDF")
        page = await _page(owner, base)
        assert "结清证明" in page and "借款合同" in page and "已结清" in page

        # Rating: 1 to 5, once.
        bad = await owner.post(f"{base}/rating", {"score": "9", "comment": ""})
        assert bad.status_code == 422 and 'id="score-error"' in bad.text
        rated = await owner.post(f"{base}/rating", {"score": "5", "comment": "审批快，服务好"})
        assert rated.status_code == 303, visible_text(rated.text)[:500]
        page = await _page(owner, rated.headers["location"].split("?")[0])
        assert "您的评分：5 / 5" in page and "审批快，服务好" in page
        twice_rated = await owner.post(f"{base}/rating", {"score": "4", "comment": ""})
        assert twice_rated.status_code == 409


async def test_a_payment_the_bank_has_not_answered_is_shown_processing_then_posted(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    loan = await disbursed_loan(platform, sandbox, "PORTAL-OUTAGE")
    base = f"/portal/loans/{loan.loan_id}"
    async with browser(platform) as owner:
        _log_in(owner, loan.applicant)
        await owner.get(f"{base}/pay")
        key = await _confirmed(owner, f"{base}/pay", {"amount": "500.00"})
        async with httpx.AsyncClient(base_url=sandbox.base_url) as bank:
            armed = await bank.post(
                "/sandbox/v1/faults", json={"provider": "bank", "mode": "error", "count": 4}
            )
            assert armed.status_code < 300, armed.text
            try:
                taken = await owner.post(f"{base}/pay", {"amount": "500.00", "key": key})
                assert taken.status_code == 303, visible_text(taken.text)[:500]
                url = taken.headers["location"].split("?")[0]
                first = await _page(owner, url)
                assert "银行处理中" in first or "付款成功" in first
                for _ in range(120):
                    answer = await owner.get(url)
                    text = visible_text(answer.text)
                    if "付款成功" in text:
                        break
                    assert "银行处理中" in text, text[:300]
                    assert "data-refresh" in answer.text  # the page looks again by itself
                    await asyncio.sleep(0.5)
                assert "付款成功" in text, text[:300]
            finally:
                await bank.delete("/sandbox/v1/faults")
        assert Decimal((await _progress(platform, loan))["credit"]) == Decimal("500.00")
