"""A verified signer (issue 21): an offer is accepted only by its legal representative, named as
registered and confirmed by a one-time code texted to the registered mobile. A wrong name or a
wrong, void or expired code is refused on its field and nothing is paid; the decision log names
the signer (masked) and the letter's hash for every outcome."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

import httpx
from sqlalchemy import func, select, update
from temporalio.testing import WorkflowEnvironment

from db.models import DecisionLogEntry, Loan, PaymentInstruction, SigningChallenge
from domain.signing import SIGNING_CODE_ATTEMPTS, mask_name
from tests.integration.conftest import Platform
from tests.integration.signing_support import signer_of, signing_code
from tests.integration.test_application_api import (
    ACCOUNT,
    _progress_until,
    offered_by_a_supervisor,
)
from tests.integration.test_record_histories import _save
from tests.support import SandboxProcess


def _refused(answer: httpx.Response, status: int, code: str, field: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    error: dict[str, object] = answer.json()["error"]
    assert error["code"] == code
    assert [(f["field"], f["code"]) for f in error["fields"]] == [(field, code)]  # type: ignore[attr-defined]
    assert error["message_zh"] and error["message_en"]
    return error


async def _nothing_paid(platform: Platform, sandbox: SandboxProcess, app_id: str) -> None:
    async with platform.sessions() as session:
        loans = await session.scalar(
            select(func.count()).select_from(Loan).where(Loan.application_id == uuid.UUID(app_id))
        )
        instructions = await session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .join(Loan, Loan.id == PaymentInstruction.loan_id)
            .where(Loan.application_id == uuid.UUID(app_id))
        )
    assert (loans, instructions) == (0, 0)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        paid = (await client.get("/bank/v1/payments", params={"reference": app_id})).json()
    assert (paid["payments"] if isinstance(paid, dict) else paid) == []


async def test_only_the_legal_representative_with_the_texted_code_accepts(
    platform: Platform, sandbox: SandboxProcess, dev_env: WorkflowEnvironment
) -> None:
    app_id, applicant = await offered_by_a_supervisor(platform, sandbox, "SIGN-1", suffix="231")
    name, _ = await signer_of(platform, app_id)
    url = f"/api/v1/applications/{app_id}/acceptance"
    progress = await _progress_until(platform, app_id, applicant, {"offered"})
    letter = progress["offer_document"]["sha256"]

    # Without a code asked for, nothing to confirm with.
    unasked = await platform.http.post(
        url, json={"signer_name": name, "code": "000000", "account": ACCOUNT}, headers=applicant
    )
    _refused(unasked, 422, "signer.code_missing", "code")

    code = await signing_code(platform, sandbox, app_id, applicant)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    # The right code with another name: refused on the name, the code still good.
    impostor = await platform.http.post(
        url, json={"signer_name": "张三", "code": code, "account": ACCOUNT}, headers=applicant
    )
    _refused(impostor, 422, "signer.name_mismatch", "signer_name")
    # The right name with a wrong code: refused on the code, the attempts left told.
    guessed = await platform.http.post(
        url, json={"signer_name": name, "code": wrong_code, "account": ACCOUNT}, headers=applicant
    )
    error = _refused(guessed, 422, "signer.code_wrong", "code")
    assert error["details"] == {"attempts_left": str(SIGNING_CODE_ATTEMPTS - 1)}
    await _nothing_paid(platform, sandbox, app_id)
    assert (await _progress_until(platform, app_id, applicant, {"offered"}))["stage"] == "offered"

    # Wrong codes up to the limit void the code: even the right one is refused then.
    for attempt in range(2, SIGNING_CODE_ATTEMPTS + 1):
        again = await platform.http.post(
            url,
            json={"signer_name": name, "code": f"{(int(code) + attempt) % 1_000_000:06d}",
                  "account": ACCOUNT},
            headers=applicant,
        )  # fmt: skip
        if attempt < SIGNING_CODE_ATTEMPTS:
            _refused(again, 422, "signer.code_wrong", "code")
        else:
            _refused(again, 429, "signer.code_void", "code")
    void = await platform.http.post(
        url, json={"signer_name": name, "code": code, "account": ACCOUNT}, headers=applicant
    )
    _refused(void, 429, "signer.code_void", "code")

    # An expired code is refused too.
    expired_code = await signing_code(platform, sandbox, app_id, applicant)
    async with platform.sessions() as session, session.begin():
        await session.execute(
            update(SigningChallenge)
            .where(
                SigningChallenge.application_id == uuid.UUID(app_id),
                SigningChallenge.voided_at.is_(None),
            )
            .values(expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    expired = await platform.http.post(
        url,
        json={"signer_name": name, "code": expired_code, "account": ACCOUNT},
        headers=applicant,
    )
    _refused(expired, 410, "signer.code_expired", "code")
    await _nothing_paid(platform, sandbox, app_id)

    # The legal representative, typed with spaces and full-width letters, and a fresh code.
    fresh = await signing_code(platform, sandbox, app_id, applicant)
    typed = " ".join(name)
    accepted = await platform.http.post(
        url,
        json={"signer_name": typed, "code": fresh, "account": ACCOUNT, "document_sha256": letter},
        headers=applicant,
    )
    assert accepted.status_code == 200, accepted.text
    done = await _progress_until(platform, app_id, applicant, {"disbursed", "disbursement_failed"})
    assert done["stage"] == "disbursed", done
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        paid = (await client.get("/bank/v1/payments", params={"reference": app_id})).json()
    payments = paid["payments"] if isinstance(paid, dict) else paid
    assert len(payments) == 1 and Decimal(payments[0]["amount"]) > 0
    async with platform.sessions() as session:
        entries = list(
            await session.scalars(
                select(DecisionLogEntry)
                .where(
                    DecisionLogEntry.subject == f"application-{app_id}",
                    DecisionLogEntry.kind.in_(("offer.signed", "offer.signature_refused")),
                )
                .order_by(DecisionLogEntry.seq)
            )
        )
        instructions = await session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .join(Loan, Loan.id == PaymentInstruction.loan_id)
            .where(Loan.application_id == uuid.UUID(app_id))
        )
    assert instructions == 1
    signed = [e for e in entries if e.kind == "offer.signed"]
    assert len(signed) == 1
    assert signed[0].payload["signer"] == mask_name(name) != name
    assert signed[0].payload["signer_role"] == "legal_representative"
    assert signed[0].payload["document_sha256"] == letter
    assert name not in str(signed[0].payload)
    reasons = [e.payload["reason"] for e in entries if e.kind == "offer.signature_refused"]
    assert reasons[:3] == ["signer.code_missing", "signer.name_mismatch", "signer.code_wrong"]
    assert "signer.code_void" in reasons and reasons[-1] == "signer.code_expired"
    if os.environ.get("RECORD_HISTORIES") == "1":  # for the replay test (verified-signer-v1)
        await _save(dev_env, f"application-{app_id}", "loan_application_signed_after_refusals")
