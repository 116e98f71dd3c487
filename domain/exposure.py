"""An enterprise's platform exposure (平台内授信敞口) across every institution, and the rules the
automatic decision applies to it: the aggregate exposure cap and the multiple-borrowing
(多头借贷) signal.

Public API:

- ``LoanFact`` / ``ApplicationFact``: one loan or application of the enterprise, as stored.
- ``InstitutionExposure``: what one institution has lent, committed or offered, and how many
  applications are in flight there or were submitted there recently.
- ``PlatformExposure``: the institutions' figures, aggregated, plus the bureau's external debt;
  ``NO_EXPOSURE`` is an enterprise with nothing anywhere.
- ``platform_exposure(loans, applications, ...)``: the exposure from the facts.
- ``ExposurePolicy`` / ``DEFAULT_EXPOSURE_POLICY``: the cap and the window (configurable,
  ``Settings.exposure_*``).
- ``exposure_referrals(exposure, amount, annual_revenue, policy)``: the reasons to refer and the
  headroom left under the cap.

What counts (per institution, then summed):

- **outstanding principal**: active loans, at the principal the servicing read model keeps
  (the disbursed principal until the loan workflow first records it);
- **undrawn accepted offers**: accepted offers whose money has not moved yet (a pending loan);
- **open offers**: applications approved, offered or counter-offered (the offered amount, else
  the proposed one, else the amount asked for) — an applicant may still accept them;
- **in flight**: applications submitted, waiting for materials, being assessed, in review or
  waiting for information (counted, not summed: nothing is committed yet);
- **recent**: applications submitted within the window, whatever became of them.

The platform total is outstanding + undrawn + open offers. The scoring input's outstanding debt
is the bureau's debt plus that total (``domain.scoring_input``), so debt-service and
debt-to-revenue see it.

Rules (``exposure_referrals``), each a referral, never an automatic approval:

- ``exposure.above_aggregate_cap``: the platform total plus the amount asked for exceeds
  ``cap_ratio`` × annual revenue (default 0.5: half a year's revenue lent through the platform is
  as much as an SME's working-capital need can justify — 流动资金贷款管理办法's estimate is a
  fraction of revenue, and the per-application revenue cap is already 30 %); the proposal is cut
  to the headroom. It applies once there is platform exposure: a request alone is the
  per-application revenue cap's business (``domain.credit_decision``), so nothing changes for
  an enterprise without exposure. The bureau's debt is not added here: the lenders on the
  platform report their loans to the bureau, so its figure would count them twice; it enters
  the score instead.
- ``exposure.revenue_unknown``: the enterprise has platform exposure but no known revenue, so the
  cap cannot be measured.
- ``exposure.multiple_borrowing``: applications submitted at ``concurrent_institutions`` (default
  3) or more institutions, this one included, within ``window_days`` (default 30) — the bureaus'
  多头借贷 indicator counts lenders, not products, so several products at one lender (which sees
  them itself) do not trip it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Final

from domain.lifecycle import ApplicationStatus, LoanRecordStatus
from domain.money import FEN

A = ApplicationStatus
OPEN_OFFER_STATUSES: Final = frozenset({A.APPROVED, A.OFFERED, A.COUNTER_OFFERED})
IN_FLIGHT_STATUSES: Final = frozenset(
    {A.SUBMITTED, A.MATERIALS_REQUESTED, A.ASSESSING, A.IN_REVIEW, A.INFO_REQUESTED}
)

ABOVE_CAP: Final = "exposure.above_aggregate_cap"
REVENUE_UNKNOWN: Final = "exposure.revenue_unknown"
MULTIPLE_BORROWING: Final = "exposure.multiple_borrowing"


@dataclass(frozen=True, slots=True)
class LoanFact:
    """A loan of the enterprise: its status (``LoanRecordStatus``), the principal accepted and
    the outstanding principal the servicing read model keeps (None before it first writes)."""

    institution_id: uuid.UUID
    status: str
    principal: Decimal
    outstanding_principal: Decimal | None


@dataclass(frozen=True, slots=True)
class ApplicationFact:
    """An application of the enterprise: its status (``ApplicationStatus``), the amount at stake
    (offered, else proposed, else asked for) and when it was submitted."""

    institution_id: uuid.UUID
    status: str
    amount: Decimal
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class InstitutionExposure:
    """One institution's share of the enterprise's platform exposure, in yuan."""

    institution_id: uuid.UUID
    outstanding_principal: Decimal = Decimal(0)
    undrawn_accepted: Decimal = Decimal(0)
    open_offers: Decimal = Decimal(0)
    in_flight: int = 0
    recent_applications: int = 0

    @property
    def total(self) -> Decimal:
        """Lent, committed and offered: what the enterprise may owe this institution."""
        return self.outstanding_principal + self.undrawn_accepted + self.open_offers


@dataclass(frozen=True, slots=True)
class PlatformExposure:
    """The enterprise's exposure across the platform, by institution and aggregated, with the
    bureau's external debt; ``applying_at`` is the institution of the application being decided
    (counted among the recent ones), None when nothing is being decided."""

    institutions: tuple[InstitutionExposure, ...] = ()
    bureau_debt: Decimal = Decimal(0)
    applying_at: uuid.UUID | None = None

    @property
    def outstanding_principal(self) -> Decimal:
        return sum((i.outstanding_principal for i in self.institutions), Decimal(0))

    @property
    def undrawn_accepted(self) -> Decimal:
        return sum((i.undrawn_accepted for i in self.institutions), Decimal(0))

    @property
    def open_offers(self) -> Decimal:
        return sum((i.open_offers for i in self.institutions), Decimal(0))

    @property
    def platform_total(self) -> Decimal:
        """Outstanding + undrawn + offered, across every institution."""
        return sum((i.total for i in self.institutions), Decimal(0))

    @property
    def total_debt(self) -> Decimal:
        """The bureau's debt plus the platform total: the debt the ratios are computed on."""
        return self.bureau_debt + self.platform_total

    @property
    def in_flight(self) -> int:
        return sum(i.in_flight for i in self.institutions)

    @property
    def recent_applications(self) -> int:
        return sum(i.recent_applications for i in self.institutions)

    @property
    def recent_institutions(self) -> frozenset[uuid.UUID]:
        """Institutions applied to within the window, the one deciding now included."""
        found = {i.institution_id for i in self.institutions if i.recent_applications}
        if self.applying_at is not None:
            found.add(self.applying_at)
        return frozenset(found)


