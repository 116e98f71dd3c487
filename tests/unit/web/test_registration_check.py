"""The registration form checked as the owner types: the portal's dotted fields become the API's
body, and the onboarding service names the same problems the registration would be refused for,
field by field, even before the form is complete."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from sandbox.codes import with_id_check_digit, with_uscc_check_char
from services.onboarding import check_registration_form
from web.portal import REGISTRATION_FIELDS, registration_body

USCC = with_uscc_check_char("91310115MA1K4A123")
ID_NUMBER = with_id_check_digit("31011519800101123")
COMPLETE = {
    "enterprise.name": "上海测试科技有限公司",
    "enterprise.uscc": USCC,
    "enterprise.registered_capital": "5000000.00",
    "enterprise.founding_date": "2015-06-01",
    "enterprise.industry": "I",
    "enterprise.region": "310101",
    "legal_representative.name": "张三",
    "legal_representative.id_number": ID_NUMBER,
    "legal_representative.mobile": "13900000001",
    "account.username": "owner.test",
    "account.password": "Applicant#2026",
    "account.password_confirmation": "Applicant#2026",
}


def _fields(form: dict[str, str]) -> set[str]:
    return {issue.field for issue in check_registration_form(registration_body(FormData(form)))}


def test_the_dotted_form_becomes_the_api_body_without_empty_fields() -> None:
    body: dict[str, Any] = registration_body(FormData({**COMPLETE, "email": "  ", "extra": "x"}))
    assert body["enterprise"]["uscc"] == USCC
    assert body["account"]["password"] == "Applicant#2026"
    assert "email" not in body and "extra" not in body
    assert set(COMPLETE) <= set(REGISTRATION_FIELDS)


def test_a_complete_valid_form_has_no_problem() -> None:
    assert _fields(COMPLETE) == set()


def test_rule_problems_of_a_complete_form_are_named() -> None:
    wrong = {
        **COMPLETE,
        "enterprise.uscc": USCC[:-1] + ("0" if USCC[-1] != "0" else "1"),
        "enterprise.region": "990000",
        "account.password_confirmation": "Another#2026",
    }
    assert _fields(wrong) == {
        "enterprise.uscc",
        "enterprise.region",
        "account.password_confirmation",
    }


def test_a_half_typed_form_names_the_typed_fields_check_characters_and_password() -> None:
    typed = {
        "enterprise.uscc": USCC[:-1] + ("0" if USCC[-1] != "0" else "1"),
        "account.password": "short",
    }
    problems = _fields(typed)
    assert {"enterprise.uscc", "account.password"} <= problems
    assert "legal_representative" in problems  # not typed yet: required (the page shows
    # only the fields already touched)
