"""Check characters of USCCs and ID numbers, which the sandbox validates like real providers."""

from __future__ import annotations

import pytest

from sandbox.codes import (
    digest_int,
    id_check_digit,
    is_valid_id_number,
    is_valid_uscc,
    uscc_check_char,
)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91310000MA1FL1MMXL"])
def test_published_usccs_are_valid(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100YI3", "91350100m000100Y43"],
)
def test_malformed_usccs_are_invalid(code: str) -> None:
    assert not is_valid_uscc(code)


def test_id_check_digit_follows_gb11643_including_x() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("11010519491231002x")


def test_check_helpers_refuse_wrong_lengths() -> None:
    with pytest.raises(ValueError):
        id_check_digit("123")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100Y")


def test_digest_is_stable_and_depends_on_every_part() -> None:
    assert digest_int("a", "b") == digest_int("a", "b")
    assert digest_int("a", "b") != digest_int("ab")
