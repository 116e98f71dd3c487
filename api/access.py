"""The declared access policy of every API route: which roles may call it and how it is tenanted.

Deny by default: a route whose operation id has no entry in ``ROUTE_ACCESS`` fails the
authorization matrix (``tests/security/test_authorization_matrix.py``), which
calls every route as every role with its own and another tenant's ids and checks the answer
against the entry. The entry must also agree with the route's dependencies: a route that
needs no token must be declared public, and a ``require_roles`` dependency bounds the roles
an entry may grant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from domain.roles import INSTITUTION_ROLES, PLATFORM_WIDE_READERS, Role


class Tenancy(StrEnum):
    """How a route's data relates to the caller's enterprise or institution."""

    PUBLIC = "public"  # no token: health, login, a registration by its id and secret
    SELF = "self"  # the caller's own account or tenant, implied by the token; lists are scoped
    SHARED = "shared"  # platform-wide reference data (catalog, institutions, LPR, policies)
    TENANT = "tenant"  # the path names one tenant's record: another tenant gets 404


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a route: the roles granted and the tenancy of what it touches."""

    roles: frozenset[Role]
    tenancy: Tenancy

    @property
    def is_public(self) -> bool:
        return self.tenancy is Tenancy.PUBLIC


ALL_ROLES = frozenset(Role)
STAFF = INSTITUTION_ROLES
APPLICANT = frozenset({Role.APPLICANT})
PUBLIC = Access(frozenset(), Tenancy.PUBLIC)


def grant(*roles: Role | frozenset[Role], tenancy: Tenancy) -> Access:
    """An entry for roles given one by one or as sets (``grant(STAFF, Role.APPLICANT, ...)``)."""
    granted: set[Role] = set()
    for role in roles:
        granted |= role if isinstance(role, frozenset) else {role}
    return Access(frozenset(granted), tenancy)


_READERS = PLATFORM_WIDE_READERS
_EVERYONE_SCOPED = grant(ALL_ROLES, tenancy=Tenancy.SELF)
_EVERYONE_SHARED = grant(ALL_ROLES, tenancy=Tenancy.SHARED)
_DECIDERS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.PLATFORM_ADMIN})
_PARTIES = grant(APPLICANT, STAFF, _READERS, tenancy=Tenancy.TENANT)  # borrower, lender, auditors