NO_EXPOSURE: Final = PlatformExposure()


@dataclass(frozen=True, slots=True)
class ExposurePolicy:
    """The aggregate cap (a fraction of annual revenue) and the multiple-borrowing rule (so many
    institutions within so many days); raises ``ValueError`` when out of range."""

    cap_ratio: Decimal = Decimal("0.50")
    concurrent_institutions: int = 3
    window_days: int = 30

    def __post_init__(self) -> None:
        if not self.cap_ratio.is_finite() or self.cap_ratio <= 0:
            raise ValueError(f"cap_ratio must be positive, got {self.cap_ratio}")
        if self.concurrent_institutions < 2:
            raise ValueError("concurrent_institutions must be at least 2")
        if self.window_days < 1:
            raise ValueError("window_days must be at least 1")


DEFAULT_EXPOSURE_POLICY: Final = ExposurePolicy()


def platform_exposure(
    loans: Iterable[LoanFact],
    applications: Iterable[ApplicationFact],
    *,
    bureau_debt: Decimal = Decimal(0),
    as_of: datetime,
    window_days: int = DEFAULT_EXPOSURE_POLICY.window_days,
    applying_at: uuid.UUID | None = None,
) -> PlatformExposure:
    """The exposure of these loans and applications (those of the application being decided
    left out by the caller), by institution in a stable order."""
    figures: dict[uuid.UUID, dict[str, Decimal | int]] = {}

    def add(institution: uuid.UUID, what: str, value: Decimal | int) -> None:
        row = figures.setdefault(institution, {})
        row[what] = row.get(what, 0) + value

    for loan in loans:
        if loan.status == LoanRecordStatus.PENDING:
            add(loan.institution_id, "undrawn_accepted", loan.principal)
        elif loan.status == LoanRecordStatus.ACTIVE:
            serviced = loan.outstanding_principal
            outstanding = loan.principal if serviced is None else serviced
            add(loan.institution_id, "outstanding_principal", outstanding)
    since = as_of - timedelta(days=window_days)
    for application in applications:
        if application.status in OPEN_OFFER_STATUSES:
            add(application.institution_id, "open_offers", application.amount)
        elif application.status in IN_FLIGHT_STATUSES:
            add(application.institution_id, "in_flight", 1)
        if application.submitted_at >= since:
            add(application.institution_id, "recent_applications", 1)
    return PlatformExposure(
        institutions=tuple(
            InstitutionExposure(
                institution_id=institution,
                outstanding_principal=Decimal(row.get("outstanding_principal", 0)),
                undrawn_accepted=Decimal(row.get("undrawn_accepted", 0)),
                open_offers=Decimal(row.get("open_offers", 0)),
                in_flight=int(row.get("in_flight", 0)),
                recent_applications=int(row.get("recent_applications", 0)),
            )
            for institution, row in sorted(figures.items(), key=lambda item: str(item[0]))
        ),
        bureau_debt=bureau_debt,
        applying_at=applying_at,
    )


def exposure_cap(annual_revenue: Decimal, policy: ExposurePolicy) -> Decimal:
    """The most the enterprise may have lent, committed and offered on the platform."""
    return (annual_revenue * policy.cap_ratio).quantize(FEN, rounding=ROUND_DOWN)


def exposure_headroom(
    exposure: PlatformExposure, annual_revenue: Decimal | None, policy: ExposurePolicy
) -> Decimal | None:
    """What is left under the cap (never below 0); None when the revenue is unknown."""
    if annual_revenue is None:
        return None
    return max(exposure_cap(annual_revenue, policy) - exposure.platform_total, Decimal(0))


@dataclass(frozen=True, slots=True)
class ExposureReferral:
    """The exposure rules' reasons to refer (empty: none) and the most the proposal may be."""

    reasons: tuple[str, ...]
    amount_limit: Decimal | None


def exposure_referrals(
    exposure: PlatformExposure,
    amount: Decimal,
    annual_revenue: Decimal | None,
    policy: ExposurePolicy = DEFAULT_EXPOSURE_POLICY,
) -> ExposureReferral:
    """The cap, the unmeasurable cap and the multiple-borrowing rule applied to ``amount``."""
    reasons: list[str] = []
    headroom = exposure_headroom(exposure, annual_revenue, policy)
    if exposure.platform_total > 0:  # the request alone is the revenue cap's business
        if headroom is None:
            reasons.append(REVENUE_UNKNOWN)
        elif amount > headroom:
            reasons.append(ABOVE_CAP)
    if len(exposure.recent_institutions) >= policy.concurrent_institutions:
        reasons.append(MULTIPLE_BORROWING)
    return ExposureReferral(tuple(reasons), headroom)
