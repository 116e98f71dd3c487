"""Demo data for ``loanbridge up --demo``: seeded once, through the real API and workflows.

The demo reads one-time codes from the sandbox SMS outbox, as a tester would from a phone.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import psycopg

from api.schemas import TaskOut
from cli.demo_audit import seed_audit
from cli.demo_materials import BUSINESS_PLAN_PDF, statements_xlsx
from cli.demo_reports import seed_reports
from client.api import LoanBridgeClient, LoanBridgeError
from credit_model.demo_version import DEMO_VERSION
from db.session import libpq_url
from sandbox.codes import with_id_check_digit, with_uscc_check_char
from sandbox.registry import enterprise_record
from services.accounts import create_platform_admin
from workflows.contracts import ApplicationProgress

DEMO_PASSWORD = "LoanBridge#2026"  # every demo account; the README lists them
DEMO_ADMIN = "admin"

DEMO_INSTITUTIONS = [
    ("ICBC-SZ", "工商银行深圳分行 ICBC Shenzhen", "bank"),
    ("WEBANK", "微众银行 WeBank", "bank"),
    ("HZ-MICRO", "杭州小额贷款公司 Hangzhou Microcredit", "microcredit"),
]

STAFF_ROLES = [("officer", "officer"), ("supervisor", "supervisor"), ("admin", "institution_admin")]
PLATFORM_STAFF = [("compliance", "compliance"), ("regulator", "regulator")]


def demo_seeded(database_url: str) -> bool:
    """Whether a demo seed ran to its end: its last step registers the demo credit model
    (``credit_model.demo``). One query, so a restart with data present skips the whole seed
    (which would otherwise walk every case again, wait for stages the cases have moved past,
    and write a second audit checkpoint and monitoring run)."""
    with psycopg.connect(libpq_url(database_url), connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT 1 FROM credit_model_version WHERE version = %s", (DEMO_VERSION,)
        ).fetchone()
    return row is not None


def seed_demo(api_url: str, database_url: str) -> Iterator[str]:
    """Create the demo accounts and institutions; existing ones are left as they are."""
    asyncio.run(
        create_platform_admin(
            database_url, DEMO_ADMIN, DEMO_PASSWORD, "演示管理员 Demo admin", exist_ok=True
        )
    )
    yield f"platform admin: {DEMO_ADMIN} / {DEMO_PASSWORD}"
    with LoanBridgeClient(api_url, timeout_s=60) as client:
        client.login(DEMO_ADMIN, DEMO_PASSWORD)
        existing = {i.code: i for i in client.list_institutions(limit=200)}
        for code, name, kind in DEMO_INSTITUTIONS:
            inst = existing.get(code) or client.onboard_institution(code, name, kind)
            yield f"institution {code}: {inst.id}"
            for suffix, role in STAFF_ROLES:
                username = f"{code.lower()}-{suffix}"
                create = partial(client.create_user, username, DEMO_PASSWORD, role)
                _ignore_taken(partial(create, display_name=username, institution_id=inst.id))
                yield f"  {role}: {username}"
        for username, role in PLATFORM_STAFF:
            _ignore_taken(
                partial(client.create_user, username, DEMO_PASSWORD, role, display_name=username)
            )
            yield f"{role}: {username}"


def _ignore_taken(create: Callable[[], object]) -> None:
    try:
        create()
    except LoanBridgeError as exc:
        if exc.code != "user.username_taken":
            raise


# ---- enterprises at every onboarding stage --------------------------------------------------
DEMO_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
DEMO_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
ALL_DOCUMENTS = ("id_front", "id_back", "id_handheld", "business_licence")


@dataclass(frozen=True)
class DemoEnterprise:
    """One demo applicant and how far its onboarding goes."""

    username: str
    first17: str  # the USCC without its check character (suffix 999 = revoked licence)
    id_first17: str
    mobile: str
    documents: tuple[str, ...]
    name_variant: bool = False  # differs from the registry by a space → human review
    confirm: bool = True


DEMO_ENTERPRISES = [
    DemoEnterprise(
        "demo-verified", "91310115MA1K4A123", "31011519800101123", "13900000001", ALL_DOCUMENTS
    ),
    DemoEnterprise(
        "demo-review",
        "91440300MA5F7B456",
        "44030019850202234",
        "13900000002",
        ALL_DOCUMENTS,
        name_variant=True,
    ),
    DemoEnterprise(
        "demo-rejected", "91330106MA2H8C999", "33010619900303345", "13900000003", ALL_DOCUMENTS
    ),
    DemoEnterprise(
        "demo-documents",
        "91510100MA6D9D789",
        "51010019780404456",
        "13900000004",
        ("id_front", "business_licence"),
    ),
    DemoEnterprise(
        "demo-otp", "91110108MA0E1E321", "11010819820505567", "13900000005", (), confirm=False
    ),
]


def _registration(demo: DemoEnterprise) -> dict[str, Any]:
    uscc = with_uscc_check_char(demo.first17)
    record = enterprise_record(uscc)
    name = f"{record.name[:2]} {record.name[2:]}" if demo.name_variant else record.name
    return {
        "enterprise": {
            "name": name,
            "uscc": uscc,
            "registered_capital": "3000000.00",
            "founding_date": "2016-03-18",
            "business_scope": "演示企业 demo enterprise",
            "industry": "C",
            "region": f"{demo.first17[2:8]}",
        },
        "legal_representative": {
            "name": record.legal_representative,
            "id_number": with_id_check_digit(demo.id_first17),
            "mobile": demo.mobile,
        },
        "account": {
            "username": demo.username,
            "password": DEMO_PASSWORD,
            "password_confirmation": DEMO_PASSWORD,
        },
    }


def latest_code(providers_url: str, mobile: str, template: str = "otp_code") -> str:
    """The one-time code last texted to ``mobile`` (by ``template``: ``otp_code`` for the
    registration, ``signing_code`` for an acceptance), read from the sandbox's SMS outbox."""
    for _ in range(100):
        reply = httpx.get(f"{providers_url}/sms/v1/messages", params={"limit": 1000}, timeout=10)
        texts = [
            m["text"]
            for m in reply.json()["messages"]
            if m["to"] == mobile and m.get("template") == template
        ]
        if texts:
            found = re.search(r"\d{6}", texts[-1])
            if found:
                return found.group(0)
        time.sleep(0.1)
    raise RuntimeError("the demo one-time code never arrived")


