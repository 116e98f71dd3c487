"""Regulator pages (read-only): the dashboard — lending by industry and region, NPL ratio
trend, time to decision, APR distribution, platform effect — and the report archive.

Figures come from ``services.reports`` over the reporting read side (the same rows and
computations as the archived regulatory reports); the NPL trend adds up the daily portfolio
snapshots."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from itertools import pairwise

from fastapi import APIRouter
from fastapi.responses import Response

from domain.calendar import business_today
from domain.labels import Vocabulary, label
from domain.reports import (
    Period,
    ReportKind,
    Volume,
    compute,
)
from gateway.deps import ContextDep, SessionDep
from services import reports
from services.errors import Refusal
from services.reports import READERS
from services.subjects import people
from web.charts import Point, bar_chart, histogram, line_chart
from web.core import PageError, Web, render
from web.formats import money, percent

router = APIRouter(prefix="/regulator", include_in_schema=False)

TREND_DAYS = 90
APR_BANDS = (Decimal("0.04"), Decimal("0.06"), Decimal("0.08"), Decimal("0.10"), Decimal("0.12"))


def _period(kind: str, start: str) -> Period:
    """The chosen period; by default the quarter running today."""
    chosen = ReportKind.MONTHLY if kind == "monthly" else ReportKind.QUARTERLY
    try:
        day = date.fromisoformat(start) if start else business_today()
    except ValueError:
        day = business_today()
    first = day.replace(day=1)
    if chosen is ReportKind.QUARTERLY:
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    return Period.of(chosen, first)


def apr_bands(aprs: list[Decimal]) -> list[Point]:
    """Loans by APR band: under 4 %, 4–6 %, … , 12 % and more."""
    counts = [0] * (len(APR_BANDS) + 1)
    for apr in aprs:
        counts[sum(1 for edge in APR_BANDS if apr >= edge)] += 1
    edges = [f"{int(e * 100)}%" for e in APR_BANDS]
    names = [f"<{edges[0]}"]
    names += [f"{lo}–{hi}" for lo, hi in pairwise(edges)]
    names += [f"≥{edges[-1]}"]
    return [Point(n, Decimal(c), str(c)) for n, c in zip(names, counts, strict=True)]


@router.get("")
async def dashboard(ctx: Web, session: SessionDep, kind: str = "", start: str = "") -> Response:
    user = ctx.require(*READERS)
    period = _period(kind, start)
    rows = await reports.report_rows(session, user, period)
    figures = compute(rows)
    platform = await reports.platform_effect(session, user, period)
    trend = await reports.npl_trend(session, user, period.last_day, TREND_DAYS)
    lang, empty = ctx.lang, ctx.t("dashboard.no_data")

    def volume_points(volumes: tuple[Volume, ...], vocabulary: Vocabulary) -> list[Point]:
        ordered = sorted(volumes, key=lambda v: v.amount, reverse=True)[:12]
        return [
            Point(label(vocabulary, v.key, lang), v.amount, f"{money(v.amount)} · {v.loans}")
            for v in ordered
        ]

    buckets = [
        Point(label(Vocabulary.DECISION_BUCKET, b, lang), Decimal(n), str(n))
        for b, n in figures.decision_buckets
    ]
    aprs = [loan.apr for loan in rows.disbursed if loan.apr is not None]
    charts = {
        "by-industry": bar_chart(
            ctx.t("dashboard.by_industry"),
            volume_points(figures.by_industry, Vocabulary.INDUSTRY),
            empty,
        ),
        "by-region": bar_chart(
            ctx.t("dashboard.by_region"), volume_points(figures.by_region, Vocabulary.REGION), empty
        ),
        "npl-trend": line_chart(
            ctx.t("dashboard.npl_trend"),
            [Point(day.strftime("%m-%d"), ratio, percent(ratio)) for day, ratio in trend],
            empty,
        ),
        "time-to-decision": histogram(ctx.t("dashboard.ttd"), buckets, empty),
        "apr": histogram(ctx.t("dashboard.apr"), apr_bands(aprs), empty),
    }
    return render(
        ctx,
        "dashboard.html",
        period=period,
        kind=period.kind.value,
        figures=figures,
        platform=platform,
        charts=charts,
    )


@router.get("/reports")
async def reports_page(ctx: Web, session: SessionDep) -> Response:
    """The archive of generated regulatory reports, newest period first."""
    archived = await reports.archive(session, ctx.require(*READERS), limit=200)
    authors = await people(session, [r.generated_by for r in archived])
    return render(ctx, "reports.html", reports=archived, people=authors)


@router.get("/reports/{report_id}/{form}")
async def report_file(
    report_id: uuid.UUID, form: str, ctx: Web, session: SessionDep, app_ctx: ContextDep
) -> Response:
    """An archived report as issued (PDF or CSV), from the encrypted document store."""
    user = ctx.require(*READERS)
    if form not in ("pdf", "csv"):
        raise PageError(404, "error.not_found")
    try:
        report = await reports.report(session, user, report_id)
    except Refusal as exc:
        raise PageError(404, "error.not_found") from exc
    sha = report.pdf_sha256 if form == "pdf" else report.csv_sha256
    media = "application/pdf" if form == "pdf" else "text/csv; charset=utf-8"
    name = f"report-{report.kind}-{report.period_start.isoformat()}-v{report.version}.{form}"
    return Response(
        app_ctx.document_store().get(sha),
        media_type=media,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Document-SHA256": sha,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
