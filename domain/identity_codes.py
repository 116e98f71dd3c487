"""Validation and masking of Chinese identity codes: USCC, resident ID numbers and mobile numbers.

Public API:

- ``uscc_check_character(first17)`` / ``validate_uscc(code, field_name)``: Unified Social
  Credit Code (统一社会信用代码, GB 32100-2015).
- ``resident_id_check_digit(first17)`` / ``normalize_resident_id(number)`` /
  ``validate_resident_id(number, today, min_age, field_name)``: resident identity card
  number (公民身份号码, GB 11643-1999, ISO 7064 MOD 11-2).
- ``validate_mainland_mobile(number, field_name)``: mainland mobile number (手机号).
- ``mask_resident_id``, ``mask_mobile``, ``mask_bank_account``: display masking (脱敏).

Validators return a list of ``FieldIssue`` (empty when valid) so the API can report every
problem at once and point at any field (``legal_representative.id_number``); the field name
is a parameter. Validators are strict about the canonical form: they do not strip spaces or
change case. Callers that accept user typing normalise first (``normalize_resident_id``).
"""

from __future__ import annotations

from datetime import date

from domain.errors import FieldIssue, issue

USCC_LENGTH = 18
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: value for value, ch in enumerate(USCC_ALPHABET)}
# Wᵢ = 3^(i−1) mod 31 for i = 1..17.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

RESIDENT_ID_LENGTH = 18
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"

_DIGITS = frozenset("0123456789")


def uscc_check_character(first17: str) -> str:
    """The 18th (check) character of a USCC from its first 17 characters.

    check = 31 − (Σ value(cᵢ)·3^(i−1) mod 31), where 31 is written '0'. Characters take their
    index in ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (I, O, Z, S and V do not exist).
    Raises ``ValueError`` if ``first17`` is not 17 characters of that alphabet.
    """
    if len(first17) != USCC_LENGTH - 1 or any(ch not in _USCC_VALUE for ch in first17):
        raise ValueError("a USCC body is 17 characters of 0-9 and ABCDEFGHJKLMNPQRTUWXY")
    total = sum(_USCC_VALUE[ch] * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str, field_name: str = "uscc") -> list[FieldIssue]:
    """Issues with a Unified Social Credit Code; empty when it is valid.

    Checks length (18), alphabet (digits and upper-case ``ABCDEFGHJKLMNPQRTUWXY``; lower case
    is refused rather than upper-cased) and the GB 32100-2015 check character. The meaning of
    positions 1–17 (registration authority, entity type, GB/T 2260 division) is not checked:
    those code lists are data that change over time.
    Codes: ``uscc.invalid_length``, ``uscc.invalid_character``, ``uscc.bad_check_character``.
    """
    if len(code) != USCC_LENGTH:
        return [
            issue(
                field_name,
                "uscc.invalid_length",
                "统一社会信用代码应为18位",
                "A Unified Social Credit Code has 18 characters.",
            )
        ]
    bad = [ch for ch in code if ch not in _USCC_VALUE]
    if bad:
        if all(ch.upper() in _USCC_VALUE for ch in bad):
            zh = "统一社会信用代码中的字母须为大写"
            en = "Letters in a Unified Social Credit Code must be upper case."
        else:
            zh = "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）"
            en = (
                "A Unified Social Credit Code contains only digits and upper-case letters "
                "other than I, O, Z, S and V."
            )
        return [issue(field_name, "uscc.invalid_character", zh, en)]
    if uscc_check_character(code[:17]) != code[17]:
        return [
            issue(
                field_name,
                "uscc.bad_check_character",
                "统一社会信用代码校验位错误，请核对",
                "The check character of the Unified Social Credit Code is wrong.",
            )
        ]
    return []


