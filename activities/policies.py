"""Push a published support policy to every verified enterprise it fits."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.notifications import EnterpriseNotifier
from adapters.errors import ProviderError
from adapters.tax.protocol import TaxDataProvider
from db.models import Enterprise, SupportPolicy
from domain.calendar import business_today
from domain.matching import EnterpriseProfile
from domain.policies import policy_applies, size_of
from domain.product_codec import policy_from_json
from workflows.contracts import PolicyPushResult, PolicyRef

log = structlog.get_logger("loanbridge.policies")


class PolicyActivities:
    """Matching a policy to enterprises needs their size, so revenue comes from tax data."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        notifier: EnterpriseNotifier,
        tax: TaxDataProvider,
    ) -> None:
        self.session_factory = session_factory
        self.notifier = notifier
        self.tax = tax

    @activity.defn(name="push_policy")
    async def push_policy(self, ref: PolicyRef) -> PolicyPushResult:
        """Notify each fitting verified enterprise once (delivery key per policy and enterprise)."""
        async with self.session_factory() as session:
            row = await session.get(SupportPolicy, ref.policy_id)
            assert row is not None
            policy = policy_from_json(row.terms)
            enterprises = list(
                await session.scalars(select(Enterprise).where(Enterprise.status == "verified"))
            )
        today = business_today()
        notified = 0
        for n, enterprise in enumerate(enterprises):
            activity.heartbeat(n)
            revenue = None
            if policy.sizes:
                try:
                    profile = await self.tax.get_filings(enterprise.uscc)
                    revenue = profile.filings[-1].revenue if profile and profile.filings else None
                except ProviderError:
                    log.warning("tax data unavailable; size unknown")
            facts = EnterpriseProfile(
                industry=enterprise.industry,
                region=enterprise.region,
                founding_date=enterprise.founding_date,
                annual_revenue=revenue,
                credit_grade=None,
                has_collateral=False,
                has_guarantor=False,
            )
            size = size_of(revenue, None) if revenue is not None else None
            if not policy_applies(policy, facts, size, today):
                continue
            sent = await self.notifier.notify(
                enterprise.id,
                "policy_published",
                {"title": policy.title, "issuer": policy.issuer},
                key=f"policy-{ref.policy_id}:{enterprise.id}",
            )
            notified += int(sent)
        log.info("policy pushed", checked=len(enterprises), notified=notified)
        return PolicyPushResult(enterprises_checked=len(enterprises), enterprises_notified=notified)
