"""Builders of valid codes that carry a chosen sandbox scenario."""

from __future__ import annotations

from sandbox.codes import with_id_check_digit, with_uscc_check_char

BASE_URL = "http://sandbox.test"


def uscc(suffix: str = "123", prefix: str = "91310000MA1FL1") -> str:
    """A valid USCC whose scenario suffix (characters 15-17) is `suffix`."""
    return with_uscc_check_char(prefix + suffix)


def id_number(sequence: str = "123", prefix: str = "11010519900101") -> str:
    """A valid resident ID number whose sequence digits (15-17) are `sequence`."""
    return with_id_check_digit(prefix + sequence)
