"""Financing demands as the parties see them: posting one (verified enterprises), who may see a
demand, its matches and answers, an institution's pending answers and its answer, the offers
compared, following, withdrawing and choosing through the demand workflow."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from config.settings import Settings
from db.models import (
    DemandMatch,
    DemandResponse,
    Enterprise,
    FinancingDemand,
    Institution,
    LoanProduct,
    LoanProductVersion,
)
from db.models import SupportPolicy as SupportPolicyRow
from db.repositories import EnterpriseRepository
from documents.pdf import render_pdf
from domain.calendar import business_today
from domain.comparison import OfferQuote, compare, quote
from domain.disclosure import RULE_SCOPES, ConsentScope, amount_band
from domain.errors import BusinessRuleError
from domain.labels import Vocabulary, label
from domain.matching import Candidate, DemandFacts, validate_demand
from domain.product_codec import policy_from_json, terms_from_json
from domain.products import MAX_ANNUAL_RATE, FinancingType
from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role
from domain.schedule import MAX_TERM_PERIODS, RepaymentMethod
from services.errors import Refusal, not_found
from services.inputs import DecimalInput, Money, Schema
from services.principal import Principal, require_role
from services.privacy import Scopes, consent_required, detached_copy, disclosure, disclosures
from services.results import QuoteOut
from services.sessions import has_row
from services.workflow_errors import run_query, run_update, submit_once
from workflows.contracts import (
    DemandInput,
    DemandProgress,
    DemandWithdrawal,
    InstitutionAnswer,
    ProductSelection,
    TaskQueue,
    WorkflowType,
    demand_workflow_id,
)

CLOSED_STAGES = frozenset({"selected", "withdrawn", "expired", "no_match"})


IndicativeRate = Annotated[
    Decimal,
    DecimalInput(
        places=6,
        whole_digits=1,
        at_most=MAX_ANNUAL_RATE,
        description='An annual rate as a fraction ("0.0435" is 4.35 %), above 0, at most 24 %',
        refusal=(
            "demand.bad_indicative_rate",
            "意向年利率须在 0 至 24% 之间",
            "An indicative annual rate in (0, 24 %] is required",
        ),
    ),
]


class AnswerIn(Schema):
    """Interested with an indicative rate, or declined with a reason (the demand workflow
    checks both: demand.bad_indicative_rate, demand.reason_required)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"interested": {"const": True}}},
            "then": {
                "required": ["indicative_rate"],
                "properties": {"indicative_rate": {"type": "string"}},
            },
            "else": {"required": ["reason"], "properties": {"reason": {"pattern": r"\S"}}},
        }
    )

    interested: bool
    indicative_rate: IndicativeRate | None = None
    indicative_amount: Money | None = None
    reason: str = Field(default="", max_length=1000)


async def demand_for(
    session: AsyncSession, user: Principal, demand_id: uuid.UUID
) -> FinancingDemand:
    """The demand if the caller may see it: its enterprise, an institution it was sent to,
    or a platform-wide role; otherwise 404."""
    demand = await session.get(FinancingDemand, demand_id)
    if demand is None:
        raise not_found()
    if user.role in PLATFORM_WIDE_READERS or user.enterprise_id == demand.enterprise_id:
        return demand
    if user.role in INSTITUTION_ROLES and user.institution_id is not None:
        sent = await session.scalar(
            select(DemandResponse.id).where(
                DemandResponse.demand_id == demand_id,
                DemandResponse.institution_id == user.institution_id,
            )
        )
        if sent is not None:
            return demand
    raise not_found()


def own_answers_only(user: Principal, progress: DemandProgress) -> DemandProgress:
    """What a lender may see of a shared demand: its own institution's state, never a
    competitor's answer (the enterprise and platform-wide readers see them all)."""
    if user.role not in INSTITUTION_ROLES:
        return progress
    own = [s for s in progress.institutions if sees_institution(user, s.institution_id)]
    return progress.model_copy(update={"institutions": own})


def sees_institution(user: Principal, institution_id: uuid.UUID) -> bool:
    """Whether the caller may see what one institution said or was matched."""
    return user.role not in INSTITUTION_ROLES or institution_id == user.institution_id


