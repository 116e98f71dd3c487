"""Institution admin pages: products (publish, edit as a new version, retire) with the APR
preview, and the institution's officers with their approval authority.

Writes go through the services the API calls too (``services.catalog``, ``services.users``):
the same validation, the same versioning, the same refusals."""

from __future__ import annotations

import math
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.calendar import business_today
from domain.credit_decision import DEFAULT_AUTHORITY_LIMITS
from domain.errors import BusinessRuleError
from domain.products import CreditGrade, FinancingType, LprTenor, ProductFamily
from domain.roles import INSTITUTION_ROLES, Role
from domain.schedule import RepaymentMethod
from gateway.deps import SessionDep
from services import catalog, users
from services.catalog import ProductIn
from services.errors import Refusal
from services.results import AprPreview, ProductOut
from services.users import UserCreate
from web.core import PREFIX, Form, PageError, Web, WebContext, redirect, render, text

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 20
PERCENT_FIELDS = ("upfront_fee_rate", "monthly_fee_rate")
_HUNDRED = Decimal(100)

FORM_CHOICES = {
    "families": [f.value for f in ProductFamily],
    "financing_types": [f.value for f in FinancingType],
    "tenors": [t.value for t in LprTenor],
    "grades": [g.value for g in CreditGrade],
    "methods": [m.value for m in RepaymentMethod],
}


def _fraction(raw: str) -> str:
    """A percentage typed by a person as the fraction the API stores ('4.35' → '0.0435');
    anything unparseable is passed on for the schema to refuse with a field error."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return raw
    return str((value / _HUNDRED).normalize()) if value.is_finite() else raw


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]


def product_values(form: FormData) -> dict[str, Any]:
    """The form as typed, kept to re-fill the page."""
    values: dict[str, Any] = {key: text(form, key, 400) for key in form if key != "csrf_token"}
    values["repayment_methods"] = [str(v) for v in form.getlist("repayment_methods")]
    values["collateral_required"] = "collateral_required" in form
    values["guarantee_required"] = "guarantee_required" in form
    return values


def product_body(values: dict[str, Any]) -> dict[str, Any]:
    """The ProductIn body from the page's values (rates typed in percent)."""

    def opt(name: str) -> str | None:
        raw = str(values.get(name, "") or "").replace(",", "")
        return raw or None

    kind = values.get("pricing_kind") or "lpr"
    pricing: dict[str, Any] = {"kind": kind}
    if kind == "lpr":
        pricing |= {
            "lpr_tenor": opt("lpr_tenor"),
            "spread_min_bp": opt("spread_min_bp"),
            "spread_max_bp": opt("spread_max_bp"),
        }
    else:
        low, high = opt("fixed_rate_min"), opt("fixed_rate_max")
        pricing |= {
            "fixed_rate_min": _fraction(low) if low else None,
            "fixed_rate_max": _fraction(high) if high else None,
        }
    body: dict[str, Any] = {
        "code": values.get("code", ""),
        "name": values.get("name", ""),
        "family": values.get("family", ""),
        "financing_type": values.get("financing_type", ""),
        "amount_min": opt("amount_min"),
        "amount_max": opt("amount_max"),
        "term_min_months": opt("term_min_months"),
        "term_max_months": opt("term_max_months"),
        "pricing": pricing,
        "repayment_methods": values.get("repayment_methods", []),
        "eligible_industries": _csv(str(values.get("eligible_industries", ""))),
        "eligible_regions": _csv(str(values.get("eligible_regions", ""))),
        "collateral_required": bool(values.get("collateral_required")),
        "guarantee_required": bool(values.get("guarantee_required")),
        "active_from": opt("active_from") or business_today().isoformat(),
    }
    for name in PERCENT_FIELDS:
        raw = opt(name)
        if raw:
            body[name] = _fraction(raw)
    for name in (
        "auto_approval_limit",
        "response_sla_hours",
        "min_enterprise_age_months",
        "min_annual_revenue",
        "min_credit_grade",
        "active_until",
    ):
        raw = opt(name)
        if raw:
            body[name] = raw
    return body


