"""One open application per enterprise, product and purpose (issue 21): a second submission
while one is open is refused with the open one's id, whatever the idempotency key, and two
concurrent submissions cannot both be recorded (the database's partial unique index)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from db.models import DecisionLogEntry, LoanApplication
from domain.lifecycle import OPEN_APPLICATION
from tests.integration.conftest import Platform
from tests.integration.test_application_api import _progress_until, _reviewed_product
from tests.support import SandboxProcess


def _body(product_id: str, **extra: str) -> dict[str, object]:
    return {
        "product_id": product_id,
        "amount": "200000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
        **extra,
    }


async def _open_rows(platform: Platform, product_id: str) -> list[LoanApplication]:
    async with platform.sessions() as session:
        return list(
            await session.scalars(
                select(LoanApplication).where(
                    LoanApplication.product_id == uuid.UUID(product_id),
                    LoanApplication.status.in_([s.value for s in OPEN_APPLICATION]),
                )
            )
        )


async def test_a_second_application_while_one_is_open_names_the_open_one(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    _, product, applicant = await _reviewed_product(platform, sandbox, "DUP-1", suffix="211")
    product_id = product.json()["id"]
    keyed = {**applicant, "Idempotency-Key": "dup-first"}
    first = await platform.http.post("/api/v1/applications", json=_body(product_id), headers=keyed)
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]
    await _progress_until(platform, first_id, applicant, {"in_review"})

    # The same key and body: the replay, as before.
    replay = await platform.http.post("/api/v1/applications", json=_body(product_id), headers=keyed)
    assert replay.status_code == 201 and replay.json()["id"] == first_id
    assert replay.headers["Idempotent-Replayed"] == "true"
    # Another key, or none: the open one, by id, with a machine code and both languages.
    for headers in ({**applicant, "Idempotency-Key": "dup-second"}, applicant):
        again = await platform.http.post(
            "/api/v1/applications", json=_body(product_id), headers=headers
        )
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert error["code"] == "application.already_open"
        assert error["details"] == {"application_id": first_id}
        assert error["message_zh"] and error["message_en"]
    # The purpose is compared normalised: width, spacing and case do not make it another.
    stated = _body(product_id, purpose="采购原材料")
    other = await platform.http.post("/api/v1/applications", json=stated, headers=applicant)
    assert other.status_code == 201, other.text  # another purpose is another application
    same = _body(product_id, purpose="  采购原材料 ")
    refused = await platform.http.post("/api/v1/applications", json=same, headers=applicant)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"application_id": other.json()["id"]}
    assert len(await _open_rows(platform, product_id)) == 2

    # Once the first is over, the enterprise may apply for the product again.
    withdrawn = await platform.http.post(
        f"/api/v1/applications/{first_id}/withdraw", headers=applicant
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await _progress_until(platform, first_id, applicant, {"withdrawn"})
    anew = await platform.http.post(
        "/api/v1/applications", json=_body(product_id), headers=applicant
    )
    assert anew.status_code == 201, anew.text
    assert anew.json()["id"] != first_id


async def test_two_concurrent_identical_applications_make_one(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    _, product, applicant = await _reviewed_product(platform, sandbox, "DUP-2", suffix="212")
    product_id = product.json()["id"]
    answers = await asyncio.gather(
        *(
            platform.http.post("/api/v1/applications", json=_body(product_id), headers=applicant)
            for _ in range(4)
        )
    )
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 409]
    assert len(created) == 1 and len(refused) == 3, [a.text for a in answers]
    open_id = created[0].json()["id"]
    assert {a.json()["error"]["details"]["application_id"] for a in refused} == {open_id}
    rows = await _open_rows(platform, product_id)
    assert [str(r.id) for r in rows] == [open_id]
    async with platform.sessions() as session:
        submitted = list(
            await session.scalars(
                select(DecisionLogEntry.subject).where(
                    DecisionLogEntry.kind == "application.submitted",
                    DecisionLogEntry.payload["product_id"].as_string() == product_id,
                )
            )
        )
    assert submitted == [f"application-{open_id}"]
