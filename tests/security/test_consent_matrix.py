"""The consent matrix (issue 20): for each consent scope and each reader an institution reads it
through (API endpoint, workbench page, export), the data is withheld before the enterprise
grants the scope (even with the other two scopes granted), shown once granted, and withheld
again on the first read after the consent is revoked; never a 500.

Besides: what applying implies, the enterprise's ``share_profile_with_matched`` setting, and
the readers who always see everything (the enterprise's own users, the platform-wide roles).

The records are written straight into the session's PostgreSQL database; the API and the
workbench run in-process over ASGI (no Temporal: none of these reads needs it), the officer's
case page asks the sandbox's tax and bureau providers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Environment, Settings
from db.models import (
    AppUser,
    DemandMatch,
    DemandResponse,
    Enterprise,
    FinancingDemand,
    HumanTask,
    Institution,
    LoanApplication,
    LoanProduct,
)
from domain.disclosure import ConsentScope
from domain.labels import Vocabulary, label
from domain.roles import Role
from gateway.deps import SESSION_COOKIE
from runtime.processes import free_port
from server import create_app
from services.credentials import issue_token
from tests.integration.test_onboarding_api import new_uscc
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

WITHHELD = label(Vocabulary.CONSENT, "required", "zh")
REVENUE_REASON = "年营业收入¥8,888,888.00不低于¥1,000,000.00"
AMOUNT_REASON = "申请金额¥2,345,678.00在产品额度范围内"


@dataclass
class Lab:
    """The app over ASGI, the database, one institution with its officer, tokens for anyone."""

    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    institution_id: uuid.UUID
    product_id: uuid.UUID
    officer: AppUser

    def token(self, user: AppUser) -> str:
        token, _ = issue_token(
            self.settings,
            user_id=user.id,
            role=user.role,
            enterprise_id=user.enterprise_id,
            institution_id=user.institution_id,
            token_type="access",
        )
        return token

    def api(self, user: AppUser) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    async def page(self, user: AppUser, path: str) -> httpx.Response:
        return await self.http.get(path, headers={"Cookie": f"{SESSION_COOKIE}={self.token(user)}"})

    async def user(
        self,
        role: Role,
        *,
        enterprise_id: uuid.UUID | None = None,
        institution_id: uuid.UUID | None = None,
    ) -> AppUser:
        async with self.sessions() as session, session.begin():
            account = AppUser(
                username=f"cm-{role.value[:5]}-{uuid.uuid4().hex[:10]}",
                password_hash="x",
                role=role.value,
                enterprise_id=enterprise_id,
                institution_id=institution_id,
            )
            session.add(account)
        return account


@dataclass
class Borrower:
    """An enterprise with its applicant, a demand published to the lab's institution (with the
    product's explained match) and, when asked, an application to the institution."""

    enterprise: Enterprise
    applicant: AppUser
    demand_id: uuid.UUID
    task_id: uuid.UUID
    application_id: uuid.UUID | None

    @property
    def name(self) -> str:
        return self.enterprise.name


@pytest.fixture(scope="module")
async def lab(
    database_url: str, sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Lab]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=database_url,
        sandbox_url=sandbox.base_url,
        provider_timeout_s=5.0,
        document_dir=Path(tmp_path_factory.mktemp("consent-documents")),
        temporal_address=f"127.0.0.1:{free_port()}",  # nothing listens: no read here needs it
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions = app.state.ctx.session_factory
        tag = uuid.uuid4().hex[:8].upper()
        async with sessions() as session, session.begin():
            institution = Institution(code=f"CM-{tag}", name="授权矩阵银行", kind="bank")
            session.add(institution)
            await session.flush()
            product = LoanProduct(
                institution_id=institution.id, code=f"CM-{tag}", name="授权矩阵贷", status="active"
            )
            officer = AppUser(
                username=f"cm-officer-{tag.lower()}",
                password_hash="x",
                role=Role.OFFICER.value,
                institution_id=institution.id,
            )
            session.add_all([product, officer])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lab") as http:
            yield Lab(http, sessions, settings, institution.id, product.id, officer)