def values_from_terms(product: ProductOut) -> dict[str, Any]:
    """A product's version as the form shows it (fractions back to percent)."""
    terms = product.terms
    p = terms["pricing"]

    def pct(raw: str | None) -> str:
        return "" if raw is None else str((Decimal(raw) * _HUNDRED).normalize())

    return {
        "code": product.code,
        "name": product.name,
        "family": terms["family"],
        "financing_type": terms["financing_type"],
        "amount_min": terms["amount_min"],
        "amount_max": terms["amount_max"],
        "term_min_months": str(terms["term_min_months"]),
        "term_max_months": str(terms["term_max_months"]),
        "pricing_kind": "lpr" if p.get("lpr_tenor") else "fixed",
        "lpr_tenor": p.get("lpr_tenor") or "1Y",
        "spread_min_bp": "" if p.get("spread_min_bp") is None else str(p["spread_min_bp"]),
        "spread_max_bp": "" if p.get("spread_max_bp") is None else str(p["spread_max_bp"]),
        "fixed_rate_min": pct(p.get("fixed_rate_min")),
        "fixed_rate_max": pct(p.get("fixed_rate_max")),
        "repayment_methods": list(terms["repayment_methods"]),
        "upfront_fee_rate": pct(terms.get("upfront_fee_rate")),
        "monthly_fee_rate": pct(terms.get("monthly_fee_rate")),
        "eligible_industries": ", ".join(terms.get("eligible_industries", [])),
        "eligible_regions": ", ".join(terms.get("eligible_regions", [])),
        "min_enterprise_age_months": str(terms.get("min_enterprise_age_months", 0)),
        "min_annual_revenue": terms.get("min_annual_revenue") or "",
        "min_credit_grade": terms.get("min_credit_grade") or "",
        "collateral_required": bool(terms.get("collateral_required")),
        "guarantee_required": bool(terms.get("guarantee_required")),
        "auto_approval_limit": terms.get("auto_approval_limit", "0"),
        "response_sla_hours": str(terms.get("response_sla_hours", 72)),
        "active_from": terms.get("active_from", business_today().isoformat()),
        "active_until": terms.get("active_until") or "",
    }


def _blank_values() -> dict[str, Any]:
    return {
        "pricing_kind": "lpr",
        "lpr_tenor": "1Y",
        "repayment_methods": ["equal_installment"],
        "family": "working_capital",
        "financing_type": "credit",
        "active_from": business_today().isoformat(),
        "response_sla_hours": "72",
        "auto_approval_limit": "0",
        "min_enterprise_age_months": "0",
    }


def _issues(exc: ValidationError | BusinessRuleError, lang: str) -> list[dict[str, str]]:
    if isinstance(exc, BusinessRuleError):
        return [
            {"field": i.field, "message": i.message_en if lang == "en" else i.message_zh}
            for i in exc.issues
        ]
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or "form", "message": str(e["msg"])}
        for e in exc.errors()
    ]


@router.get("/products")
async def products(
    ctx: Web, session: SessionDep, page: int = Query(default=1, ge=1, le=10_000), done: str = ""
) -> Response:
    """The institution's products with their current version and APR preview."""
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    own = admin.institution_id
    total = await catalog.product_count(session, status=None, institution_id=own)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    shown = await catalog.products(
        session,
        status=None,
        institution_id=own,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        by_status=True,
    )
    return render(
        ctx, "products.html", products=shown, page=page, pages=pages, total=total, done=done
    )


async def _form_page(
    ctx: WebContext,
    session: SessionDep,
    values: dict[str, Any],
    *,
    product_id: uuid.UUID | None = None,
    errors: list[dict[str, str]] | None = None,
    error: str = "",
    preview: AprPreview | None = None,
    status: int = 200,
) -> Response:
    return render(
        ctx,
        "product_form.html",
        status=status,
        values=values,
        product_id=product_id,
        errors=errors or [],
        error=error,
        preview=preview,
        choices=FORM_CHOICES,
    )


@router.get("/products/new")
async def new_product(ctx: Web, session: SessionDep) -> Response:
    ctx.require(Role.INSTITUTION_ADMIN)
    return await _form_page(ctx, session, _blank_values())


