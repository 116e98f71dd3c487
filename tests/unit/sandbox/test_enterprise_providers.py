"""Registry, credit bureau and tax data: deterministic records and every magic USCC suffix."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from sandbox.enterprises import last_completed_year
from sandbox.registry import enterprise_record
from tests.unit.sandbox.helpers import uscc

ENTERPRISE_PATHS = (
    "/registry/v1/enterprises/{}",
    "/bureau/v1/reports/{}",
    "/tax/v1/enterprises/{}/filings",
)


async def test_registry_record_is_complete_active_and_stable(client: httpx.AsyncClient) -> None:
    code = uscc()
    first = await client.get(f"/registry/v1/enterprises/{code}")
    second = await client.get(f"/registry/v1/enterprises/{code}")

    assert first.status_code == 200
    body = first.json()
    assert body == second.json()
    assert body["uscc"] == code
    assert body["status"] == "ACTIVE"
    assert body["name"].startswith("上海") and body["name"].endswith("有限公司")
    assert 2 <= len(body["legal_representative"]) <= 3
    assert body["region_code"] == "310000" and body["region_name"] == "上海市"
    assert isinstance(body["registered_capital"], str)
    assert Decimal(body["registered_capital"]) >= Decimal("1000000.00")
    assert date(2000, 1, 1) <= date.fromisoformat(body["founding_date"]) < date(2020, 1, 1)
    assert body["industry_code"] and body["industry_name"]


async def test_registry_record_matches_the_importable_generator(
    client: httpx.AsyncClient,
) -> None:
    code = uscc("456", prefix="91440300MA5F2Q")
    response = await client.get(f"/registry/v1/enterprises/{code}")

    assert response.json() == enterprise_record(code).model_dump(mode="json")
    assert response.json()["region_name"] == "广东省"


@pytest.mark.parametrize(("suffix", "status"), [("999", "REVOKED"), ("998", "CANCELLED")])
async def test_registry_designated_suffixes_are_not_active(
    client: httpx.AsyncClient, suffix: str, status: str
) -> None:
    response = await client.get(f"/registry/v1/enterprises/{uscc(suffix)}")

    assert response.status_code == 200
    assert response.json()["status"] == status


async def test_registry_grade_m_enterprise_was_founded_last_year(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/registry/v1/enterprises/{uscc('981')}")

    assert date.fromisoformat(response.json()["founding_date"]).year == last_completed_year()


@pytest.mark.parametrize("template", ENTERPRISE_PATHS)
async def test_suffix_000_is_unknown_to_every_enterprise_provider(
    client: httpx.AsyncClient, template: str
) -> None:
    response = await client.get(template.format(uscc("000")))

    assert response.status_code == 404
    assert response.json()["code"] == "ENTERPRISE_NOT_FOUND"


@pytest.mark.parametrize("template", ENTERPRISE_PATHS)
async def test_wrong_check_character_is_refused_by_every_enterprise_provider(
    client: httpx.AsyncClient, template: str
) -> None:
    code = uscc()
    bad = code[:17] + ("0" if code[17] != "0" else "1")
    response = await client.get(template.format(bad))

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_USCC"


async def test_bureau_ordinary_report_is_clean(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/bureau/v1/reports/{uscc()}")

    body = response.json()
    assert response.status_code == 200
    assert body["current_overdue"] is False
    assert body["sanctions_hit"] is False
    assert 0 <= body["overdue_count_24m"] <= 2
    assert 540 <= body["score"] <= 879
    assert isinstance(body["outstanding_loans_amount"], str)
    assert (Decimal(body["outstanding_loans_amount"]) == 0) == (
        body["outstanding_loans_count"] == 0
    )


async def test_bureau_suffix_990_is_currently_overdue(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/bureau/v1/reports/{uscc('990')}")).json()

    assert body["current_overdue"] is True
    assert body["overdue_count_24m"] == 4
    assert body["score"] < 500


async def test_bureau_suffix_991_hits_sanctions(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/bureau/v1/reports/{uscc('991')}")).json()

    assert body["sanctions_hit"] is True
    assert body["current_overdue"] is False
    assert body["score"] < 470


async def test_bureau_suffix_992_is_over_indebted(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/bureau/v1/reports/{uscc('992')}")).json()

    assert body["outstanding_loans_count"] == 9
    assert body["outstanding_loans_amount"] == "48000000.00"
    assert body["score"] < 560


async def test_tax_ordinary_profile_has_three_profitable_years(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"/tax/v1/enterprises/{uscc()}/filings")).json()

    last = last_completed_year()
    assert body["tax_grade"] in {"A", "B"}
    assert [f["year"] for f in body["filings"]] == [last - 2, last - 1, last]
    for filing in body["filings"]:
        assert isinstance(filing["revenue"], str)
        assert Decimal(filing["profit"]) > 0
        assert Decimal("0") < Decimal(filing["tax_paid"]) < Decimal(filing["revenue"])
        assert Decimal(filing["revenue"]) == Decimal(filing["revenue"]).quantize(Decimal("0.01"))


async def test_tax_suffix_980_is_grade_d_shrinking_and_loss_making(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"/tax/v1/enterprises/{uscc('980')}/filings")).json()

    revenues = [Decimal(f["revenue"]) for f in body["filings"]]
    assert body["tax_grade"] == "D"
    assert revenues == sorted(revenues, reverse=True)
    assert all(Decimal(f["profit"]) < 0 for f in body["filings"])


async def test_tax_suffix_981_is_grade_m_with_one_filing(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/tax/v1/enterprises/{uscc('981')}/filings")).json()

    assert body["tax_grade"] == "M"
    assert [f["year"] for f in body["filings"]] == [last_completed_year()]


async def test_tax_suffix_982_is_grade_c(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/tax/v1/enterprises/{uscc('982')}/filings")).json()

    assert body["tax_grade"] == "C"
    assert len(body["filings"]) == 3