async def _update(
    temporal: Client,
    demand_id: uuid.UUID,
    name: str,
    *args: object,
    update_id: str | None = None,
) -> DemandProgress:
    return await run_update(
        temporal,
        demand_workflow_id(demand_id),
        name,
        *args,
        result_type=DemandProgress,
        update_id=update_id,
    )


async def progress(
    session: AsyncSession, temporal: Client, user: Principal, demand_id: uuid.UUID
) -> DemandProgress:
    """The demand workflow's live state, as far as the caller may see it."""
    await demand_for(session, user, demand_id)
    progress = await run_query(temporal, demand_workflow_id(demand_id), "progress", DemandProgress)
    return own_answers_only(user, progress)


async def withdraw(
    session: AsyncSession, temporal: Client, user: Principal, demand_id: uuid.UUID
) -> DemandProgress:
    """Withdraw at any time before choosing; open institution tasks are cancelled."""
    require_role(user, Role.APPLICANT)
    demand = await demand_for(session, user, demand_id)
    if demand.status in CLOSED_STAGES:
        raise Refusal(409, "demand.closed", "该融资需求已结束", "The demand is closed")
    withdrawal = DemandWithdrawal(withdrawn_by=user.user_id, withdrawer_role=user.role.value)
    return await _update(temporal, demand_id, "withdraw", withdrawal)


async def answer(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    demand_id: uuid.UUID,
    body: AnswerIn,
) -> DemandProgress:
    """An institution answers: interested with indicative terms, or declined with a reason."""
    require_role(user, *INSTITUTION_ROLES)
    await demand_for(session, user, demand_id)
    assert user.institution_id is not None
    answer = InstitutionAnswer(
        institution_id=user.institution_id,
        responder_id=user.user_id,
        responder_role=user.role.value,
        interested=body.interested,
        indicative_rate=body.indicative_rate,
        indicative_amount=body.indicative_amount,
        reason=body.reason,
    )
    progress = await _update(
        temporal,
        demand_id,
        "respond",
        answer,
        # A repeat of the same answer (a retried request) is answered once; another answer
        # reaches the workflow, which refuses it (demand.already_answered): one id for every
        # answer handed a second, different answer the first one's result, as if it counted.
        update_id=f"answer-{demand_id}-{user.institution_id}-{_digest(body)}",
    )
    return own_answers_only(user, progress)


def _digest(body: AnswerIn) -> str:
    """A short fingerprint of what the answer says."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:16]


async def select_products(
    session: AsyncSession,
    temporal: Client,
    user: Principal,
    demand_id: uuid.UUID,
    product_ids: list[uuid.UUID],
) -> DemandProgress:
    """Choose the products to apply for (the application itself is the next stage)."""
    require_role(user, Role.APPLICANT)
    await demand_for(session, user, demand_id)
    selection = ProductSelection(
        product_ids=product_ids, selected_by=user.user_id, selector_role=user.role.value
    )
    return await _update(temporal, demand_id, "select_products", selection)


@dataclass(frozen=True, slots=True)
class DemandCard:
    """A demand as the caller may read it.

    Identified (the caller may read the enterprise's ``profile``: its own users, platform-wide
    readers, an institution the enterprise applied to, authorized, or shares its profile with as
    a matched institution; ``services.privacy.disclosures``): the whole demand and the
    enterprise's name. Anonymous to any other institution it was published to: the industry
    section, region, amount band and term, but no name, exact amount or purpose (free text that
    may name the enterprise)."""

    demand: FinancingDemand
    scopes: Scopes
    enterprise_name: str | None
    industry: str
    region: str
    amount_band: str

    @property
    def identified(self) -> bool:
        return ConsentScope.PROFILE in self.scopes

    @property
    def enterprise_id(self) -> uuid.UUID | None:
        return self.demand.enterprise_id if self.identified else None

    @property
    def amount(self) -> Decimal | None:
        return self.demand.amount if self.identified else None

    @property
    def purpose(self) -> str | None:
        return self.demand.purpose if self.identified else None


async def _cards(
    session: AsyncSession, user: Principal, rows: list[FinancingDemand]
) -> list[DemandCard]:
    """The demands as the caller may read them (two queries and one consent check)."""
    ids = {row.enterprise_id for row in rows}
    scopes = await disclosures(session, user, ids)
    enterprises = {
        e.id: e for e in await session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))
    }
    cards = []
    for row in rows:
        enterprise, seen = enterprises[row.enterprise_id], scopes[row.enterprise_id]
        cards.append(
            DemandCard(
                demand=row,
                scopes=seen,
                enterprise_name=enterprise.name if ConsentScope.PROFILE in seen else None,
                industry=enterprise.industry,
                region=enterprise.region,
                amount_band=amount_band(row.amount),
            )
        )
    return cards


def _pending(user: Principal) -> Select[DemandResponse, FinancingDemand]:
    return (
        select(DemandResponse, FinancingDemand)
        .join(FinancingDemand, FinancingDemand.id == DemandResponse.demand_id)
        .where(
            DemandResponse.institution_id == user.institution_id,
            DemandResponse.status == "pending",
        )
    )


async def pending_count(session: AsyncSession, user: Principal) -> int:
    """How many demands sent to the caller's institution still wait for its answer."""
    require_role(user, *INSTITUTION_ROLES)
    stmt = select(func.count()).select_from(_pending(user).subquery())
    return await session.scalar(stmt) or 0


