"""Regulatory report figures reconcile exactly with the loan, application, ledger, decision-log,
classification, task and rating tables: a generated portfolio over two months, each figure of
the monthly reports against an independent SQL query."""

# The queries are assembled from constant fragments of this file, never from input.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.crypto import FieldCipher, configure_field_cipher
from config.settings import Settings
from db.reporting import current_figures
from db.session import create_engine, create_session_factory
from domain.reports import Period, RegulatoryFigures
from tests.integration.portfolio_generator import GeneratedPortfolio, generate_portfolio

TZ = "Asia/Shanghai"
IN_PERIOD = (
    "({col} AT TIME ZONE '" + TZ + "') >= :start AND ({col} AT TIME ZONE '" + TZ + "') < :end"
)


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    configure_field_cipher(FieldCipher.from_settings(Settings(_env_file=None)))  # type: ignore[call-arg]
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
async def portfolio(sessions: async_sessionmaker[AsyncSession]) -> GeneratedPortfolio:
    async with sessions() as session, session.begin():
        return await generate_portfolio(session, datetime.now(UTC))


async def _rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


def _params(portfolio: GeneratedPortfolio, period: Period) -> dict[str, Any]:
    return {"i": portfolio.institution_id, "start": period.start, "end": period.end}


async def _volume(
    session: AsyncSession, group: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    rows = await _rows(
        session,
        f"""
        SELECT {group} AS key, count(*), sum(l.principal)
        FROM loan l
        JOIN loan_application a ON a.id = l.application_id
        JOIN loan_product_version v ON v.product_id = a.product_id AND v.version = a.product_version
        JOIN enterprise e ON e.id = l.enterprise_id
        WHERE l.institution_id = :i AND {IN_PERIOD.format(col="l.disbursed_at")}
        GROUP BY 1 ORDER BY 1
        """,
        **params,
    )
    return [(str(k), n, amount) for k, n, amount in rows]


SIZE_SQL = """CASE WHEN e.registered_capital < 1000000 THEN 'micro'
    WHEN e.registered_capital < 10000000 THEN 'small'
    WHEN e.registered_capital < 50000000 THEN 'medium' ELSE 'large' END"""


async def _expected_financing(session: AsyncSession, params: dict[str, Any]) -> dict[str, Any]:
    ((loans, amount, apr),) = await _rows(
        session,
        f"""
        SELECT count(*), coalesce(sum(l.principal), 0),
               coalesce(round(sum(l.principal * (a.offer->>'apr')::numeric)
                              / nullif(sum(l.principal), 0), 4), 0)
        FROM loan l JOIN loan_application a ON a.id = l.application_id
        WHERE l.institution_id = :i AND {IN_PERIOD.format(col="l.disbursed_at")}
        """,
        **params,
    )
    return {
        "loans": loans,
        "amount": amount,
        "apr": apr,
        "family": await _volume(session, "v.terms->>'family'", params),
        "industry": await _volume(session, "e.industry", params),
        "region": await _volume(session, "substr(e.region, 1, 2) || '0000'", params),
        "size": await _volume(session, SIZE_SQL, params),
    }


DECISIONS_SQL = f"""
WITH first AS (
    SELECT a.id, a.created_at, d.kind, d.at,
           row_number() OVER (PARTITION BY a.id ORDER BY d.seq) AS rn
    FROM loan_application a
    JOIN decision_log d ON d.subject = a.workflow_id
    WHERE a.institution_id = :i
      AND d.kind IN ('application.approved', 'application.offered',
                     'application.counter_offered', 'application.declined')
), decided AS (
    SELECT kind, extract(epoch FROM at - created_at) AS s, at - created_at AS took
    FROM first WHERE rn = 1 AND {IN_PERIOD.format(col="at")}
)
SELECT count(*),
       count(*) FILTER (WHERE kind <> 'application.declined'),
       coalesce(round(count(*) FILTER (WHERE kind <> 'application.declined')::numeric
                      / nullif(count(*), 0), 4), 0),
       coalesce(round(avg(s) / 3600, 2), 0),
       coalesce(round(extract(epoch FROM
                percentile_disc(0.5) WITHIN GROUP (ORDER BY took)) / 3600, 2), 0),
       coalesce(round(extract(epoch FROM
                percentile_disc(0.9) WITHIN GROUP (ORDER BY took)) / 3600, 2), 0),
       count(*) FILTER (WHERE s < 3600),
       count(*) FILTER (WHERE s >= 3600 AND s < 86400),
       count(*) FILTER (WHERE s >= 86400 AND s < 259200),
       count(*) FILTER (WHERE s >= 259200 AND s < 604800),
       count(*) FILTER (WHERE s >= 604800)
FROM decided
"""

HELD_SQL = """
WITH balance AS (
    SELECT j.loan_id, sum(jl.debit) - sum(jl.credit) AS b
    FROM journal j JOIN journal_line jl ON jl.journal_id = j.id JOIN loan l ON l.id = j.loan_id
    WHERE l.institution_id = :i AND jl.account = 'loan_principal_receivable'
      AND j.created_at < (:end)::timestamp AT TIME ZONE 'Asia/Shanghai'
    GROUP BY j.loan_id
), latest AS (
    SELECT loan_id, category, days_past_due,
           row_number() OVER (PARTITION BY loan_id ORDER BY as_of DESC, created_at DESC) AS rn
    FROM loan_classification WHERE as_of < :end
)
SELECT coalesce(c.category, 'normal'), coalesce(c.days_past_due, 0), b.b
FROM balance b LEFT JOIN latest c ON c.loan_id = b.loan_id AND c.rn = 1
WHERE b.b <> 0
"""


def _r4(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001")) if whole else Decimal("0.0000")


@pytest.mark.parametrize("which", ["previous", "current"])
async def test_monthly_report_figures_equal_independent_sql(
    sessions: async_sessionmaker[AsyncSession], portfolio: GeneratedPortfolio, which: str
) -> None:
    period: Period = getattr(portfolio, which)
    params = _params(portfolio, period)
    async with sessions() as session:
        figures: RegulatoryFigures = await current_figures(
            session, period, institution_id=portfolio.institution_id
        )
        financing = await _expected_financing(session, params)
        decisions = (await _rows(session, DECISIONS_SQL, **params))[0]
        held = await _rows(session, HELD_SQL, **params)
        (extensions,) = await _rows(
            session,
            f"""SELECT count(*), count(*) FILTER (WHERE context->>'restructuring' = 'true')
            FROM human_task WHERE institution_id = :i AND kind = 'extension_approval'
            AND outcome = 'approved' AND {IN_PERIOD.format(col="completed_at")}""",
            **params,
        )
        (ratings,) = await _rows(
            session,
            f"""SELECT count(*), coalesce(round(avg(score), 2), 0),
                       count(*) FILTER (WHERE score <= 2)
            FROM outcome_rating WHERE institution_id = :i
            AND {IN_PERIOD.format(col="created_at")}""",
            **params,
        )
        by_score = dict(
            await _rows(
                session,
                f"""SELECT score, count(*) FROM outcome_rating WHERE institution_id = :i
                AND {IN_PERIOD.format(col="created_at")} GROUP BY score""",
                **params,
            )
        )

    # Financing volume and pricing.
    assert figures.loans_disbursed == financing["loans"] and financing["loans"] > 0
    assert figures.amount_disbursed == financing["amount"]
    assert figures.average_apr == financing["apr"]
    for name, attribute in (
        ("family", "by_product_family"),
        ("industry", "by_industry"),
        ("region", "by_region"),
        ("size", "by_enterprise_size"),
    ):
        got = [(v.key, v.loans, v.amount) for v in getattr(figures, attribute)]
        assert got == financing[name], name
    assert len(figures.by_enterprise_size) >= 2

    # Decisions and time to decision.
    decided, approved, rate, mean, median, p90, *buckets = decisions
    assert (figures.decided, figures.approved) == (decided, approved)
    assert figures.declined == decided - approved
    assert figures.approval_rate == rate
    assert (figures.mean_decision_hours, figures.median_decision_hours) == (mean, median)
    assert figures.p90_decision_hours == p90
    assert [n for _, n in figures.decision_buckets] == buckets
    if which == "current":
        assert decided == portfolio.decided and 0 < approved < decided
        assert sum(1 for n in buckets if n) >= 2  # submissions spread over two months

    # Portfolio at the period end: ledger balances, categories, NPL and overdue.
    total = sum((b for _, _, b in held), Decimal("0.00"))
    assert figures.outstanding_balance == total and figures.loans_held == len(held)
    for line in figures.by_category:
        mine = [b for c, _, b in held if c == line.category]
        assert (line.loans, line.balance) == (len(mine), sum(mine, Decimal("0.00"))), line
    npl = sum((b for c, _, b in held if c in ("substandard", "doubtful", "loss")), Decimal(0))
    overdue = [b for _, dpd, b in held if dpd > 0]
    over_90 = sum((b for _, dpd, b in held if dpd > 90), Decimal(0))
    assert (figures.npl_balance, figures.npl_ratio) == (npl, _r4(npl, total))
    assert figures.overdue_loans == len(overdue)
    assert figures.overdue_balance == sum(overdue, Decimal(0))
    assert figures.overdue_balance_rate == _r4(sum(overdue, Decimal(0)), total)
    assert figures.overdue_loan_rate == _r4(Decimal(len(overdue)), Decimal(len(held)))
    assert (figures.overdue_90_balance, figures.overdue_90_rate) == (over_90, _r4(over_90, total))

    # Extensions, restructurings, ratings and complaints.
    assert (figures.extensions, figures.restructurings) == tuple(extensions)
    assert (figures.ratings, figures.average_score, figures.complaints) == tuple(ratings)
    assert dict(figures.ratings_by_score) == {s: by_score.get(s, 0) for s in range(1, 6)}


async def test_the_ledger_balance_at_the_latest_end_equals_the_loans_read_model(
    sessions: async_sessionmaker[AsyncSession], portfolio: GeneratedPortfolio
) -> None:
    async with sessions() as session:
        figures = await current_figures(session, portfolio.current, portfolio.institution_id)
        (expected,) = await _rows(
            session,
            "SELECT coalesce(sum(outstanding_principal), 0) FROM loan WHERE institution_id = :i",
            i=portfolio.institution_id,
        )
    assert figures.outstanding_balance == expected[0] > 0


async def test_a_platform_wide_report_covers_the_generated_institution(
    sessions: async_sessionmaker[AsyncSession], portfolio: GeneratedPortfolio
) -> None:
    async with sessions() as session:
        mine = await current_figures(session, portfolio.current, portfolio.institution_id)
        everyone = await current_figures(session, portfolio.current)
    assert everyone.loans_disbursed >= mine.loans_disbursed
    assert everyone.outstanding_balance >= mine.outstanding_balance
    assert uuid.UUID(str(portfolio.institution_id))
