"""What an enterprise's data an institution may read: the consent scopes (授权范围), the data each
one names, and the amount bands a demand is shown in while its enterprise stays anonymous."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from domain.matching import Rule


class ConsentScope(StrEnum):
    """A scope of an enterprise's data it grants an institution (each gates exactly this)."""

    PROFILE = "profile"  # identity and contact: name, USCC, legal representative, contacts
    FINANCIALS = "financials"  # financial statements and tax filings, and figures drawn from them
    CREDIT_REPORT = "credit_report"  # the credit bureau's report (征信报告)


ALL_SCOPES: frozenset[ConsentScope] = frozenset(ConsentScope)
NO_SCOPES: frozenset[ConsentScope] = frozenset()

# Matching rules whose stated reason quotes the enterprise's data, and the scope it falls in:
# the exact amount sought (known once the enterprise is identified), the revenue and the
# provisional grade drawn from its tax filings.
RULE_SCOPES: dict[str, ConsentScope] = {
    Rule.AMOUNT.value: ConsentScope.PROFILE,
    Rule.ANNUAL_REVENUE.value: ConsentScope.FINANCIALS,
    Rule.CREDIT_GRADE.value: ConsentScope.FINANCIALS,
}

# (code, upper bound in yuan, exclusive); the last band is open.
_AMOUNT_BANDS: tuple[tuple[str, Decimal | None], ...] = (
    ("under_100k", Decimal(100_000)),
    ("from_100k_to_500k", Decimal(500_000)),
    ("from_500k_to_1m", Decimal(1_000_000)),
    ("from_1m_to_5m", Decimal(5_000_000)),
    ("from_5m_to_10m", Decimal(10_000_000)),
    ("from_10m_to_50m", Decimal(50_000_000)),
    ("from_50m", None),
)
AMOUNT_BANDS: tuple[str, ...] = tuple(code for code, _ in _AMOUNT_BANDS)


def amount_band(amount: Decimal) -> str:
    """The band an amount falls in (``from_1m_to_5m`` for ¥1,000,000 up to ¥4,999,999.99),
    the code of the ``amount_band`` labels: what an anonymous demand shows of its amount."""
    for code, upper in _AMOUNT_BANDS:
        if upper is None or amount < upper:
            return code
    raise AssertionError("the last band is open")  # pragma: no cover