async def pending(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> list[tuple[DemandResponse, DemandCard]]:
    """The demands sent to the caller's institution and not yet answered, soonest due first,
    each as the institution may read it (anonymous before consent, ``DemandCard``)."""
    require_role(user, *INSTITUTION_ROLES)
    stmt = _pending(user).order_by(DemandResponse.due_at).limit(limit).offset(offset)
    rows = (await session.execute(stmt)).all()
    cards = await _cards(session, user, [d for _, d in rows])
    return [(r, card) for (r, _), card in zip(rows, cards, strict=True)]


class DemandIn(Schema):
    amount: Annotated[
        Decimal,
        DecimalInput(
            places=2,
            description='The amount sought in yuan: "1234.56" (at most two decimals) or a '
            "whole number, above zero",
            checked_by="validate_demand: money.not_positive",
        ),
    ]
    term_months: int = Field(
        json_schema_extra={"minimum": 1, "maximum": MAX_TERM_PERIODS},
        description="Months, 1 to 600 (checked by validate_demand: demand.term_out_of_range)",
    )
    purpose: str = Field(min_length=2, max_length=1000)
    financing_type: FinancingType
    repayment_method: RepaymentMethod | None = None


async def postable(session: AsyncSession, user: Principal, body: DemandIn) -> uuid.UUID:
    """The caller's enterprise, once it is verified and the demand keeps the rules (every
    problem at once); its id."""
    require_role(user, Role.APPLICANT)
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    if enterprise is None or enterprise.status != "verified":
        raise Refusal(
            409,
            "enterprise.not_verified",
            "企业认证通过后才能发布融资需求",
            "Only verified enterprises can post financing demands",
        )
    facts = DemandFacts(
        amount=body.amount,
        term_months=body.term_months,
        financing_type=body.financing_type,
        repayment_method=body.repayment_method,
    )
    problems = validate_demand(facts)
    if problems:
        raise BusinessRuleError(problems)
    return enterprise.id


async def exists(session: AsyncSession, demand_id: uuid.UUID) -> bool:
    """Whether a demand with this id is recorded."""
    return await has_row(session, FinancingDemand.id, demand_id)


async def submit(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    enterprise_id: uuid.UUID,
    demand_id: uuid.UUID,
    body: DemandIn,
) -> tuple[DemandInput, FinancingDemand | None]:
    """Start the demand workflow (once per id: the same id again finds the first), naming
    ``user`` as its submitter; what was submitted, and the demand as recorded (None while it is
    not readable yet)."""
    demand = DemandInput(
        demand_id=demand_id,
        enterprise_id=enterprise_id,
        amount=body.amount,
        term_months=body.term_months,
        purpose=body.purpose,
        financing_type=body.financing_type.value,
        repayment_method=body.repayment_method.value if body.repayment_method else None,
        submitted_by=user.user_id,
        submitter_role=user.role.value,
    )
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WorkflowType.FINANCING_DEMAND,
        demand,
        id=demand_workflow_id(demand_id),
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    # Answers once the demand is recorded, so it can be read right after this call.
    await submit_once(temporal, start, "submission", DemandProgress)
    existing = await session.get(FinancingDemand, demand_id)
    if existing is not None:
        await session.refresh(existing)
    return demand, existing


async def visible_demands(
    session: AsyncSession, user: Principal, *, limit: int, offset: int = 0
) -> list[DemandCard]:
    """Applicants: their demands. Staff: demands sent to their institution (anonymous before
    consent, ``DemandCard``). Platform-wide readers: all. Newest first."""
    stmt = select(FinancingDemand).order_by(FinancingDemand.created_at.desc())
    if user.role is Role.APPLICANT:
        stmt = stmt.where(FinancingDemand.enterprise_id == user.enterprise_id)
    elif user.role in INSTITUTION_ROLES:
        stmt = stmt.join(DemandResponse, DemandResponse.demand_id == FinancingDemand.id).where(
            DemandResponse.institution_id == user.institution_id
        )
    elif user.role not in PLATFORM_WIDE_READERS:
        raise Refusal(403, "auth.role_not_allowed", "当前角色无权查看", "Not allowed")
    rows = list(await session.scalars(stmt.limit(limit).offset(offset)))
    return await _cards(session, user, rows)


@dataclass(frozen=True, slots=True)
class DemandView:
    """A demand with its explained matches (product and institution names) and the
    institutions' answers, as far as the caller may see them."""

    card: DemandCard
    matches: list[tuple[DemandMatch, str, str]]
    responses: list[tuple[DemandResponse, str]]


async def detail(session: AsyncSession, user: Principal, demand_id: uuid.UUID) -> DemandView:
    """The demand, its explained matches and the institutions' answers."""
    demand = await demand_for(session, user, demand_id)
    matches = await session.execute(
        select(DemandMatch, LoanProduct.name, Institution.name)
        .join(LoanProduct, LoanProduct.id == DemandMatch.product_id)
        .join(Institution, Institution.id == DemandMatch.institution_id)
        .where(DemandMatch.demand_id == demand_id)
        .order_by(DemandMatch.rank)
    )
    responses = await session.execute(
        select(DemandResponse, Institution.name)
        .join(Institution, Institution.id == DemandResponse.institution_id)
        .where(DemandResponse.demand_id == demand_id)
    )
    (card,) = await _cards(session, user, [demand])
    return DemandView(
        card,
        [
            (withhold_reasons(m, card.scopes), p, i)
            for m, p, i in matches
            if sees_institution(user, m.institution_id)
        ],
        [(r, i) for r, i in responses if sees_institution(user, r.institution_id)],
    )


def withhold_reasons(match: DemandMatch, scopes: Scopes) -> DemandMatch:
    """The match, its explanation without the reasons that quote data the caller may not read
    (the exact amount, revenue, grade: ``RULE_SCOPES``), each replaced, in both languages, by
    the label saying consent is required (a detached copy: the stored row is left alone)."""
    explanation = match.explanation
    rules = [dict(r) for r in explanation.get("rules", [])]
    hidden = [r for r in rules if RULE_SCOPES.get(r.get("rule", "")) not in (None, *scopes)]
    if not hidden:
        return match
    zh, en = explanation.get("zh", ""), explanation.get("en", "")
    withheld_zh = label(Vocabulary.CONSENT, "required", "zh")
    withheld_en = label(Vocabulary.CONSENT, "required", "en")
    for rule in hidden:
        zh = zh.replace(rule["reason_zh"], withheld_zh)
        en = en.replace(rule["reason_en"], withheld_en)
        rule.update(reason_zh=withheld_zh, reason_en=withheld_en)
    return detached_copy(match, explanation={**explanation, "zh": zh, "en": en, "rules": rules})


async def _quotes(
    session: AsyncSession, demand: FinancingDemand, user: Principal
) -> list[QuoteOut]:
    """The comparison as the caller may see it: a lender only its own products and answer."""
    rows = await session.execute(
        select(DemandMatch, LoanProduct, LoanProductVersion, Institution)
        .join(LoanProduct, LoanProduct.id == DemandMatch.product_id)
        .join(
            LoanProductVersion,
            (LoanProductVersion.product_id == LoanProduct.id)
            & (LoanProductVersion.version == DemandMatch.product_version),
        )
        .join(Institution, Institution.id == DemandMatch.institution_id)
        .where(DemandMatch.demand_id == demand.id, DemandMatch.eligible.is_(True))
    )
    answers = {
        r.institution_id: r
        for r in await session.scalars(
            select(DemandResponse).where(DemandResponse.demand_id == demand.id)
        )
    }
    start = business_today()
    policy_ids = [uuid.UUID(p) for p in demand.applicable_policies]
    policies = [
        policy_from_json(row.terms)
        for row in await session.scalars(
            select(SupportPolicyRow).where(SupportPolicyRow.id.in_(policy_ids))
        )
    ]
    quotes: list[tuple[OfferQuote, QuoteOut]] = []
    for match, product, version, institution in rows.all():
        if not sees_institution(user, institution.id):
            continue
        terms = terms_from_json(version.terms)
        answer = answers.get(institution.id)
        interested = (
            None
            if answer is None or answer.status in ("pending", "reminded")
            else (answer.status == "interested")
        )
        rate = (
            answer.indicative_rate
            if answer is not None and answer.indicative_rate
            else match.indicative_rate
        )
        method = (
            RepaymentMethod(demand.repayment_method)
            if demand.repayment_method
            else sorted(terms.repayment_methods)[0]
        )
        candidate = Candidate(
            product_id=str(product.id),
            version=version.version,
            institution_id=str(institution.id),
            terms=terms,
        )
        offer = quote(candidate, demand.amount, demand.term_months, rate, method, start, policies)
        quotes.append(
            (
                offer,
                QuoteOut(
                    product_id=product.id,
                    product_name=product.name,
                    institution_name=institution.name,
                    institution_interested=interested,
                    amount=offer.amount,
                    term_months=offer.term_months,
                    rate=offer.rate,
                    method=offer.method.value,
                    first_installment=offer.first_installment,
                    max_installment=offer.max_installment,
                    total_interest=offer.total_interest,
                    total_fees=offer.total_fees,
                    total_cost=offer.total_cost,
                    apr=offer.apr,
                    effective_annual_rate=offer.effective_annual_rate,
                    subsidy=offer.subsidy,
                    net_cost=offer.net_cost,
                    response_sla_hours=terms.response_sla_hours,
                ),
            )
        )
    order = {id(q): i for i, q in enumerate(compare([q for q, _ in quotes]))}
    return [out for offer, out in sorted(quotes, key=lambda pair: order[id(pair[0])])]


async def comparison(
    session: AsyncSession, user: Principal, demand_id: uuid.UUID
) -> list[QuoteOut]:
    """Every eligible product side by side: installment, interest, fees, APR, net cost."""
    demand = await _identified_demand(session, user, demand_id)
    return await _quotes(session, demand, user)


async def _identified_demand(
    session: AsyncSession, user: Principal, demand_id: uuid.UUID
) -> FinancingDemand:
    """The demand, for a caller who may identify its enterprise: the comparison quotes its exact
    amount and names the enterprise, so an institution the demand is anonymous to is refused
    (403 consent.required)."""
    demand = await demand_for(session, user, demand_id)
    if ConsentScope.PROFILE not in await disclosure(session, user, demand.enterprise_id):
        raise consent_required()
    return demand


async def comparison_pdf(session: AsyncSession, user: Principal, demand_id: uuid.UUID) -> bytes:
    """The comparison sheet as a PDF (Chinese, embedded CJK font)."""
    demand = await _identified_demand(session, user, demand_id)
    quotes = await _quotes(session, demand, user)
    enterprise = await EnterpriseRepository(session).get(demand.enterprise_id)
    assert enterprise is not None
    return await asyncio.to_thread(
        render_pdf,
        "offer_comparison",
        {
            "enterprise_name": enterprise.name,
            "demand": demand,
            "quotes": [q.model_dump() for q in quotes],
            "generated_on": business_today(),
        },
    )
