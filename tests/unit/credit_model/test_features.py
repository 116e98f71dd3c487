"""The one-row feature path equals the vectorised one, cleaning fixes unit errors, and the
synthetic generator is seeded and near its documented bad rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from credit_model.features import FEATURES, build_features, features_one
from credit_model.synthetic import generate


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def test_one_row_features_equal_the_vectorised_features() -> None:
    sample = generate(3000, seed=5)
    columns = dict(sample.columns)
    # edge cases: zero and negative revenue, missing everything, a unit error in the latest year
    columns["revenue_3"] = columns["revenue_3"].copy()
    columns["revenue_3"][:4] = [0.0, -5.0, np.nan, columns["revenue_2"][3] / 10_000]
    columns["bureau_score"] = columns["bureau_score"].copy()
    columns["bureau_score"][4] = 1000.0
    columns["tax_grade"] = columns["tax_grade"].copy()
    columns["tax_grade"][5] = None
    vectorised = build_features(columns)
    for i in range(3000):
        one = features_one({name: column[i] for name, column in columns.items()})
        for name in FEATURES:
            assert _same(float(vectorised[name][i]) if not isinstance(one[name], str | None)
                         else vectorised[name][i], one[name]), (i, name)  # fmt: skip


def test_a_statement_filed_in_ten_thousands_of_yuan_is_rescaled() -> None:
    raw = {"revenue_1": 4_000_000.0, "revenue_2": 450.0, "revenue_3": 5_000_000.0,
           "profit_2": 20.0, "requested_amount": 100_000.0}  # fmt: skip
    one = features_one(raw)
    assert one["revenue_cagr"] == pytest.approx(math.sqrt(5 / 4) - 1)
    assert one["revenue_growth"] == pytest.approx(5_000_000 / 4_500_000 - 1)
    assert one["request_to_revenue"] == pytest.approx(0.02)
    assert one["leverage"] != one["leverage"]  # no balance sheet: missing, not zero


def test_the_generator_is_seeded_and_near_its_bad_rate() -> None:
    a, b = generate(5000, seed=9), generate(5000, seed=9)
    assert np.array_equal(a.target, b.target) and np.array_equal(a.true_pd, b.true_pd)
    assert a.true_pd.mean() == pytest.approx(0.08, abs=1e-3)
    assert 0.06 < a.target.mean() < 0.10
    assert 0.8 < a.true_pd_auc < 0.92
    assert np.isnan(a.columns["total_assets"]).mean() > 0.05  # faults injected