async def _own(session: SessionDep, ctx: WebContext, product_id: uuid.UUID) -> ProductOut:
    """A product of the admin's institution at its current version (404 page for another's)."""
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    try:
        return await catalog.own_product_view(session, admin, product_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc


@router.get("/products/{product_id}/edit")
async def edit_product(product_id: uuid.UUID, ctx: Web, session: SessionDep) -> Response:
    product = await _own(session, ctx, product_id)
    return await _form_page(ctx, session, values_from_terms(product), product_id=product.id)


async def _save(
    ctx: WebContext, form: FormData, session: SessionDep, product_id: uuid.UUID | None
) -> Response:
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    values = product_values(form)
    try:
        body = ProductIn.model_validate(product_body(values))
        if text(form, "intent", 10) == "preview":
            preview = await catalog.preview(session, body)
            return await _form_page(ctx, session, values, product_id=product_id, preview=preview)
        if product_id is None:
            await catalog.publish(session, admin, body)
        else:
            await catalog.revise(session, admin, product_id, body)
    except (ValidationError, BusinessRuleError) as exc:
        await session.rollback()
        return await _form_page(
            ctx,
            session,
            values,
            product_id=product_id,
            errors=_issues(exc, ctx.lang),
            error=ctx.t("error.fields"),
            status=422,
        )
    except Refusal as exc:
        await session.rollback()
        return await _form_page(
            ctx, session, values, product_id=product_id, error=ctx.refused(exc), status=exc.status
        )
    return redirect(ctx, f"{PREFIX}/admin/products?done=saved")


@router.post("/products")
async def create_product(ctx: Web, form: Form, session: SessionDep) -> Response:
    """Publish version 1 (or just preview its APR)."""
    return await _save(ctx, form, session, None)


@router.post("/products/{product_id}")
async def update_product(
    product_id: uuid.UUID, ctx: Web, form: Form, session: SessionDep
) -> Response:
    """Publish the next version (or just preview its APR)."""
    await _own(session, ctx, product_id)
    await session.rollback()
    return await _save(ctx, form, session, product_id)


@router.post("/products/{product_id}/retire")
async def retire_product(
    product_id: uuid.UUID, ctx: Web, form: Form, session: SessionDep
) -> Response:
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    try:
        await catalog.retire(session, admin, product_id)
    except Refusal as exc:
        raise PageError(exc.status, "error.not_found") from exc
    return redirect(ctx, f"{PREFIX}/admin/products?done=retired")


def authority_of(role: str) -> str:
    """What a role may approve under the platform's authority limits."""
    return f"authority.of.{role}" if role in {r.value for r in INSTITUTION_ROLES} else ""


@router.get("/officers")
async def officers(ctx: Web, session: SessionDep, done: str = "") -> Response:
    return await _officers_page(ctx, session, done=done)


async def _officers_page(
    ctx: WebContext,
    session: SessionDep,
    *,
    done: str = "",
    error: str = "",
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    staff = await users.institution_staff(session, admin)
    return render(
        ctx,
        "officers.html",
        status=status,
        staff=staff,
        authority_of=authority_of,
        limits=DEFAULT_AUTHORITY_LIMITS,
        done=done,
        error=error,
        errors=errors or [],
        values=values or {"role": "officer"},
    )


@router.post("/officers")
async def create_officer(ctx: Web, form: Form, session: SessionDep) -> Response:
    """Add a staff member through the users service (password rules, tenancy)."""
    admin = ctx.require(Role.INSTITUTION_ADMIN)
    values = {k: text(form, k, 100) for k in ("username", "display_name", "role")}
    try:
        body = UserCreate(
            username=values["username"],
            password=str(form.get("password", ""))[:128],
            role=values["role"] or "officer",
            display_name=values["display_name"],
            institution_id=admin.institution_id,
        )
        await users.create_staff(session, admin, body)
    except (ValidationError, BusinessRuleError) as exc:
        await session.rollback()
        return await _officers_page(
            ctx,
            session,
            error=ctx.t("error.fields"),
            errors=_issues(exc, ctx.lang),
            values=values,
            status=422,
        )
    except Refusal as exc:
        await session.rollback()
        return await _officers_page(
            ctx, session, error=ctx.refused(exc), values=values, status=exc.status
        )
    return redirect(ctx, f"{PREFIX}/admin/officers?done=created")
