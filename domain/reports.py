"""Regulatory report figures (监管报表) computed from plain rows: financing volume by product
family, industry, region and enterprise size; approvals and time to decision; average APR;
outstanding balance, five-category distribution, NPL and overdue ratios; extensions and
restructurings; ratings and complaints.

Definitions (each figure is reproducible with one SQL query over the business tables):

- Financing volume: loans disbursed in the period (business date, Asia/Shanghai), count and
  principal. Region is the province (first two digits of the GB/T 2260 code + ``0000``).
  Enterprise size is a band of registered capital (``size_band``): the platform holds no
  headcount or revenue at registration, so capital is the proxy, documented as such.
- Decisions: applications whose first credit decision (approved, offered, counter-offered or
  declined) falls in the period; approval rate = approved / decided; time to decision from
  submission to that decision, as mean, median and 90th percentile (the lower value, like
  PostgreSQL's ``percentile_disc``) in hours, and counts per bucket.
- Average APR: principal-weighted APR of the offers of the loans disbursed in the period.
- Portfolio at the period end: principal receivable per loan from the ledger; the category
  and days past due from the latest classification before the end (normal when none).
  NPL = substandard + doubtful + loss balance / total balance; overdue = days past due > 0.
- Extensions: approved extension decisions in the period; restructurings are those granted
  for financial difficulty.
- Feedback: ratings given in the period; a complaint is a rating of 1 or 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

RATIO = Decimal("0.0001")
HOURS = Decimal("0.01")
SECONDS_PER_HOUR = Decimal(3600)
NON_PERFORMING = frozenset({"substandard", "doubtful", "loss"})
CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")
# Upper bounds (exclusive) of the time-to-decision buckets, in seconds.
DECISION_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("lt_1h", 3600),
    ("lt_24h", 86400),
    ("lt_3d", 3 * 86400),
    ("lt_7d", 7 * 86400),
    ("ge_7d", None),
)
# Registered-capital bands (exclusive upper bounds, yuan): the size proxy.
SIZE_BANDS: tuple[tuple[str, Decimal | None], ...] = (
    ("micro", Decimal(1_000_000)),
    ("small", Decimal(10_000_000)),
    ("medium", Decimal(50_000_000)),
    ("large", None),
)
COMPLAINT_MAX_SCORE = 2


class ReportKind(StrEnum):
    """How long a report's period is."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period of business dates: ``start`` included, ``end`` excluded."""

    kind: ReportKind
    start: date
    end: date

    @classmethod
    def of(cls, kind: ReportKind, start: date) -> Period:
        """The period of ``kind`` beginning on ``start`` (the 1st of a month / quarter)."""
        if start.day != 1 or (kind is ReportKind.QUARTERLY and start.month % 3 != 1):
            raise ValueError(f"a {kind.value} period starts on the first day of a {kind.value}")
        months = 1 if kind is ReportKind.MONTHLY else 3
        year, month = divmod(start.month - 1 + months, 12)
        return cls(kind, start, date(start.year + year, month + 1, 1))

    @classmethod
    def previous(cls, kind: ReportKind, today: date) -> Period:
        """The last complete period before ``today`` (what a schedule reports on)."""
        first = today.replace(day=1)
        if kind is ReportKind.QUARTERLY:
            first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
        last_day_before = first - timedelta(days=1)
        start = last_day_before.replace(day=1)
        if kind is ReportKind.QUARTERLY:
            start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
        return cls.of(kind, start)

    @property
    def label(self) -> str:
        """``2026-10`` for a month, ``2026-Q4`` for a quarter."""
        if self.kind is ReportKind.MONTHLY:
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DisbursedLoan:
    """A loan disbursed in the period, with what the volume breakdowns need."""

    principal: Decimal
    apr: Decimal | None
    product_family: str
    industry: str
    region: str
    registered_capital: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    """An application's first credit decision: approved or not, seconds after submission."""

    approved: bool
    seconds: Decimal


@dataclass(frozen=True, slots=True)
class HeldLoan:
    """A loan on the book at the period end: ledger balance, category and days past due."""

    balance: Decimal
    category: str
    days_past_due: int


@dataclass(frozen=True, slots=True)
class ReportRows:
    """Everything a report is computed from, gathered by SQL from the business tables."""

    period: Period
    disbursed: Sequence[DisbursedLoan] = ()
    decisions: Sequence[Decision] = ()
    held: Sequence[HeldLoan] = ()
    extensions: Sequence[bool] = ()  # one per approved extension: True when a restructuring
    ratings: Sequence[int] = ()