def seed_enterprises(api_url: str, providers_url: str) -> Iterator[str]:
    """Register the demo enterprises through the API and take each to its stage."""
    for demo in DEMO_ENTERPRISES:
        with LoanBridgeClient(api_url, timeout_s=60) as client:
            try:
                ack = client.register(_registration(demo))
            except LoanBridgeError as exc:
                # seeded before: registered (or registered and rejected, which answers
                # "resubmit instead")
                if exc.code in (
                    "enterprise.duplicate",
                    "enterprise.resubmit_instead",
                    "user.username_taken",
                ):
                    yield f"enterprise {demo.username}: already there"
                    continue
                raise
            if demo.confirm:
                client.confirm_code(ack.enterprise_id, latest_code(providers_url, demo.mobile))
                client.login(demo.username, DEMO_PASSWORD)
                for kind in demo.documents:
                    content = DEMO_PDF if kind == "business_licence" else DEMO_PNG + kind.encode()
                    client.upload_document(kind, f"{kind}.bin", content)
            stage = client.registration_progress(ack.enterprise_id).stage
            settling = {"verifying", "registering"}
            if set(demo.documents) == set(ALL_DOCUMENTS):
                settling.add("awaiting_documents")  # the checks start after the last upload
            for _ in range(150):
                if stage not in settling:
                    break
                time.sleep(0.2)
                stage = client.registration_progress(ack.enterprise_id).stage
            yield f"enterprise {demo.username}: {stage}"


