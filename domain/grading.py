"""Provisional credit grades until the credit model (issue 7) grades enterprises itself."""

from __future__ import annotations

from domain.products import CreditGrade

# The tax authority's taxpayer credit grade (纳税信用等级) is the best public signal we have:
# A → A, B → B, C → C, D → E; M (new taxpayer, no history) stays ungraded.
_FROM_TAX = {"A": CreditGrade.A, "B": CreditGrade.B, "C": CreditGrade.C, "D": CreditGrade.E}


def provisional_grade(tax_grade: str | None) -> CreditGrade | None:
    """The grade matching uses while no model grade exists; None when nothing is known."""
    return _FROM_TAX.get(tax_grade or "")
