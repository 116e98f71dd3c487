"""The bands an anonymous demand's amount is shown in: every amount falls in exactly one, the
bounds belong to the band above, and the catalogue reads them as people write them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.disclosure import AMOUNT_BANDS, amount_band
from domain.labels import Vocabulary, label


@pytest.mark.parametrize(
    ("amount", "band"),
    [
        ("0.01", "under_100k"),
        ("99999.99", "under_100k"),
        ("100000", "from_100k_to_500k"),
        ("499999.99", "from_100k_to_500k"),
        ("500000", "from_500k_to_1m"),
        ("1000000", "from_1m_to_5m"),
        ("4999999.99", "from_1m_to_5m"),
        ("5000000", "from_5m_to_10m"),
        ("10000000", "from_10m_to_50m"),
        ("50000000", "from_50m"),
        ("900000000", "from_50m"),
    ],
)
def test_an_amount_falls_in_its_band(amount: str, band: str) -> None:
    assert amount_band(Decimal(amount)) == band


def test_bands_read_as_people_write_them() -> None:
    assert label(Vocabulary.AMOUNT_BAND, "from_1m_to_5m", "zh") == "¥100万–500万"
    assert label(Vocabulary.AMOUNT_BAND, "from_1m_to_5m", "en") == "¥1M–5M"
    assert len(set(AMOUNT_BANDS)) == len(AMOUNT_BANDS) == 7
