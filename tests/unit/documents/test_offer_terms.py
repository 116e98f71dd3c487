"""The offer's canonical terms: the digest an acceptance binds to, known without rendering;
the letter rendered from the terms alone prints it, and the same terms give the same bytes."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from documents.loan_documents import (
    OFFER_LETTER_VERSION,
    AcceptanceView,
    document_sha256,
    offer_terms,
    offer_terms_sha256,
    render_loan_contract,
    render_offer,
    terms_from_offer,
)
from domain.schedule import RepaymentMethod
from tests.unit.documents.test_loan_documents import TERMS_12, TERMS_36

PRODUCT = uuid.UUID("0b6a4c2e-8a55-4d55-9c1c-6f1f3c1d2e3f")


def _offer(terms: object = TERMS_12, version: int = 3) -> dict[str, object]:
    return offer_terms(
        terms,  # type: ignore[arg-type]
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        product_id=PRODUCT,
        product_version=version,
    )


def _stored(offer: dict[str, object]) -> dict[str, object]:
    """As PostgreSQL gives it back (JSONB: keys reordered, the same values)."""
    loaded: dict[str, object] = json.loads(json.dumps(offer))
    return dict(reversed(list(loaded.items())))


def test_the_digest_is_stable_and_covers_every_term_the_letter_prints() -> None:
    offer = _offer()
    digest = offer_terms_sha256(offer)
    assert len(digest) == 64 and digest == offer_terms_sha256(_stored(offer))
    assert offer["letter"] == OFFER_LETTER_VERSION and offer["product_version"] == 3
    assert offer["apr"] == str(TERMS_12.apr) and offer["upfront_fee"] == "100.00"
    assert len(offer["schedule"]) == 12  # type: ignore[arg-type]
    changed = [
        _offer(version=4),
        _offer(dataclasses.replace(TERMS_12, apr=TERMS_12.apr + Decimal("0.0001"))),
        _offer(dataclasses.replace(TERMS_12, upfront_fee=Decimal("99.00"))),
        _offer(dataclasses.replace(TERMS_12, borrower_name="另一家公司")),
        _offer(dataclasses.replace(TERMS_12, expires_on=None)),
        _offer(TERMS_36),
        {**offer, "letter": "offer-letter-next"},
    ]
    assert len({offer_terms_sha256(other) for other in changed} | {digest}) == len(changed) + 1


def test_the_letters_view_is_rebuilt_from_the_terms_alone() -> None:
    offer = _offer()
    assert terms_from_offer(_stored(offer)) == TERMS_12


def test_a_recorded_schedule_that_the_terms_do_not_build_is_refused() -> None:
    offer = _offer()
    rows = [list(row) for row in offer["schedule"]]  # type: ignore[attr-defined]
    rows[0][4] = "1.00"
    with pytest.raises(ValueError, match="schedule"):
        terms_from_offer({**offer, "schedule": rows})


def test_the_same_terms_render_to_the_same_bytes() -> None:
    offer = _offer()
    first, again = render_offer(offer), render_offer(_stored(offer))
    assert first.startswith(b"%PDF-")
    assert document_sha256(first) == document_sha256(again)
    assert first == again
    assert document_sha256(render_offer(_offer(version=4))) != document_sha256(first)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_letter_prints_the_digest_the_acceptance_binds_to(tmp_path: Path) -> None:
    offer = _offer()
    path = tmp_path / "offer.pdf"
    path.write_bytes(render_offer(offer))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    assert offer_terms_sha256(offer) in compact
    assert "要约条款摘要OffertermsSHA-256" in compact


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_contract_says_the_acceptance_bound_the_terms_digest(tmp_path: Path) -> None:
    digest = offer_terms_sha256(_offer())
    acceptance = AcceptanceView(
        typed_name="张三",
        accepted_at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
        offer_sha256=digest,
        masked_account="6222 **** 1234",
        binds_terms=True,
    )
    path = tmp_path / "contract.pdf"
    path.write_bytes(render_loan_contract(TERMS_12, acceptance))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    assert digest in compact
    assert "即要约函所载的要约条款摘要" in compact
