"""The parts of the portal's origination pages that are plain functions: the application's
timeline, the materials checklist (what the forms show and what a posted form provides) and the
offer's schedule preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from db.models import CaseMaterial
from domain.origination import Material
from web.portal_cases import materials_checklist, schedule_preview, timeline
from workflows.contracts import OfferTerms

KNOWN: dict[str, datetime | None] = {"submitted": datetime(2026, 12, 8, 2, 0, tzinfo=UTC)}


def test_the_timeline_marks_where_the_application_stands() -> None:
    waiting = timeline("in_review", False, KNOWN)
    assert [(s.stage, s.state) for s in waiting] == [
        ("submitted", "done"),
        ("in_review", "current"),
        ("offered", "todo"),
        ("accepted", "todo"),
        ("disbursed", "todo"),
    ]
    assert waiting[0].at == KNOWN["submitted"]
    assert [s.state for s in timeline("disbursed", True, KNOWN)] == ["done"] * 5
    assert timeline("info_requested", False, KNOWN)[1].stage == "info_requested"


def test_the_timeline_ends_where_the_application_ended() -> None:
    refused = timeline("offer_refused", True, KNOWN)
    assert [(s.stage, s.state) for s in refused][-2:] == [
        ("offered", "done"),
        ("offer_refused", "ended"),
    ]
    # A withdrawal is placed after the offer when one was made, else in review.
    assert [s.stage for s in timeline("withdrawn", True, KNOWN)][-2:] == ["offered", "withdrawn"]
    assert [s.stage for s in timeline("withdrawn", False, KNOWN)][-2:] == [
        "in_review",
        "withdrawn",
    ]
    assert timeline("declined", False, KNOWN)[-1].state == "ended"


def test_the_checklist_lists_the_required_materials_first_with_the_files_provided() -> None:
    letter = CaseMaterial(kind="guarantee_letter", filename="担保函.pdf", size_bytes=1)
    items = materials_checklist(["bank_statements"], [letter])
    assert items[0].kind == "bank_statements" and items[0].required
    assert len(items) == len(Material) and sum(i.required for i in items) == 1
    assert [(i.kind, i.files) for i in items if i.files] == [("guarantee_letter", (letter,))]
    asked = materials_checklist(["financial_statements"], [letter], only=["financial_statements"])
    assert [(i.kind, i.required, i.files) for i in asked] == [("financial_statements", True, ())]


def test_the_schedule_preview_shows_the_first_installments_and_the_last() -> None:
    offer = OfferTerms(
        application_id=uuid.uuid4(),
        amount=Decimal("120000.00"),
        rate=Decimal("0.0420"),
        term_months=12,
        repayment_method="equal_installment",
        expires_at=datetime(2026, 12, 15, tzinfo=UTC),
    )
    preview = schedule_preview(offer)
    assert preview is not None
    assert [row.number for row in preview.rows] == [1, 2, 3, 12] and preview.omitted == 8
    assert preview.rows[-1].closing_balance == Decimal(0)
    short = schedule_preview(offer.model_copy(update={"term_months": 3}))
    assert short is not None and short.omitted == 0 and len(short.rows) == 3
    assert schedule_preview(None) is None
