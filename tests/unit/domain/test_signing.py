"""Who signs an offer and what counts as one purpose: names compared as typed (width, spaces,
middle dots, case), names masked for the log, purposes normalised (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.lifecycle import OPEN_APPLICATION, ApplicationStatus
from domain.origination import PURPOSE_KEY_LENGTH, purpose_key
from domain.signing import mask_name, normalised_name, signer_matches

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "typed",
    ["杨涛", " 杨涛 ", "杨 涛", "杨\u3000涛", "\t杨涛\n"],
)
def test_the_registered_name_typed_with_spaces_or_full_width_spaces_matches(typed: str) -> None:
    assert signer_matches(typed, "杨涛")


def test_full_width_letters_middle_dots_and_case_do_not_matter() -> None:
    assert signer_matches("ＪＯＨＮ　ＳＭＩＴＨ", "John Smith")
    assert signer_matches("阿依古丽・买买提", "阿依古丽·买买提")
    assert normalised_name("Ａ ｂ") == "ab"


@pytest.mark.parametrize("typed", ["张三", "杨", "杨涛涛", "", "   "])
def test_another_name_or_none_does_not_match(typed: str) -> None:
    assert not signer_matches(typed, "杨涛")


def test_a_masked_name_shows_only_its_first_character() -> None:
    assert mask_name("杨涛") == "杨*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("J") == "J*"
    assert mask_name("") == ""


def test_purposes_compare_normalised_and_bounded() -> None:
    assert purpose_key("  采购原材料 ") == purpose_key("采购原材料") == "采购原材料"
    assert purpose_key("Raw   MATERIALS") == purpose_key("ｒａｗ materials")
    assert purpose_key("") == ""
    assert len(purpose_key("货" * 500)) == PURPOSE_KEY_LENGTH


def test_open_applications_are_the_statuses_that_are_not_final() -> None:
    assert ApplicationStatus.OFFERED in OPEN_APPLICATION
    assert ApplicationStatus.DISBURSING in OPEN_APPLICATION
    assert ApplicationStatus.DISBURSED not in OPEN_APPLICATION
    assert ApplicationStatus.WITHDRAWN not in OPEN_APPLICATION
    assert len(OPEN_APPLICATION) == 9


def test_the_migration_lists_the_open_statuses_of_the_model() -> None:
    """0019's partial index was written with the statuses open then: they still are."""
    from db.models import OPEN_APPLICATION_SQL

    migration = (ROOT / "migrations" / "versions" / "0019_credit_safety.py").read_text()
    for status in OPEN_APPLICATION:
        assert f"'{status.value}'" in OPEN_APPLICATION_SQL
        assert f"'{status.value}'" in migration
