"""Post-loan events armed in the sandbox change the bureau's and the tax provider's next answers,
and reach our HTTP adapters."""

from __future__ import annotations

from decimal import Decimal

import httpx

from adapters.bureau.http import HttpCreditBureau
from adapters.tax.http import HttpTaxDataProvider
from tests.unit.sandbox.helpers import BASE_URL, uscc


async def test_events_change_the_bureau_and_tax_answers(client: httpx.AsyncClient) -> None:
    code = uscc("345")
    before_report = (await client.get(f"/bureau/v1/reports/{code}")).json()
    before_tax = (await client.get(f"/tax/v1/enterprises/{code}/filings")).json()
    assert before_report["court_judgment"] is False and before_tax["arrears"] is False
    for event in ("new_overdue", "court_judgment", "tax_arrears", "revenue_drop"):
        armed = await client.post("/sandbox/v1/events", json={"uscc": code, "event": event})
        assert armed.status_code == 201
    report = (await client.get(f"/bureau/v1/reports/{code}")).json()
    tax = (await client.get(f"/tax/v1/enterprises/{code}/filings")).json()
    assert report["current_overdue"] is True and report["court_judgment"] is True
    assert report["overdue_count_24m"] == before_report["overdue_count_24m"] + 1
    assert report["score"] < before_report["score"]
    assert tax["arrears"] is True
    last, before = Decimal(tax["filings"][-1]["revenue"]), Decimal(tax["filings"][-2]["revenue"])
    assert last < before * Decimal("0.7")

    cleared = await client.delete("/sandbox/v1/events", params={"uscc": code})
    assert cleared.status_code == 204
    assert (await client.get(f"/bureau/v1/reports/{code}")).json() == before_report


async def test_an_unknown_enterprise_or_event_is_refused(client: httpx.AsyncClient) -> None:
    missing = await client.post(
        "/sandbox/v1/events", json={"uscc": uscc("000"), "event": "new_overdue"}
    )
    assert missing.status_code == 404
    wrong = await client.post("/sandbox/v1/events", json={"uscc": uscc("345"), "event": "fire"})
    assert wrong.status_code == 422


async def test_adapters_read_the_new_flags(
    client: httpx.AsyncClient, transport: httpx.ASGITransport
) -> None:
    code = uscc("346")
    await client.post("/sandbox/v1/events", json={"uscc": code, "event": "court_judgment"})
    await client.post("/sandbox/v1/events", json={"uscc": code, "event": "tax_arrears"})
    async with HttpCreditBureau(BASE_URL, 1.0, transport=transport) as bureau:
        report = await bureau.get_report(code)
    async with HttpTaxDataProvider(BASE_URL, 1.0, transport=transport) as tax:
        profile = await tax.get_filings(code)
    assert report is not None and report.court_judgment
    assert profile is not None and profile.arrears
