"""The OpenAPI document says what the server accepts (issue 28, finding 10): each example the
finding names is refused by the document and by the server, which answers the house 422 with
the field's issue (a machine code and both messages)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import httpx
import jsonschema_rs
import pytest

from config.settings import Settings
from domain.calendar import business_today
from domain.roles import Role
from server import create_app
from services.inputs import SERVER_RULES
from tests.integration.conftest import Platform
from tests.security.conftest import World

pytestmark = pytest.mark.integration


@cache
def _spec() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = _spec()["paths"][path][method]
    return operation


def _admits(schema: dict[str, Any], value: object) -> bool:
    """Whether ``value`` is valid against a schema of the document (its $refs resolved)."""
    return jsonschema_rs.validator_for({**schema, "components": _spec()["components"]}).is_valid(
        value
    )


def _body(path: str, method: str) -> dict[str, Any]:
    body: dict[str, Any] = _operation(path, method)["requestBody"]["content"]["application/json"]
    return dict(body["schema"])


def _parameter(path: str, method: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p for p in _operation(path, method)["parameters"] if p["name"] == name
    )
    return found


def _rules(path: str, method: str) -> set[tuple[str, str]]:
    return {(r["field"], r["code"]) for r in _operation(path, method).get(SERVER_RULES, ())}


def _field_issue(response: httpx.Response) -> tuple[str, str]:
    """The house 422: validation_failed with one field issue, its code and both messages."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message_zh"] and error["message_en"]
    [issue] = error["fields"]
    assert issue["message_zh"] and issue["message_en"]
    return issue["field"], issue["code"]


@pytest.mark.parametrize("operation", ["payments", "prepayments", "payoff"])
async def test_an_empty_amount_is_refused_by_the_document_and_by_the_server(
    platform: Platform, world: World, operation: str
) -> None:
    path = f"/api/v1/loans/{{loan_id}}/{operation}"
    body = {"amount": "", "strategy": "reduce_installment_count"}
    if operation != "prepayments":
        del body["strategy"]
    assert not _admits(_body(path, "post"), body)
    assert _admits(_body(path, "post"), {**body, "amount": "12.34"})
    assert not _admits(_body(path, "post"), {**body, "amount": 12.345})  # a binary fraction
    loan = world.a.ids["loan_id"]
    refused = await platform.http.post(
        path.format(loan_id=loan), json=body, headers=world.a.headers[Role.APPLICANT]
    )
    assert _field_issue(refused) == ("amount", "field.decimal_parsing")


async def test_a_payoff_quote_more_than_30_days_ahead_is_a_documented_field_error(
    platform: Platform, world: World
) -> None:
    path = "/api/v1/loans/{loan_id}/payoff-quote"
    assert ("valid_until", "payoff.bad_valid_until") in _rules(path, "get")
    assert "30 days" in _parameter(path, "get", "valid_until")["description"]
    url = path.format(loan_id=world.a.ids["loan_id"])
    applicant = world.a.headers[Role.APPLICANT]
    today = business_today()
    last = await platform.http.get(
        url, params={"valid_until": str(today + timedelta(days=30))}, headers=applicant
    )
    assert last.status_code == 200, last.text
    for day in (today + timedelta(days=31), today - timedelta(days=1)):
        refused = await platform.http.get(url, params={"valid_until": str(day)}, headers=applicant)
        assert _field_issue(refused) == ("valid_until", "payoff.bad_valid_until")


@pytest.mark.parametrize("name", ["stage", "status", "workflow_type"])
async def test_audit_filters_state_their_pattern(
    platform: Platform, world: World, name: str
) -> None:
    schema = _parameter("/api/v1/audit/workflows", "get", name)["schema"]
    assert _admits(schema, "in_review") and not _admits(schema, "in review'")
    compliance = world.platform_wide[Role.COMPLIANCE]
    fine = await platform.http.get(
        "/api/v1/audit/workflows", params={name: "in_review"}, headers=compliance
    )
    assert fine.status_code == 200, fine.text
    refused = await platform.http.get(
        "/api/v1/audit/workflows", params={name: "in review'"}, headers=compliance
    )
    assert _field_issue(refused) == (name, "field.bad_format")


async def test_report_periods_outside_2000_to_2100_are_refused_by_both(
    platform: Platform, world: World
) -> None:
    compliance = world.platform_wide[Role.COMPLIANCE]
    live = _parameter("/api/v1/reports/live", "get", "period_start")["schema"]
    assert _admits(live, "2026-10-01") and not _admits(live, "1999-12-01")
    refused = await platform.http.get(
        "/api/v1/reports/live",
        params={"kind": "monthly", "period_start": "1999-12-01"},
        headers=compliance,
    )
    assert _field_issue(refused) == ("period_start", "report.period_out_of_range")

    request = _body("/api/v1/reports", "post")
    assert not _admits(request, {"kind": "monthly", "period_start": "2101-01-01"})
    assert not _admits(request, {"kind": "quarterly", "period_start": "2026-02-01"})
    assert _admits(request, {"kind": "quarterly", "period_start": "2026-04-01"})
    for body, code in (
        ({"kind": "monthly", "period_start": "2101-01-01"}, "report.period_out_of_range"),
        ({"kind": "quarterly", "period_start": "2026-02-01"}, "report.invalid_period"),
    ):
        refused = await platform.http.post("/api/v1/reports", json=body, headers=compliance)
        assert _field_issue(refused) == ("period_start", code)


async def test_metrics_ranges_are_refused_by_both(platform: Platform, world: World) -> None:
    compliance = world.platform_wide[Role.COMPLIANCE]
    start = _parameter("/api/v1/metrics", "get", "start")["schema"]
    assert _admits(start, "2026-01-01") and not _admits(start, "1999-01-01")
    assert ("end", "metrics.invalid_range") in _rules("/api/v1/metrics", "get")
    fine = await platform.http.get(
        "/api/v1/metrics", params={"start": "2026-01-01", "end": "2026-02-01"}, headers=compliance
    )
    assert fine.status_code == 200, fine.text
    for params, field in (
        ({"start": "1999-01-01", "end": "2000-02-01"}, "start"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "end"),  # more than ten years
    ):
        refused = await platform.http.get("/api/v1/metrics", params=params, headers=compliance)
        assert _field_issue(refused) == (field, "metrics.invalid_range")


async def test_an_audit_search_from_a_year_before_1000_is_answered(
    platform: Platform, world: World
) -> None:
    """Found by the fuzzing: the visibility query wrote year 804 as "804" and Temporal refused
    the whole query (a 500); the document admits any date."""
    assert _admits(
        _parameter("/api/v1/audit/workflows", "get", "started_to")["schema"], "0804-08-01"
    )
    found = await platform.http.get(
        "/api/v1/audit/workflows",
        params={"started_from": "0001-01-01", "started_to": "0804-08-01"},
        headers=world.platform_wide[Role.COMPLIANCE],
    )
    assert found.status_code == 200, found.text
    assert found.json() == []