# ---- products, a support policy and a demand with answers -----------------------------------
def _product(code: str, name: str, **terms: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "name": name,
        "family": "working_capital",
        "financing_type": "credit",
        "amount_min": "50000.00",
        "amount_max": "3000000.00",
        "term_min_months": 3,
        "term_max_months": 36,
        "repayment_methods": ["equal_installment", "interest_first"],
        "response_sla_hours": 48,
        "active_from": "2024-01-01",
    }
    return {**base, **terms}


DEMO_PRODUCTS: dict[str, list[dict[str, Any]]] = {
    "icbc-sz-admin": [
        _product(
            "ICBC-JYD",
            "经营快贷 Working-capital loan",
            pricing={"kind": "lpr", "lpr_tenor": "1Y", "spread_min_bp": 45, "spread_max_bp": 250},
            upfront_fee_rate="0.002",
            auto_approval_limit="300000.00",
        ),
        _product(
            "ICBC-SBD",
            "设备贷 Equipment loan",
            family="equipment",
            financing_type="mortgage_pledge",
            term_max_months=60,
            collateral_required=True,
            pricing={"kind": "lpr", "lpr_tenor": "5Y", "spread_min_bp": 30, "spread_max_bp": 180},
            repayment_methods=["equal_principal"],
        ),
    ],
    "webank-admin": [
        _product(
            "WB-SD",
            "微业贷·税贷 Tax-based credit",
            family="tax_based",
            amount_max="1000000.00",
            term_max_months=24,
            min_credit_grade="B",
            pricing={"kind": "fixed", "fixed_rate_min": "0.0480", "fixed_rate_max": "0.1200"},
            auto_approval_limit="500000.00",
            response_sla_hours=24,
        ),
    ],
    "hz-micro-admin": [
        _product(
            "HZ-XWD",
            "小微周转贷 Microloan",
            amount_max="500000.00",
            term_max_months=12,
            pricing={"kind": "fixed", "fixed_rate_min": "0.0800", "fixed_rate_max": "0.1800"},
            upfront_fee_rate="0.01",
            monthly_fee_rate="0.001",
            eligible_regions=["33"],
            response_sla_hours=72,
        ),
    ],
}

DEMO_POLICY = {
    "title": "上海市小微企业融资贴息 Shanghai SME interest subsidy",
    "issuer": "上海市财政局 Shanghai Finance Bureau",
    "regions": ["31"],
    "interest_subsidy_rate": "0.4",
    "subsidy_cap_per_year": "500000.00",
    "valid_from": "2024-01-01",
}


def seed_catalog(api_url: str) -> Iterator[str]:
    """Products for each demo lender, a support policy, and a demand that lenders answered."""
    for admin, products in DEMO_PRODUCTS.items():
        with LoanBridgeClient(api_url, timeout_s=60) as client:
            client.login(admin, DEMO_PASSWORD)
            for product in products:
                try:
                    client.publish_product(product)
                    yield f"product {product['code']}"
                except LoanBridgeError as exc:
                    if exc.code != "product.duplicate_code":
                        raise
    with LoanBridgeClient(api_url, timeout_s=60) as client:
        client.login(DEMO_ADMIN, DEMO_PASSWORD)
        titles = {p.title for p in client.list_policies()}
        if DEMO_POLICY["title"] not in titles:
            client.publish_policy(DEMO_POLICY)
        yield f"support policy: {DEMO_POLICY['title']}"
    with LoanBridgeClient(api_url, timeout_s=60) as client:
        client.login("demo-verified", DEMO_PASSWORD)
        demand = client.post_demand(
            {
                "amount": "600000.00",
                "term_months": 12,
                "purpose": "采购原材料 Raw materials",
                "financing_type": "credit",
                "repayment_method": "equal_installment",
            },
            idempotency_key="demo-demand-1",
        ).result
        for _ in range(100):
            if client.demand_progress(demand.id).stage != "matching":
                break
            time.sleep(0.2)
    with LoanBridgeClient(api_url, timeout_s=60) as officer:
        officer.login("icbc-sz-officer", DEMO_PASSWORD)
        try:
            officer.answer_demand(
                demand.id,
                {"interested": True, "indicative_rate": "0.0365", "indicative_amount": "600000.00"},
            )
        except LoanBridgeError as exc:
            if exc.code not in ("demand.already_answered", "demand.closed"):
                raise
    yield f"demand {demand.id} by demo-verified (ICBC-SZ answered; try `loanbridge compare`)"


