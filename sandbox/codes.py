"""Check characters of Chinese identifiers, and hash-derived numbers for deterministic answers."""

from __future__ import annotations

import hashlib
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")

# GB 32100-2015 uses 31 characters: digits and upper-case letters without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character (0-9 or X) of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("an ID number body is 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(id_number: str) -> bool:
    """True when the resident ID number has 18 characters and a correct check digit."""
    return bool(_ID_PATTERN.match(id_number)) and id_check_digit(id_number[:17]) == id_number[17]


def with_id_check_digit(first17: str) -> str:
    """A complete 18-character ID number built from its first 17 digits."""
    return first17 + id_check_digit(first17)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError("a USCC body is 17 characters of the GB 32100 alphabet")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(uscc: str) -> bool:
    """True when the Unified Social Credit Code is well formed and its check character fits."""
    return bool(_USCC_PATTERN.match(uscc)) and uscc_check_char(uscc[:17]) == uscc[17]


def with_uscc_check_char(first17: str) -> str:
    """A complete 18-character USCC built from its first 17 characters."""
    return first17 + uscc_check_char(first17)


def digest_int(*parts: str) -> int:
    """A stable 64-bit number derived from the parts, so the same input always answers the same."""
    raw = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(raw[:8], "big")


def digest_hex(*parts: str, length: int = 16) -> str:
    """A stable upper-case hex token derived from the parts (for ids and references)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length].upper()