@dataclass(frozen=True, slots=True)
class Volume:
    """Count and principal of one group of disbursed loans."""

    key: str
    loans: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CategoryLine:
    category: str
    loans: int
    balance: Decimal


@dataclass(frozen=True, slots=True)
class RegulatoryFigures:
    """The figures of one report, ready for JSON, CSV and the PDF template."""

    period: Period
    loans_disbursed: int
    amount_disbursed: Decimal
    by_product_family: tuple[Volume, ...]
    by_industry: tuple[Volume, ...]
    by_region: tuple[Volume, ...]
    by_enterprise_size: tuple[Volume, ...]
    decided: int
    approved: int
    declined: int
    approval_rate: Decimal
    mean_decision_hours: Decimal
    median_decision_hours: Decimal
    p90_decision_hours: Decimal
    decision_buckets: tuple[tuple[str, int], ...]
    average_apr: Decimal
    loans_held: int
    outstanding_balance: Decimal
    by_category: tuple[CategoryLine, ...]
    npl_balance: Decimal
    npl_ratio: Decimal
    overdue_loans: int
    overdue_balance: Decimal
    overdue_loan_rate: Decimal
    overdue_balance_rate: Decimal
    overdue_90_balance: Decimal
    overdue_90_rate: Decimal
    extensions: int
    restructurings: int
    ratings: int
    average_score: Decimal
    ratings_by_score: tuple[tuple[int, int], ...]
    complaints: int

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (money and ratios as strings, so nothing passes through a float)."""
        return {
            "period": {
                "kind": self.period.kind.value,
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "financing": {
                "loans": self.loans_disbursed,
                "amount": str(self.amount_disbursed),
                "by_product_family": _volumes(self.by_product_family),
                "by_industry": _volumes(self.by_industry),
                "by_region": _volumes(self.by_region),
                "by_enterprise_size": _volumes(self.by_enterprise_size),
            },
            "decisions": {
                "decided": self.decided,
                "approved": self.approved,
                "declined": self.declined,
                "approval_rate": str(self.approval_rate),
                "mean_hours": str(self.mean_decision_hours),
                "median_hours": str(self.median_decision_hours),
                "p90_hours": str(self.p90_decision_hours),
                "distribution": [{"bucket": b, "count": n} for b, n in self.decision_buckets],
            },
            "pricing": {"average_apr": str(self.average_apr)},
            "portfolio": {
                "loans": self.loans_held,
                "outstanding": str(self.outstanding_balance),
                "by_category": [
                    {"category": c.category, "loans": c.loans, "balance": str(c.balance)}
                    for c in self.by_category
                ],
                "npl_balance": str(self.npl_balance),
                "npl_ratio": str(self.npl_ratio),
                "overdue_loans": self.overdue_loans,
                "overdue_balance": str(self.overdue_balance),
                "overdue_loan_rate": str(self.overdue_loan_rate),
                "overdue_balance_rate": str(self.overdue_balance_rate),
                "overdue_90_balance": str(self.overdue_90_balance),
                "overdue_90_rate": str(self.overdue_90_rate),
            },
            "extensions": {"extensions": self.extensions, "restructurings": self.restructurings},
            "feedback": {
                "ratings": self.ratings,
                "average_score": str(self.average_score),
                "by_score": [{"score": s, "count": n} for s, n in self.ratings_by_score],
                "complaints": self.complaints,
            },
        }


def _volumes(volumes: Iterable[Volume]) -> list[dict[str, Any]]:
    return [{"key": v.key, "loans": v.loans, "amount": str(v.amount)} for v in volumes]


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """``part / whole`` to four decimals half-up; 0 when the whole is 0."""
    if not whole:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_HALF_UP)


def hours(seconds: Decimal) -> Decimal:
    """Seconds as hours to the hundredth, half-up."""
    return (seconds / SECONDS_PER_HOUR).quantize(HOURS, rounding=ROUND_HALF_UP)


def percentile_disc(values: Sequence[Decimal], fraction: Decimal) -> Decimal:
    """The first value whose cumulative share reaches ``fraction`` (0 for no values)."""
    if not values:
        return Decimal(0)
    ordered = sorted(values)
    position = math.ceil(fraction * len(ordered))  # exact: Decimal, no float
    return ordered[max(position, 1) - 1]


def province(region: str) -> str:
    """The province of a GB/T 2260 code: ``440305`` → ``440000``."""
    return f"{region[:2]}0000"


def size_band(registered_capital: Decimal) -> str:
    """The enterprise-size band of a registered capital (yuan)."""
    for band, upper in SIZE_BANDS:
        if upper is None or registered_capital < upper:
            return band
    raise AssertionError("the last band is open-ended")  # pragma: no cover


def decision_bucket(seconds: Decimal) -> str:
    for bucket, upper in DECISION_BUCKETS:
        if upper is None or seconds < upper:
            return bucket
    raise AssertionError("the last bucket is open-ended")  # pragma: no cover


def _group(loans: Iterable[DisbursedLoan], key: Any) -> tuple[Volume, ...]:
    groups: dict[str, list[Decimal]] = {}
    for loan in loans:
        groups.setdefault(key(loan), []).append(loan.principal)
    return tuple(
        Volume(k, len(amounts), sum(amounts, Decimal("0.00")))
        for k, amounts in sorted(groups.items())
    )


def compute(rows: ReportRows) -> RegulatoryFigures:
    """The report's figures from its rows; pure, so the same rows give the same figures."""
    disbursed = rows.disbursed
    amount = sum((loan.principal for loan in disbursed), Decimal("0.00"))
    priced = [loan for loan in disbursed if loan.apr is not None]
    priced_amount = sum((loan.principal for loan in priced), Decimal("0.00"))
    weighted = sum((loan.principal * (loan.apr or 0) for loan in priced), Decimal(0))

    seconds = [d.seconds for d in rows.decisions]
    approved = sum(1 for d in rows.decisions if d.approved)
    buckets = {bucket: 0 for bucket, _ in DECISION_BUCKETS}
    for value in seconds:
        buckets[decision_bucket(value)] += 1

    held = [loan for loan in rows.held if loan.balance > 0]
    balance = sum((loan.balance for loan in held), Decimal("0.00"))
    by_category = tuple(
        CategoryLine(
            category,
            sum(1 for loan in held if loan.category == category),
            sum((loan.balance for loan in held if loan.category == category), Decimal("0.00")),
        )
        for category in CATEGORIES
    )
    npl = sum((c.balance for c in by_category if c.category in NON_PERFORMING), Decimal("0.00"))
    overdue = [loan for loan in held if loan.days_past_due > 0]
    overdue_balance = sum((loan.balance for loan in overdue), Decimal("0.00"))
    overdue_90 = sum((loan.balance for loan in held if loan.days_past_due > 90), Decimal("0.00"))
    ratings = list(rows.ratings)
    return RegulatoryFigures(
        period=rows.period,
        loans_disbursed=len(disbursed),
        amount_disbursed=amount,
        by_product_family=_group(disbursed, lambda loan: loan.product_family),
        by_industry=_group(disbursed, lambda loan: loan.industry),
        by_region=_group(disbursed, lambda loan: province(loan.region)),
        by_enterprise_size=_group(disbursed, lambda loan: size_band(loan.registered_capital)),
        decided=len(seconds),
        approved=approved,
        declined=len(seconds) - approved,
        approval_rate=ratio(approved, len(seconds)),
        mean_decision_hours=hours(sum(seconds, Decimal(0)) / len(seconds))
        if seconds
        else Decimal("0.00"),
        median_decision_hours=hours(percentile_disc(seconds, Decimal("0.5"))),
        p90_decision_hours=hours(percentile_disc(seconds, Decimal("0.9"))),
        decision_buckets=tuple(buckets.items()),
        average_apr=ratio(weighted, priced_amount),
        loans_held=len(held),
        outstanding_balance=balance,
        by_category=by_category,
        npl_balance=npl,
        npl_ratio=ratio(npl, balance),
        overdue_loans=len(overdue),
        overdue_balance=overdue_balance,
        overdue_loan_rate=ratio(len(overdue), len(held)),
        overdue_balance_rate=ratio(overdue_balance, balance),
        overdue_90_balance=overdue_90,
        overdue_90_rate=ratio(overdue_90, balance),
        extensions=len(rows.extensions),
        restructurings=sum(1 for restructuring in rows.extensions if restructuring),
        ratings=len(ratings),
        average_score=average_score(ratings),
        ratings_by_score=tuple((s, ratings.count(s)) for s in range(1, 6)),
        complaints=sum(1 for score in ratings if score <= COMPLAINT_MAX_SCORE),
    )