# ---- applications and loans at every stage ---------------------------------------------------
@dataclass(frozen=True)
class DemoCase:
    """One application of demo-verified to ICBC-SZ's working-capital loan, and where it stops."""

    key: str
    amount: str
    stop: str  # the stage the demo leaves it at (see seed_applications)
    purpose: str  # one open application per product and purpose: each case has its own
    materials: tuple[str, ...] = ()
    balanced: bool = True  # the statements uploaded balance (or are 20 万元 short)


FS = ("financial_statements", "business_plan")
PLAN = ("business_plan",)  # no statements: the checklist asks for them
DEMO_CASES = (
    DemoCase("demo-app-1", "200000.00", "active_loan", "采购原材料 Raw materials"),
    DemoCase("demo-app-2", "150000.00", "offered", "支付员工工资 Payroll"),
    DemoCase("demo-app-3", "400000.00", "materials_requested", "新开门店 A new shop", PLAN),
    DemoCase("demo-app-4", "350000.00", "info_requested", "购置生产设备 Equipment", FS),
    DemoCase("demo-app-5", "320000.00", "counter_offered", "支付供应商货款 Suppliers", FS, False),
    DemoCase("demo-app-6", "600000.00", "in_review", "旺季备货 Seasonal stock", FS),
    DemoCase("demo-app-7", "100000.00", "settled_loan", "支付厂房租金 Factory rent"),
    DemoCase("demo-app-8", "180000.00", "extension_requested", "研发投入 Research"),
)
DEMO_ACCOUNT = "6222020200112233445"
# Stages an application rests in until someone acts: a re-run after an interrupted seed finds
# cases already moved on (a question asked, a counter-offer made) and must not wait for them.
SETTLED = {
    "in_review",
    "offered",
    "declined",
    "disbursed",
    "expired",
    "materials_requested",
    "info_requested",
    "counter_offered",
    "withdrawn",
    "cancelled",
    "lapsed",
    "disbursement_failed",
}


def _wait_stage(
    client: LoanBridgeClient, app_id: uuid.UUID, stages: set[str]
) -> ApplicationProgress:
    progress = client.application_progress(app_id)
    for _ in range(150):
        if progress.stage in stages:
            break
        time.sleep(0.2)
        progress = client.application_progress(app_id)
    return progress


def _wait_loan(client: LoanBridgeClient, loan_id: uuid.UUID) -> None:
    """Until the loan workflow has opened the account (its schedule is readable)."""
    for _ in range(100):
        try:
            client.loan_schedule(loan_id)
            return
        except LoanBridgeError:
            time.sleep(0.2)


def _credit_task(officer: LoanBridgeClient, app_id: uuid.UUID) -> TaskOut:
    return next(
        t
        for t in officer.list_tasks(kind="credit_approval")
        if t.subject == f"application-{app_id}"
    )