# operation id → policy. Add your route here when you add it (the matrix tells you if you forget).
ROUTE_ACCESS: dict[str, Access] = {
    # platform
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "login": PUBLIC,
    "refresh_token": PUBLIC,
    "logout": _EVERYONE_SCOPED,
    "who_am_i": _EVERYONE_SCOPED,
    "create_user": grant(Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN, tenancy=Tenancy.SELF),
    "account_lock_status": grant(
        Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN, tenancy=Tenancy.TENANT
    ),
    "unlock_user": grant(Role.PLATFORM_ADMIN, Role.INSTITUTION_ADMIN, tenancy=Tenancy.TENANT),
    "onboard_institution": grant(Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    "list_institutions": _EVERYONE_SHARED,
    "get_institution": _EVERYONE_SHARED,
    "codec_decode": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    "codec_encode": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    # onboarding: registration precedes any account; its random id and the registration secret
    # (X-Registration-Secret, or the enterprise's own token) open it
    "register_enterprise": PUBLIC,
    "confirm_registration_code": PUBLIC,
    "resend_registration_code": PUBLIC,
    "registration_progress": PUBLIC,
    "upload_document": grant(APPLICANT, tenancy=Tenancy.SELF),
    "resubmit_registration": grant(APPLICANT, tenancy=Tenancy.SELF),
    "my_enterprise": grant(APPLICANT, tenancy=Tenancy.SELF),
    # privacy
    "grant_consent": grant(APPLICANT, tenancy=Tenancy.SELF),
    "list_consents": grant(APPLICANT, tenancy=Tenancy.SELF),
    "revoke_consent": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "get_privacy": grant(APPLICANT, tenancy=Tenancy.SELF),
    "set_privacy": grant(APPLICANT, tenancy=Tenancy.SELF),
    "export_my_data": grant(APPLICANT, tenancy=Tenancy.SELF),
    # message centre
    "list_notifications": grant(APPLICANT, tenancy=Tenancy.SELF),
    "mark_notification_read": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "mark_all_notifications_read": grant(APPLICANT, tenancy=Tenancy.SELF),
    "get_enterprise_profile": _PARTIES,
    # catalog
    "publish_product": grant(Role.INSTITUTION_ADMIN, tenancy=Tenancy.SELF),
    "revise_product": grant(Role.INSTITUTION_ADMIN, tenancy=Tenancy.TENANT),
    "retire_product": grant(Role.INSTITUTION_ADMIN, tenancy=Tenancy.TENANT),
    "list_products": _EVERYONE_SHARED,
    "get_product": _EVERYONE_SHARED,
    "publish_lpr": grant(Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    "list_lpr": _EVERYONE_SHARED,
    "publish_policy": grant(Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    "list_policies": _EVERYONE_SHARED,
    # demands
    "post_demand": grant(APPLICANT, tenancy=Tenancy.SELF),
    "list_demands": _EVERYONE_SCOPED,
    "get_demand": _PARTIES,
    "demand_progress": _PARTIES,
    "withdraw_demand": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "answer_demand": grant(STAFF, tenancy=Tenancy.TENANT),
    "select_products": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "compare_offers": _PARTIES,
    "compare_offers_pdf": _PARTIES,
    # origination
    "submit_application": grant(APPLICANT, tenancy=Tenancy.SELF),
    "list_applications": _EVERYONE_SCOPED,
    "get_application": _PARTIES,
    "application_progress": _PARTIES,
    "accept_offer": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "request_acceptance_code": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "withdraw_application": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "provide_information": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "refuse_offer": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "application_document": _PARTIES,
    # material files (issue 22): opened only by their enterprise and the credit officers of
    # the institution their case is with
    "upload_material": grant(APPLICANT, tenancy=Tenancy.SELF),
    "list_staged_materials": grant(APPLICANT, tenancy=Tenancy.SELF),
    "download_material": grant(APPLICANT, Role.OFFICER, Role.SUPERVISOR, tenancy=Tenancy.TENANT),
    "upload_application_material": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "list_application_materials": _PARTIES,
    "upload_demand_material": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "list_demand_materials": _PARTIES,
    # servicing
    "list_loans": _EVERYONE_SCOPED,
    "get_loan": _PARTIES,
    "loan_schedule": _PARTIES,
    "loan_transactions": _PARTIES,
    "loan_classifications": _PARTIES,
    "loan_statement_pdf": _PARTIES,
    "loan_document": _PARTIES,
    "make_payment": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "payment_status": _PARTIES,
    "prepay": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "payoff_quote": _PARTIES,
    "pay_off": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "request_extension": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "write_off": grant(Role.SUPERVISOR, tenancy=Tenancy.TENANT),
    "portfolio_snapshots": grant(STAFF, _READERS, tenancy=Tenancy.SELF),
    "loan_credit_ratings": grant(STAFF, _READERS, tenancy=Tenancy.TENANT),
    "enterprise_credit_ratings": grant(STAFF, _READERS, tenancy=Tenancy.TENANT),
    # the officers' inbox: auditors read it, people with a decision to make act on it
    "list_tasks": grant(STAFF, _READERS, tenancy=Tenancy.SELF),
    "decide_task": grant(_DECIDERS, tenancy=Tenancy.TENANT),
    "claim_task": grant(_DECIDERS, tenancy=Tenancy.TENANT),
    # reports, monitoring, metrics (issue 8): platform-wide; compliance acts, regulators read
    "list_reports": grant(_READERS, tenancy=Tenancy.SHARED),
    "live_report_figures": grant(_READERS, tenancy=Tenancy.SHARED),
    "get_report": grant(_READERS, tenancy=Tenancy.SHARED),
    "download_report": grant(_READERS, tenancy=Tenancy.SHARED),
    "generate_report": grant(Role.COMPLIANCE, Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    "list_alerts": grant(_READERS, tenancy=Tenancy.SHARED),
    "get_alert": grant(_READERS, tenancy=Tenancy.SHARED),
    "investigate_alert": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    "close_alert": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    "run_monitoring": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    "platform_metrics": grant(_READERS, tenancy=Tenancy.SHARED),
    "rate_outcome": grant(APPLICANT, tenancy=Tenancy.TENANT),
    "get_rating": grant(APPLICANT, tenancy=Tenancy.TENANT),
    # compliance audit (issue 8): staff read their institution's cases, auditors every one
    "audit_search": grant(STAFF, _READERS, tenancy=Tenancy.SELF),
    "audit_timeline": grant(STAFF, _READERS, tenancy=Tenancy.TENANT),
    "audit_timeline_json": grant(STAFF, _READERS, tenancy=Tenancy.TENANT),
    "audit_timeline_pdf": grant(STAFF, _READERS, tenancy=Tenancy.TENANT),
    "audit_verify_decision_log": grant(_READERS, tenancy=Tenancy.SHARED),
    "audit_verify_and_checkpoint": grant(Role.COMPLIANCE, tenancy=Tenancy.SHARED),
    "audit_retention_rules": grant(_READERS, tenancy=Tenancy.SHARED),
    "audit_retention_runs": grant(_READERS, tenancy=Tenancy.SHARED),
    "audit_apply_retention": grant(Role.COMPLIANCE, Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    # credit model registry (issue 7)
    "list_models": grant(Role.INSTITUTION_ADMIN, _READERS, tenancy=Tenancy.SHARED),
    "get_model": grant(Role.INSTITUTION_ADMIN, _READERS, tenancy=Tenancy.SHARED),
    "promote_model": grant(Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
    "rollback_model": grant(Role.PLATFORM_ADMIN, tenancy=Tenancy.SHARED),
}


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One API route as the matrix sees it."""

    method: str
    path: str
    operation_id: str
    dependant: Dependant

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} (operation_id={self.operation_id})"


def api_routes(app: FastAPI) -> Iterator[RouteInfo]:
    """Every API route of the app, one per method (documentation routes are not API routes)."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context
        for method in sorted(route.methods or ()):
            operation_id = route.operation_id or route.unique_id
            yield RouteInfo(method, str(route.path), str(operation_id), route.dependant)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def requires_token(dependant: Dependant) -> bool:
    """Whether the route resolves the caller from a bearer token (directly or through roles)."""
    from gateway.deps import get_current_user, get_current_user_or_session

    resolvers = (get_current_user, get_current_user_or_session)
    return any(call in resolvers for call in _calls(dependant))


def dependency_roles(dependant: Dependant) -> frozenset[Role]:
    """The roles the route's ``require_roles`` dependencies let through (every role if none)."""
    allowed = ALL_ROLES
    for call in _calls(dependant):
        roles = getattr(call, "allowed_roles", None)
        if roles is not None:
            allowed &= frozenset(roles)
    return allowed


def policy_problems(app: FastAPI) -> list[str]:
    """Every way the declared policies disagree with the app (empty when they all agree)."""
    problems: list[str] = []
    seen: set[str] = set()
    for route in api_routes(app):
        seen.add(route.operation_id)
        access = ROUTE_ACCESS.get(route.operation_id)
        if access is None:
            problems.append(
                f"{route.label} declares no access policy: add "
                f"'{route.operation_id}': grant(<roles>, tenancy=Tenancy.<...>) to "
                "ROUTE_ACCESS in api/access.py (deny by default)"
            )
            continue
        needs_token = requires_token(route.dependant)
        if access.is_public and needs_token:
            problems.append(f"{route.label} is declared public but requires a token")
        if not access.is_public and not needs_token:
            problems.append(
                f"{route.label} is declared for {sorted(r.value for r in access.roles)} but asks "
                "for no token: "
                "add CurrentUser or require_roles(...) to it"
            )
        beyond = access.roles - dependency_roles(route.dependant)
        if beyond:
            problems.append(
                f"{route.label} grants {sorted(r.value for r in beyond)} in api/access.py but its "
                "require_roles(...) dependency refuses them"
            )
    for stale in sorted(set(ROUTE_ACCESS) - seen):
        problems.append(f"ROUTE_ACCESS names '{stale}', which is no route of the app: remove it")
    return problems
