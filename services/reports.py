"""What regulators read (compliance and platform admins too): a period's report rows and
platform effect, the NPL ratio trend from the daily portfolio snapshots, and the archive of
issued regulatory reports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import reporting
from db.models import PortfolioSnapshot
from db.models_compliance import RegulatoryReport
from domain.reports import (
    NON_PERFORMING,
    MetricRows,
    Period,
    PlatformMetric,
    ReportRows,
    platform_metrics,
)
from domain.roles import Role
from services.errors import not_found
from services.principal import Principal, require_role

READERS = (Role.REGULATOR, Role.COMPLIANCE, Role.PLATFORM_ADMIN)


async def report_rows(session: AsyncSession, user: Principal, period: Period) -> ReportRows:
    """The whole platform's rows of a period (the same as the archived reports are made of)."""
    require_role(user, *READERS)
    return await reporting.report_rows(session, period)


async def platform_effect(
    session: AsyncSession, user: Principal, period: Period
) -> PlatformMetric | None:
    """The whole platform's effect: the per-institution rows of the reporting read side,
    taken together (so the median is the platform's, not an average of medians)."""
    require_role(user, *READERS)
    rows = await reporting.metric_rows(session, period.start, period.end, "institution")
    whole = MetricRows(
        applications=[("platform", financed) for _, financed in rows.applications],
        decisions=[("platform", decision) for _, decision in rows.decisions],
        loans=[("platform", principal, apr) for _, principal, apr in rows.loans],
        ratings=[("platform", score) for _, score in rows.ratings],
    )
    metrics = platform_metrics(whole)
    return metrics[0] if metrics else None


async def npl_trend(
    session: AsyncSession, user: Principal, until: date, days: int
) -> list[tuple[date, Decimal]]:
    """The platform's NPL ratio (substandard + doubtful + loss over outstanding principal) on
    each snapshot day of the ``days`` up to ``until``, to four places."""
    require_role(user, *READERS)
    rows = await session.execute(
        select(PortfolioSnapshot.as_of, PortfolioSnapshot.figures)
        .where(
            PortfolioSnapshot.as_of > until - timedelta(days=days),
            PortfolioSnapshot.as_of <= until,
        )
        .order_by(PortfolioSnapshot.as_of)
    )
    principal: dict[date, Decimal] = defaultdict(Decimal)
    npl: dict[date, Decimal] = defaultdict(Decimal)
    for as_of, figures in rows:
        principal[as_of] += Decimal(str(figures.get("principal", "0")))
        by = figures.get("by_category", {})
        npl[as_of] += sum(
            (Decimal(str(by.get(c, {}).get("principal", "0"))) for c in NON_PERFORMING),
            Decimal(0),
        )
    trend = []
    for day in sorted(principal):
        ratio = (npl[day] / principal[day]) if principal[day] else Decimal(0)
        trend.append((day, ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)))
    return trend


async def archive(session: AsyncSession, user: Principal, limit: int) -> Sequence[RegulatoryReport]:
    """The generated regulatory reports, newest period first."""
    require_role(user, *READERS)
    return await reporting.list_reports(session, limit=limit)


async def report(session: AsyncSession, user: Principal, report_id: uuid.UUID) -> RegulatoryReport:
    """One archived report (404 when there is none)."""
    require_role(user, *READERS)
    found = await reporting.get_report(session, report_id)
    if found is None:
        raise not_found()
    return found
