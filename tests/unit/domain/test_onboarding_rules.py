"""Onboarding rules: registration form checks, upload sniffing and the verification verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.onboarding import (
    CORRECTABLE_FIELDS,
    MAX_UPLOAD_BYTES,
    RESUBMITTABLE_STAGES,
    NextStep,
    RegistrationFacts,
    Verdict,
    VerificationOutcome,
    check_registration,
    check_upload,
    rejection_guidance,
    sniff_content_type,
    verification_verdict,
)

TODAY = date(2025, 6, 1)
GOOD_FORM = RegistrationFacts(
    enterprise_name="福州星河科技有限公司",
    uscc="91350100M000100Y43",
    registered_capital=Decimal("1000000"),
    founding_date=date(2020, 1, 1),
    industry="I",
    region="350100",
    legal_rep_name="张三",
    legal_rep_id_number="11010519491231002X",
    mobile="13800138000",
)

PDF = b"%PDF-1.7\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
EXE = b"MZ\x90\x00\x03\x00\x00\x00"


# ---- check_registration -------------------------------------------------------------------


def test_good_registration_form_has_no_issues() -> None:
    assert check_registration(GOOD_FORM, TODAY) == []


def test_company_founded_today_is_accepted() -> None:
    assert check_registration(replace(GOOD_FORM, founding_date=TODAY), TODAY) == []


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"uscc": "91350100M000100Y44"}, "enterprise.uscc", "uscc.bad_check_character"),
        ({"uscc": "91350100M000100Y4"}, "enterprise.uscc", "uscc.invalid_length"),
        (
            {"legal_rep_id_number": "110105194912310021"},
            "legal_representative.id_number",
            "resident_id.bad_check_digit",
        ),
        (
            {"legal_rep_id_number": "1101051949123100"},
            "legal_representative.id_number",
            "resident_id.invalid_length",
        ),
        ({"mobile": "12800138000"}, "legal_representative.mobile", "mobile.invalid"),
        ({"mobile": "+8613800138000"}, "legal_representative.mobile", "mobile.invalid"),
        (
            {"registered_capital": Decimal("0")},
            "enterprise.registered_capital",
            "capital.not_positive",
        ),
        (
            {"registered_capital": Decimal("-1")},
            "enterprise.registered_capital",
            "capital.not_positive",
        ),
        (
            {"founding_date": date(2025, 6, 2)},
            "enterprise.founding_date",
            "founding_date.in_future",
        ),
        ({"industry": "U"}, "enterprise.industry", "industry.unknown"),
        ({"industry": "c"}, "enterprise.industry", "industry.unknown"),
        ({"region": "990100"}, "enterprise.region", "region.unknown"),
        ({"region": "35010"}, "enterprise.region", "region.unknown"),
        ({"region": "3501OO"}, "enterprise.region", "region.unknown"),
    ],
)
def test_each_bad_registration_field_gives_its_code_and_path(
    changes: dict[str, Any], field: str, code: str
) -> None:
    issues = check_registration(replace(GOOD_FORM, **changes), TODAY)
    assert [(i.field, i.code) for i in issues] == [(field, code)]
    assert issues[0].message_zh and issues[0].message_en


def test_every_bad_registration_field_is_reported_at_once() -> None:
    form = replace(
        GOOD_FORM,
        uscc="91350100M000100Y44",
        legal_rep_id_number="110105194912310021",
        mobile="12800138000",
        registered_capital=Decimal("0"),
        founding_date=date(2026, 1, 1),
        industry="Z",
        region="000000",
    )
    assert {i.field for i in check_registration(form, TODAY)} == {
        "enterprise.uscc",
        "legal_representative.id_number",
        "legal_representative.mobile",
        "enterprise.registered_capital",
        "enterprise.founding_date",
        "enterprise.industry",
        "enterprise.region",
    }


# ---- uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (EXE, None),
        (b"", None),
        (b"%PD", None),
        (b"GIF89a", None),
    ],
)
def test_content_type_comes_from_magic_number(head: bytes, expected: str | None) -> None:
    assert sniff_content_type(head) == expected


@pytest.mark.parametrize("head", [PDF, JPEG, PNG])
def test_pdf_jpeg_and_png_uploads_are_accepted_whatever_the_name(head: bytes) -> None:
    assert check_upload(len(head), head, field="licence.exe") == []
    assert check_upload(MAX_UPLOAD_BYTES, head) == []


@pytest.mark.parametrize(
    ("size", "head", "code"),
    [
        (len(EXE), EXE, "upload.unsupported_type"),
        (0, b"", "upload.empty"),
        (0, PDF, "upload.empty"),
        (MAX_UPLOAD_BYTES + 1, PDF, "upload.too_large"),
    ],
)
def test_executable_empty_and_oversize_uploads_are_refused(
    size: int, head: bytes, code: str
) -> None:
    issues = check_upload(size, head, field="id_front")
    assert [(i.field, i.code) for i in issues] == [("id_front", code)]


# ---- verification_verdict -----------------------------------------------------------------

NAME = "福州星河科技有限公司"
REP = "张三"


def _verdict(**changes: Any) -> VerificationOutcome:
    answers: dict[str, Any] = {
        "identity_result": "MATCH",
        "registry_found": True,
        "registry_status": "ACTIVE",
        "registry_name": NAME,
        "registry_legal_rep": REP,
        "enterprise_name": NAME,
        "legal_rep_name": REP,
    }
    answers.update(changes)
    return verification_verdict(**answers)


@pytest.mark.parametrize(
    ("changes", "verdict", "reason"),
    [
        ({"identity_result": "MISMATCH"}, Verdict.REJECTED, "identity.mismatch"),
        ({"identity_result": "NOT_FOUND"}, Verdict.REJECTED, "identity.not_found"),
        (
            {"registry_found": False, "registry_status": None, "registry_name": None},
            Verdict.REJECTED,
            "registry.not_found",
        ),
        ({"registry_status": "REVOKED"}, Verdict.REJECTED, "registry.revoked"),
        ({"registry_status": "CANCELLED"}, Verdict.REJECTED, "registry.cancelled"),
        ({"registry_legal_rep": "李四"}, Verdict.REJECTED, "registry.legal_rep_mismatch"),
        ({"identity_result": None}, Verdict.REVIEW, "provider.unavailable"),
        (
            {
                "registry_found": None,
                "registry_status": None,
                "registry_name": None,
                "registry_legal_rep": None,
            },
            Verdict.REVIEW,
            "provider.unavailable",
        ),
        ({"identity_result": "INCONCLUSIVE"}, Verdict.REVIEW, "identity.inconclusive"),
        (
            {"registry_name": "福州星河科技 有限公司"},
            Verdict.REVIEW,
            "registry.name_minor_mismatch",
        ),
        (
            {"registry_name": "ＡＢＣ科技有限公司", "enterprise_name": "ABC科技有限公司"},
            Verdict.REVIEW,
            "registry.name_minor_mismatch",
        ),
        (
            {
                "registry_name": "星河（福州）科技有限公司",
                "enterprise_name": "星河(福州)科技有限公司",
            },
            Verdict.REVIEW,
            "registry.name_minor_mismatch",
        ),
        (
            {"registry_name": "Acme Trading Co.,Ltd.", "enterprise_name": "ACME Trading Co Ltd"},
            Verdict.REVIEW,
            "registry.name_minor_mismatch",
        ),
        ({"registry_name": "福州银河科技有限公司"}, Verdict.REJECTED, "registry.name_mismatch"),
        ({"registry_name": None}, Verdict.REJECTED, "registry.name_mismatch"),
        ({}, Verdict.VERIFIED, "all_checks_passed"),
    ],
)
def test_verdict_for_each_combination_of_provider_answers(
    changes: dict[str, Any], verdict: Verdict, reason: str
) -> None:
    assert _verdict(**changes) == VerificationOutcome(verdict, reason)


def test_definitive_refusal_wins_over_an_unavailable_provider() -> None:
    outcome = _verdict(identity_result=None, registry_status="REVOKED")
    assert outcome == VerificationOutcome(Verdict.REJECTED, "registry.revoked")


# ---- the way forward after a "no" -----------------------------------------------------------

VERDICT_REASONS = (
    "identity.mismatch",
    "identity.not_found",
    "registry.not_found",
    "registry.revoked",
    "registry.cancelled",
    "registry.legal_rep_mismatch",
    "registry.name_mismatch",
    "documents.not_provided",
)


@pytest.mark.parametrize("reason", VERDICT_REASONS)
def test_every_rejection_reason_has_a_way_forward_in_both_languages(reason: str) -> None:
    guidance = rejection_guidance(reason)
    assert guidance.code == reason
    assert guidance.message_zh and guidance.message_en
    assert set(guidance.fields) <= set(CORRECTABLE_FIELDS)


def test_a_typo_names_the_fields_to_correct() -> None:
    assert rejection_guidance("identity.mismatch").fields == (
        "legal_representative.name",
        "legal_representative.id_number",
    )
    assert rejection_guidance("registry.name_mismatch").fields == ("enterprise.name",)
    assert rejection_guidance("registry.legal_rep_mismatch").next_step is (
        NextStep.CORRECT_AND_RESUBMIT
    )


@pytest.mark.parametrize("reason", ["registry.revoked", "registry.cancelled", "registry.suspended"])
def test_a_licence_not_active_is_not_a_typo_and_points_to_the_registration_authority(
    reason: str,
) -> None:
    guidance = rejection_guidance(reason)
    assert guidance.fields == ()
    assert guidance.next_step is NextStep.CONTACT_REGISTRY_THEN_RESUBMIT
    assert "不是填写错误" in guidance.message_zh and "registration authority" in guidance.message_en


def test_a_reviewer_s_reason_is_shown_in_their_words() -> None:
    guidance = rejection_guidance("营业执照照片不清晰")
    assert guidance.code == "review.rejected"
    assert (
        "营业执照照片不清晰" in guidance.message_zh and "营业执照照片不清晰" in guidance.message_en
    )
    assert rejection_guidance("review.rejected").message_zh.startswith("平台审核未通过。")


def test_only_a_rejected_or_lapsed_onboarding_is_resubmittable() -> None:
    assert {"rejected", "lapsed"} == RESUBMITTABLE_STAGES