def resident_id_check_digit(first17: str) -> str:
    """The 18th (check) character of a resident ID number: ``"10X98765432"[Σ aᵢ·Wᵢ mod 11]``.

    Raises ``ValueError`` if ``first17`` is not 17 ASCII digits.
    """
    if len(first17) != RESIDENT_ID_LENGTH - 1 or any(ch not in _DIGITS for ch in first17):
        raise ValueError("a resident ID body is 17 digits")
    total = sum(int(ch) * w for ch, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def normalize_resident_id(number: str) -> str:
    """Canonical form of typed input: surrounding spaces removed and a final 'x' upper-cased.

    ``validate_resident_id`` refuses a lower-case 'x' (the standard writes 'X'); input
    forms call this first so that storage, comparison and masking see one spelling.
    """
    return number.strip().upper()


def validate_resident_id(
    number: str,
    today: date,
    min_age: int = 18,
    field_name: str = "resident_id",
) -> list[FieldIssue]:
    """Issues with an 18-digit resident ID number; empty when it is valid.

    Checks: length 18; 17 ASCII digits then a digit or upper-case 'X' (lower-case 'x' is
    refused, see ``normalize_resident_id``); the MOD 11-2 check character; positions 7–14 a
    real calendar date not after ``today``; age on ``today`` at least ``min_age`` full
    years (someone born on 29 February reaches a birthday on 1 March in common years).
    The region code (positions 1–6) is not checked against GB/T 2260.
    Codes: ``resident_id.invalid_length``, ``resident_id.invalid_character``,
    ``resident_id.bad_check_digit``, ``resident_id.bad_birth_date``,
    ``resident_id.birth_date_in_future``, ``resident_id.under_age``.
    """
    if len(number) != RESIDENT_ID_LENGTH:
        return [
            issue(
                field_name,
                "resident_id.invalid_length",
                "身份证号码应为18位",
                "A resident ID number has 18 characters.",
            )
        ]
    body, check = number[:17], number[17]
    if any(ch not in _DIGITS for ch in body) or (check not in _DIGITS and check != "X"):
        return [
            issue(
                field_name,
                "resident_id.invalid_character",
                "身份证号码前17位须为数字，末位为数字或大写X",
                "A resident ID number is 17 digits followed by a digit or an upper-case X.",
            )
        ]
    issues: list[FieldIssue] = []
    if resident_id_check_digit(body) != check:
        issues.append(
            issue(
                field_name,
                "resident_id.bad_check_digit",
                "身份证号码校验位错误，请核对",
                "The check digit of the resident ID number is wrong.",
            )
        )
    birth = _birth_date(body)
    if birth is None:
        issues.append(
            issue(
                field_name,
                "resident_id.bad_birth_date",
                "身份证号码中的出生日期无效",
                "The birth date in the resident ID number is not a real date.",
            )
        )
    elif birth > today:
        issues.append(
            issue(
                field_name,
                "resident_id.birth_date_in_future",
                "身份证号码中的出生日期晚于今天",
                "The birth date in the resident ID number is in the future.",
            )
        )
    elif _age_on(birth, today) < min_age:
        issues.append(
            issue(
                field_name,
                "resident_id.under_age",
                f"须年满{min_age}周岁",
                f"The person must be at least {min_age} years old.",
            )
        )
    return issues


def validate_mainland_mobile(number: str, field_name: str = "mobile") -> list[FieldIssue]:
    """Issues with a mainland China mobile number: 11 ASCII digits matching ``1[3-9]xxxxxxxxx``.

    No country code, spaces or dashes (normalise before calling). Code: ``mobile.invalid``.
    """
    if (
        len(number) == 11
        and all(ch in _DIGITS for ch in number)
        and number[0] == "1"
        and number[1] in "3456789"
    ):
        return []
    return [
        issue(
            field_name,
            "mobile.invalid",
            "请输入11位中国大陆手机号码",
            "Enter an 11-digit mainland China mobile number.",
        )
    ]


def mask_resident_id(number: str) -> str:
    """Show the region code and the last four characters: ``110105********002X``.

    Anything shorter than 11 characters is masked completely.
    """
    if len(number) < 11:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_mobile(number: str) -> str:
    """Show the first three and last four digits: ``138****5678``.

    Anything shorter than 8 characters is masked completely.
    """
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_bank_account(account: str) -> str:
    """Show only the last four digits of a bank account, ignoring spaces: ``************1234``.

    An account of four characters or fewer is masked completely.
    """
    compact = "".join(account.split())
    if len(compact) <= 4:
        return "*" * len(compact)
    return "*" * (len(compact) - 4) + compact[-4:]


def _birth_date(body: str) -> date | None:
    """The birth date in positions 7–14 (YYYYMMDD), or ``None`` if it is not a real date."""
    try:
        return date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return None


def _age_on(birth: date, today: date) -> int:
    """Full years completed on ``today``."""
    before_birthday = (today.month, today.day) < (birth.month, birth.day)
    return today.year - birth.year - before_birthday
