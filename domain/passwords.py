"""Password strength rules for every account (checked before hashing)."""

from __future__ import annotations

from domain.errors import FieldIssue, issue

MIN_LENGTH = 10
MAX_LENGTH = 128
_COMMON = frozenset(
    {"password123", "1234567890", "qwertyuiop", "iloveyou12", "admin12345", "passw0rd!!"}
)


PASSWORD_RULES = (
    f"密码需 {MIN_LENGTH}–{MAX_LENGTH} 个字符，包含小写字母、大写字母、数字、符号中的至少三类，"
    "且不能过于常见或包含用户名",
    f"The password needs {MIN_LENGTH}–{MAX_LENGTH} characters with three of: lower-case, "
    "upper-case, digit, symbol; it must not be a common one or contain the username",
)
"""The rules :func:`check_password_strength` applies, in Chinese and English, to show before
a password is asked for."""


def check_password_strength(
    password: str, username: str = "", field: str = "password"
) -> list[FieldIssue]:
    """Length 10–128, at least three of lower/upper/digit/symbol, not common, not the username."""
    issues: list[FieldIssue] = []
    if len(password) < MIN_LENGTH:
        issues.append(
            issue(
                field,
                "password.too_short",
                f"密码至少需要 {MIN_LENGTH} 个字符",
                f"The password needs at least {MIN_LENGTH} characters",
            )
        )
    if len(password) > MAX_LENGTH:
        issues.append(
            issue(
                field,
                "password.too_long",
                f"密码不能超过 {MAX_LENGTH} 个字符",
                f"The password may have at most {MAX_LENGTH} characters",
            )
        )
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        issues.append(
            issue(
                field,
                "password.too_simple",
                "密码需包含小写字母、大写字母、数字、符号中的至少三类",
                "The password needs three of: lower-case, upper-case, digit, symbol",
            )
        )
    lowered = password.lower()
    if lowered in _COMMON or (username and username.lower() in lowered):
        issues.append(
            issue(
                field,
                "password.guessable",
                "密码过于常见或包含用户名",
                "The password is too common or contains the username",
            )
        )
    return issues