async def borrower(lab: Lab, *, application: str | None = None) -> Borrower:
    """A fresh enterprise (so each case starts with no consent) and what it posted; with
    ``application`` (a status) also an application to the lab's institution."""
    tag = uuid.uuid4().hex[:8]
    async with lab.sessions() as session, session.begin():
        enterprise = Enterprise(
            name=f"授权矩阵企业{tag}有限公司",
            uscc=new_uscc(),
            registered_capital=Decimal("5000000"),
            founding_date=date(2018, 3, 1),
            industry="C",
            region="440305",
            legal_rep_name=f"法人{tag}",
            legal_rep_id_number=f"ID-{tag}",
            legal_rep_id_hash=f"cm-id-{tag}",
            mobile="13912345678",
            mobile_hash=f"cm-mobile-{tag}",
            status="verified",
            workflow_id=f"enterprise-cm-{tag}",
        )
        session.add(enterprise)
        await session.flush()
        demand = FinancingDemand(
            enterprise_id=enterprise.id,
            amount=Decimal("2345678.00"),
            term_months=12,
            purpose=f"为{enterprise.name}采购原材料",
            financing_type="credit",
            status="awaiting_responses",
            workflow_id=f"demand-cm-{tag}",
        )
        session.add(demand)
        await session.flush()
        rules = [
            {"rule": "amount", "passed": True, "reason_zh": AMOUNT_REASON, "reason_en": "amount"},
            {
                "rule": "annual_revenue",
                "passed": True,
                "reason_zh": REVENUE_REASON,
                "reason_en": "Annual revenue ¥8,888,888.00 reaches the minimum ¥1,000,000.00.",
            },
        ]
        session.add_all(
            [
                DemandResponse(
                    demand_id=demand.id,
                    institution_id=lab.institution_id,
                    due_at=datetime.now(UTC) + timedelta(days=2),
                ),
                DemandMatch(
                    demand_id=demand.id,
                    product_id=lab.product_id,
                    product_version=1,
                    institution_id=lab.institution_id,
                    eligible=True,
                    score=Decimal("80.00"),
                    indicative_rate=Decimal("0.045"),
                    rank=1,
                    explanation={
                        "zh": f"符合全部准入条件：{AMOUNT_REASON}；{REVENUE_REASON}",
                        "en": "Meets every requirement",
                        "rules": rules,
                    },
                ),
            ]
        )
        task = HumanTask(
            kind="demand_response",
            workflow_id=demand.workflow_id,
            subject=f"demand-{demand.id}",
            institution_id=lab.institution_id,
            required_role=Role.OFFICER.value,
            due_at=datetime.now(UTC) + timedelta(days=2),
            context={
                "amount": str(demand.amount),
                "term_months": "12",
                "financing_type": "credit",
                "purpose": demand.purpose,
            },
        )
        session.add(task)
        await session.flush()
        application_id = None
        if application is not None:
            row = LoanApplication(
                enterprise_id=enterprise.id,
                institution_id=lab.institution_id,
                product_id=lab.product_id,
                product_version=1,
                demand_id=demand.id,
                amount=Decimal("2345678.00"),
                term_months=12,
                repayment_method="equal_installment",
                status=application,
                workflow_id=f"application-cm-{tag}",
            )
            session.add(row)
            await session.flush()
            application_id = row.id
    applicant = await lab.user(Role.APPLICANT, enterprise_id=enterprise.id)
    return Borrower(enterprise, applicant, demand.id, task.id, application_id)


async def grant(lab: Lab, who: Borrower, scope: ConsentScope) -> str:
    granted = await lab.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": str(lab.institution_id), "scope": scope.value},
        headers=lab.api(who.applicant),
    )
    assert granted.status_code == 201, granted.text
    return str(granted.json()["id"])


