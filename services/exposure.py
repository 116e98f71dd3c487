"""Read model of an enterprise's platform exposure beside one of its applications, for the
officer's case page and the application's API detail: amounts aggregated for every reader of
the case, each institution's share only with the enterprise's ``credit_report`` consent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Institution, LoanApplication
from db.repositories import enterprise_exposure
from domain.disclosure import ConsentScope
from domain.exposure import PlatformExposure
from services.principal import Principal
from services.privacy import Scopes, disclosure
from services.results import ExposureOut, InstitutionShareOut


async def application_exposure(
    session: AsyncSession, application: LoanApplication, scopes: Scopes, window_days: int
) -> tuple[PlatformExposure, ExposureOut]:
    """The exposure the application's enterprise has elsewhere on the platform (the application
    and its loan left out), and its view for a reader with ``scopes`` (the caller has checked
    the reader may see the application)."""
    exposure = await enterprise_exposure(
        session,
        application.enterprise_id,
        excluding=application.id,
        window_days=window_days,
        applying_at=application.institution_id,
    )
    shares: list[InstitutionShareOut] | None = None
    if ConsentScope.CREDIT_REPORT in scopes:
        ids = [i.institution_id for i in exposure.institutions]
        rows = await session.execute(
            select(Institution.id, Institution.name).where(Institution.id.in_(ids))
        )
        names = {institution: name for institution, name in rows}
        shares = [
            InstitutionShareOut(
                institution_id=i.institution_id,
                institution_name=names.get(i.institution_id, ""),
                outstanding_principal=i.outstanding_principal,
                undrawn_accepted=i.undrawn_accepted,
                open_offers=i.open_offers,
                total=i.total,
                in_flight=i.in_flight,
                recent_applications=i.recent_applications,
            )
            for i in exposure.institutions
        ]
    view = ExposureOut(
        outstanding_principal=exposure.outstanding_principal,
        undrawn_accepted=exposure.undrawn_accepted,
        open_offers=exposure.open_offers,
        platform_total=exposure.platform_total,
        in_flight=exposure.in_flight,
        recent_applications=exposure.recent_applications,
        window_days=window_days,
        institutions=shares,
    )
    return exposure, view


async def exposure_for_reader(
    session: AsyncSession, user: Principal, application: LoanApplication, window_days: int
) -> ExposureOut:
    """The view of ``application_exposure`` for ``user`` (who may see the application)."""
    scopes = await disclosure(session, user, application.enterprise_id)
    return (await application_exposure(session, application, scopes, window_days))[1]