def _advance(
    case: DemoCase,
    app_id: uuid.UUID,
    progress: ApplicationProgress,
    client: LoanBridgeClient,
    officer: LoanBridgeClient,
    accept: Callable[[uuid.UUID], object],
) -> str:
    """Drive one application to the stage its case stops at (``accept`` signs and accepts its
    offer); returns a line for the log."""
    stage = progress.stage
    if stage == "in_review" and case.stop == "info_requested":
        task = _credit_task(officer, app_id)
        officer.claim_task(task.id)
        officer.decide_task(
            task.id,
            False,
            action="request_info",
            question="请说明第三季度营收下降的原因 Why did Q3 revenue fall?",
        )
        stage = _wait_stage(client, app_id, {"info_requested"}).stage
    elif stage == "in_review" and case.stop == "counter_offered":
        officer.decide_task(
            _credit_task(officer, app_id).id,
            False,
            "额度按营收核定 limit set by revenue",
            action="counter_offer",
            amount=Decimal("250000.00"),
            term_months=12,
        )
        stage = _wait_stage(client, app_id, {"counter_offered"}).stage
    elif stage == "offered" and case.stop in ("active_loan", "settled_loan", "extension_requested"):
        accept(app_id)
        progress = _wait_stage(client, app_id, {"disbursed", "disbursement_failed"})
        stage = progress.stage
        loan_id = progress.loan_id
        if stage == "disbursed" and loan_id:
            _wait_loan(client, loan_id)
            stage = _service(case, loan_id, client)
    return f"application {app_id} ({case.amount}): {stage}"


def _service(case: DemoCase, loan_id: uuid.UUID, client: LoanBridgeClient) -> str:
    if case.stop == "active_loan":
        client.make_payment(loan_id, Decimal("1000.00"), idempotency_key=f"{case.key}-pay")
        return f"loan {loan_id} active, ¥1,000 kept as credit for the first installment"
    if case.stop == "settled_loan":
        quote = client.payoff_quote(loan_id)
        client.pay_off(loan_id, quote.total, idempotency_key=f"{case.key}-payoff")
        return f"loan {loan_id} paid off: settlement certificate issued"
    client.request_extension(loan_id, 6, "订单回款周期延长 customers pay later")
    return f"loan {loan_id}: 6-month extension waiting in icbc-sz-officer's inbox"


def seed_applications(api_url: str, providers_url: str) -> Iterator[str]:
    """demo-verified applies to ICBC-SZ eight times; the cases stop at every stage: offer
    waiting, materials asked, a question asked, a counter-offer, in review, and three loans —
    active with credit, paid off with its certificate, with an extension awaiting an officer.
    Offers are signed by its legal representative with the code texted to their mobile."""
    verified = DEMO_ENTERPRISES[0]
    signer = enterprise_record(with_uscc_check_char(verified.first17)).legal_representative
    with (
        LoanBridgeClient(api_url, timeout_s=60) as client,
        LoanBridgeClient(api_url, timeout_s=60) as officer,
    ):
        client.login("demo-verified", DEMO_PASSWORD)
        officer.login("icbc-sz-officer", DEMO_PASSWORD)
        product = next(p for p in client.list_products() if p.code == "ICBC-JYD")

        def accept(app_id: uuid.UUID) -> object:
            client.request_acceptance_code(app_id)
            code = latest_code(providers_url, verified.mobile, template="signing_code")
            return client.accept_offer(app_id, signer, code, DEMO_ACCOUNT)

        for case in DEMO_CASES:
            files = {
                "financial_statements": (
                    "2025年财务报表.xlsx",
                    statements_xlsx(2025, Decimal("1280.00"), balanced=case.balanced),
                ),
                "business_plan": ("经营计划书.pdf", BUSINESS_PLAN_PDF),
            }
            material_ids = [
                str(client.upload_material(kind, *files[kind]).id) for kind in case.materials
            ]
            app = client.submit_application(
                {
                    "product_id": str(product.id),
                    "amount": case.amount,
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                    "material_ids": material_ids,
                    "purpose": case.purpose,
                },
                idempotency_key=case.key,
            ).result
            progress = _wait_stage(client, app.id, SETTLED)
            try:
                yield _advance(case, app.id, progress, client, officer, accept)
            except LoanBridgeError as exc:  # seeded before: the case has moved on already
                yield f"application {app.id}: {progress.stage} ({exc.code})"
    yield from seed_audit(api_url)  # the compliance auditor's view of these cases
    yield from seed_reports(api_url)  # ratings, monitoring alerts, archived reports