CSV_HEADER = ("section", "breakdown", "key", "metric", "value")


def csv_rows(figures: RegulatoryFigures) -> list[tuple[str, str, str, str, str]]:
    """The CSV rendering: one (section, breakdown, key, metric, value) line per figure."""
    data = figures.as_json()
    lines = [("period", "", "", key, str(value)) for key, value in data["period"].items()]
    for section in ("financing", "decisions", "pricing", "portfolio", "extensions", "feedback"):
        for name, value in data[section].items():
            if not isinstance(value, list):
                lines.append((section, "", "", name, str(value)))
                continue
            for item in value:
                label, *metrics = item.items()
                for metric, figure in metrics:
                    lines.append((section, name, str(label[1]), metric, str(figure)))
    return lines


# ---- platform effect metrics (the seed's evaluation) -----------------------------------


@dataclass(frozen=True, slots=True)
class MetricRows:
    """Rows of the platform metrics, each tagged with its group key (institution, product or
    ``platform``): applications submitted (financed or not), first decisions, disbursed
    loans (principal, APR) and ratings."""

    applications: Sequence[tuple[str, bool]] = ()
    decisions: Sequence[tuple[str, Decision]] = ()
    loans: Sequence[tuple[str, Decimal, Decimal | None]] = ()
    ratings: Sequence[tuple[str, int]] = ()