async def revoke(lab: Lab, who: Borrower, consent_id: str) -> None:
    revoked = await lab.http.delete(
        f"/api/v1/enterprises/me/consents/{consent_id}", headers=lab.api(who.applicant)
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"]


# ---- the readers: each reads as the officer and answers whether the scope's data showed -------


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, response.text[:500]
    return response


async def api_demand_list(lab: Lab, who: Borrower) -> bool:
    listed = _ok(await lab.http.get("/api/v1/demands?limit=200", headers=lab.api(lab.officer)))
    (row,) = [d for d in listed.json() if d["id"] == str(who.demand_id)]
    assert row["industry"] == "C" and row["region"] == "440305" and row["term_months"] == 12
    assert row["amount_band"] == "from_1m_to_5m"
    shown = bool(row["enterprise_id"] == str(who.enterprise.id))
    assert shown == (row["amount"] is not None) == (not row["anonymous"])
    assert shown == (who.name in listed.text)
    return shown


async def api_demand_detail(lab: Lab, who: Borrower) -> bool:
    got = _ok(await lab.http.get(f"/api/v1/demands/{who.demand_id}", headers=lab.api(lab.officer)))
    assert got.status_code == 200
    body = got.json()
    shown = not body["anonymous"] and body["purpose"] is not None
    assert shown == (AMOUNT_REASON in got.text) == (who.name in got.text)
    if not shown:
        assert body["enterprise_id"] is None and body["amount"] is None
        assert WITHHELD in body["matches"][0]["explanation"]["zh"]
    return shown


async def api_profile(lab: Lab, who: Borrower) -> bool:
    got = _ok(
        await lab.http.get(f"/api/v1/enterprises/{who.enterprise.id}", headers=lab.api(lab.officer))
    )
    assert got.status_code in (200, 404), got.text
    assert (got.status_code == 200) == (who.name in got.text)
    return got.status_code == 200


async def _consent_refusal(lab: Lab, url: str) -> httpx.Response | None:
    """The officer's read of ``url``, or None when it was refused for want of consent."""
    got = _ok(await lab.http.get(url, headers=lab.api(lab.officer)))
    if got.status_code == 403:
        assert got.json()["error"]["code"] == "consent.required"
        return None
    assert got.status_code == 200, got.text[:300]
    return got


async def api_comparison(lab: Lab, who: Borrower) -> bool:
    got = await _consent_refusal(lab, f"/api/v1/demands/{who.demand_id}/comparison")
    return got is not None and isinstance(got.json(), list)


async def export_comparison_pdf(lab: Lab, who: Borrower) -> bool:
    got = await _consent_refusal(lab, f"/api/v1/demands/{who.demand_id}/comparison.pdf")
    return got is not None and got.content.startswith(b"%PDF")


async def web_demands_page(lab: Lab, who: Borrower) -> bool:
    page = _ok(await lab.page(lab.officer, "/web/demands"))
    assert page.status_code == 200
    shown = who.name in page.text
    if not shown:
        assert label(Vocabulary.CONSENT, "anonymous", "zh") in page.text
        assert label(Vocabulary.AMOUNT_BAND, "from_1m_to_5m", "zh") in page.text
    return shown


async def api_match_explanation(lab: Lab, who: Borrower) -> bool:
    got = _ok(await lab.http.get(f"/api/v1/demands/{who.demand_id}", headers=lab.api(lab.officer)))
    (match,) = got.json()["matches"]
    (revenue,) = [r for r in match["explanation"]["rules"] if r["rule"] == "annual_revenue"]
    shown = bool(revenue["reason_zh"] == REVENUE_REASON)
    assert shown == (REVENUE_REASON in got.text) == (revenue["reason_zh"] != WITHHELD)
    return shown


async def api_task_inbox(lab: Lab, who: Borrower) -> bool:
    url = "/api/v1/tasks?kind=demand_response&limit=200"
    listed = _ok(await lab.http.get(url, headers=lab.api(lab.officer)))
    (task,) = [t for t in listed.json() if t["id"] == str(who.task_id)]
    shown = "purpose" in task["context"]
    assert shown == ("amount" in task["context"]) == (who.name in listed.text)
    assert shown != (task["context"].get("amount_band") == "from_1m_to_5m")
    return shown


async def web_task_page(lab: Lab, who: Borrower) -> bool:
    page = _ok(await lab.page(lab.officer, f"/web/tasks/{who.task_id}"))
    assert page.status_code == 200, page.text[:500]
    shown = "2,345,678.00" in page.text
    assert who.name not in page.text or shown
    return shown


def _section(html: str, section: str) -> str:
    start = html.index(f'id="{section}"')
    return html[start : html.index("</section>", start)]


async def _review(lab: Lab, who: Borrower, section: str, marker: str) -> tuple[bool, str]:
    """Whether the officer's case page shows ``section`` (its ``marker``, else the consent
    label), and the whole page."""
    page = _ok(await lab.page(lab.officer, f"/web/applications/{who.application_id}"))
    assert page.status_code == 200, page.text[:500]
    part = _section(page.text, section)
    shown = marker in part
    assert shown != (WITHHELD in part)
    return shown, page.text


async def web_review_financials(lab: Lab, who: Borrower) -> bool:
    shown, page = await _review(lab, who, "financials", 'class="grid numbers"')
    assert shown == (REVENUE_REASON in _section(page, "matching"))
    return shown


async def web_review_bureau(lab: Lab, who: Borrower) -> bool:
    shown, _ = await _review(lab, who, "bureau", 'class="facts"')
    return shown


Reader = Callable[[Lab, Borrower], Awaitable[bool]]

# scope → its readers; a case needing the officer's case page has an application that closed
# without a loan (declined), which keeps profile but implies neither financials nor the report.
MATRIX: list[tuple[ConsentScope, Reader, str | None]] = [
    (ConsentScope.PROFILE, api_demand_list, None),
    (ConsentScope.PROFILE, api_demand_detail, None),
    (ConsentScope.PROFILE, api_profile, None),
    (ConsentScope.PROFILE, api_comparison, None),
    (ConsentScope.PROFILE, export_comparison_pdf, None),
    (ConsentScope.PROFILE, web_demands_page, None),
    (ConsentScope.PROFILE, api_task_inbox, None),
    (ConsentScope.PROFILE, web_task_page, None),
    (ConsentScope.FINANCIALS, api_match_explanation, None),
    (ConsentScope.FINANCIALS, web_review_financials, "declined"),
    (ConsentScope.CREDIT_REPORT, web_review_bureau, "declined"),
]


@pytest.mark.parametrize(
    ("scope", "reader", "application"),
    MATRIX,
    ids=[f"{scope.value}-{reader.__name__}" for scope, reader, _ in MATRIX],
)
async def test_scope_is_withheld_until_granted_and_again_once_revoked(
    lab: Lab, scope: ConsentScope, reader: Reader, application: str | None
) -> None:
    who = await borrower(lab, application=application)
    for other in ConsentScope:
        if other is not scope:
            await grant(lab, who, other)
    assert not await reader(lab, who), f"{scope.value} shown before it was granted"
    consent_id = await grant(lab, who, scope)
    assert await reader(lab, who), f"{scope.value} withheld although granted"
    await revoke(lab, who, consent_id)
    assert not await reader(lab, who), f"{scope.value} still shown after the revocation"


async def test_a_live_application_authorizes_every_scope_for_its_institution(lab: Lab) -> None:
    who = await borrower(lab, application="in_review")
    assert await api_demand_list(lab, who)
    assert await api_profile(lab, who)
    assert await api_match_explanation(lab, who)
    assert await web_review_financials(lab, who)
    assert await web_review_bureau(lab, who)


async def test_a_closed_application_keeps_only_the_profile(lab: Lab) -> None:
    who = await borrower(lab, application="withdrawn")
    assert await api_demand_detail(lab, who)
    assert await web_demands_page(lab, who)
    assert not await web_review_financials(lab, who)
    assert not await web_review_bureau(lab, who)


async def test_sharing_the_profile_with_matched_institutions_identifies_and_stops_at_once(
    lab: Lab,
) -> None:
    who = await borrower(lab)

    async def share(on: bool) -> None:
        answer = await lab.http.put(
            "/api/v1/enterprises/me/privacy",
            json={"share_profile_with_matched": on},
            headers=lab.api(who.applicant),
        )
        assert answer.status_code == 200, answer.text

    assert not await api_demand_list(lab, who)
    await share(True)
    assert await api_demand_list(lab, who)
    assert await web_demands_page(lab, who)
    assert not await api_match_explanation(lab, who)  # the profile only, never financials
    await share(False)
    assert not await api_demand_detail(lab, who)


async def test_the_enterprise_and_platform_wide_readers_see_everything(lab: Lab) -> None:
    who = await borrower(lab, application="declined")
    readers = [who.applicant] + [await lab.user(r) for r in (Role.COMPLIANCE, Role.REGULATOR)]
    for user in readers:
        got = await lab.http.get(f"/api/v1/demands/{who.demand_id}", headers=lab.api(user))
        assert got.status_code == 200, got.text
        assert not got.json()["anonymous"] and REVENUE_REASON in got.text
        profile = await lab.http.get(
            f"/api/v1/enterprises/{who.enterprise.id}", headers=lab.api(user)
        )
        assert profile.status_code == 200 and who.name in profile.text
    compliance = readers[1]
    page = await lab.page(compliance, f"/web/applications/{who.application_id}")
    assert page.status_code == 200
    assert who.name in page.text and WITHHELD not in page.text
    assert 'class="grid numbers"' in _section(page.text, "financials")
