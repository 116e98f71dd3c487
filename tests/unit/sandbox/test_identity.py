"""Identity bureau: every verdict can be driven by a magic input, and answers are stable."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.unit.sandbox.helpers import id_number

PATH = "/identity/v1/verifications"


async def _verify(client: httpx.AsyncClient, **body: str) -> httpx.Response:
    return await client.post(PATH, json=body)


async def test_ordinary_person_matches_with_a_high_stable_similarity(
    client: httpx.AsyncClient,
) -> None:
    first = await _verify(client, name="张伟", id_number=id_number())
    second = await _verify(client, name="张伟", id_number=id_number())

    assert first.status_code == 200
    assert first.json() == second.json()
    assert first.json()["result"] == "MATCH"
    assert Decimal("0.85") <= Decimal(first.json()["similarity"]) <= Decimal("0.9999")
    assert first.json()["verification_id"].startswith("IDV")


async def test_name_with_buxiang_mismatches(client: httpx.AsyncClient) -> None:
    response = await _verify(client, name="张三不符", id_number=id_number())

    assert response.json()["result"] == "MISMATCH"
    assert Decimal(response.json()["similarity"]) < Decimal("0.5")


async def test_name_with_mohu_is_inconclusive(client: httpx.AsyncClient) -> None:
    response = await _verify(client, name="李四模糊", id_number=id_number())

    assert response.json()["result"] == "INCONCLUSIVE"
    assert Decimal("0.5") <= Decimal(response.json()["similarity"]) < Decimal("0.8")


async def test_sequence_999_is_not_found_before_any_name_rule(client: httpx.AsyncClient) -> None:
    response = await _verify(client, name="王五不符", id_number=id_number("999"))

    assert response.status_code == 200
    assert response.json()["result"] == "NOT_FOUND"
    assert response.json()["similarity"] is None


async def test_photos_change_the_similarity_but_not_the_verdict(
    client: httpx.AsyncClient,
) -> None:
    without = await _verify(client, name="张伟", id_number=id_number())
    with_photo = await _verify(
        client, name="张伟", id_number=id_number(), portrait_sha256="ab" * 32
    )

    assert with_photo.json()["result"] == "MATCH"
    assert with_photo.json()["verification_id"] != without.json()["verification_id"]


async def test_wrong_check_digit_is_refused_without_echoing_the_number(
    client: httpx.AsyncClient,
) -> None:
    bad = id_number()[:17] + ("0" if id_number()[17] != "0" else "1")
    response = await _verify(client, name="张伟", id_number=bad)

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_ID_NUMBER"
    assert bad not in response.text


async def test_malformed_photo_hash_is_a_schema_error(client: httpx.AsyncClient) -> None:
    response = await _verify(client, name="张伟", id_number=id_number(), id_front_sha256="xyz")

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["issues"][0]["loc"] == "body.id_front_sha256"