@dataclass(frozen=True, slots=True)
class PlatformMetric:
    """The platform's effect for one group over a period."""

    key: str
    name: str
    applications: int
    financed: int
    success_rate: Decimal
    decided: int
    approval_rate: Decimal
    mean_decision_hours: Decimal
    median_decision_hours: Decimal
    loans: int
    amount: Decimal
    average_apr: Decimal
    ratings: int
    average_score: Decimal

    def named(self, name: str) -> PlatformMetric:
        return PlatformMetric(**{**_fields(self), "name": name})


def _fields(metric: PlatformMetric) -> dict[str, Any]:
    return {name: getattr(metric, name) for name in metric.__slots__}


def platform_metrics(rows: MetricRows) -> list[PlatformMetric]:
    """Financing success rate (applications submitted in the period that were financed),
    time to decision, financing cost (principal-weighted APR of loans disbursed) and user
    satisfaction (average rating) for every group that has any row."""
    keys = sorted(
        {k for k, _ in rows.applications}
        | {k for k, _ in rows.decisions}
        | {k for k, _, _ in rows.loans}
        | {k for k, _ in rows.ratings}
    )
    metrics = []
    for key in keys:
        financed = [f for k, f in rows.applications if k == key]
        seconds = [d.seconds for k, d in rows.decisions if k == key]
        approved = sum(1 for k, d in rows.decisions if k == key and d.approved)
        loans = [(p, apr) for k, p, apr in rows.loans if k == key]
        priced = [(p, apr) for p, apr in loans if apr is not None]
        scores = [s for k, s in rows.ratings if k == key]
        metrics.append(
            PlatformMetric(
                key=key,
                name=key,
                applications=len(financed),
                financed=sum(1 for f in financed if f),
                success_rate=ratio(sum(1 for f in financed if f), len(financed)),
                decided=len(seconds),
                approval_rate=ratio(approved, len(seconds)),
                mean_decision_hours=hours(sum(seconds, Decimal(0)) / len(seconds))
                if seconds
                else Decimal("0.00"),
                median_decision_hours=hours(percentile_disc(seconds, Decimal("0.5"))),
                loans=len(loans),
                amount=sum((p for p, _ in loans), Decimal("0.00")),
                average_apr=ratio(
                    sum((p * (apr or 0) for p, apr in priced), Decimal(0)),
                    sum((p for p, _ in priced), Decimal(0)),
                ),
                ratings=len(scores),
                average_score=average_score(scores),
            )
        )
    return metrics


def average_score(scores: Sequence[int]) -> Decimal:
    """The mean of 1–5 ratings to the hundredth (0.00 when there is none)."""
    if not scores:
        return Decimal("0.00")
    return (Decimal(sum(scores)) / len(scores)).quantize(HOURS, rounding=ROUND_HALF_UP)
