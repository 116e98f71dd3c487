"""The compiled scorecard JSON gives exactly the training library's points on held-out data,
one row at a time and vectorised, for numerical and categorical variables."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from adapters.scoring.model import ModelScorer, raw_columns, raw_row
from credit_model.compiled import CompiledScorecard
from credit_model.data import german_dataset, synthetic_dataset
from credit_model.features import build_features
from credit_model.scorecard import ScorecardParams, compile_scorecard, fit_scorecard
from domain.scorecard import ScoringInput


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in frame.columns}


def _one(frame: pd.DataFrame, i: int) -> dict[str, object]:
    return {name: frame[name].iloc[i] for name in frame.columns}


@pytest.mark.parametrize("source", ["synthetic", "german"])
def test_compiled_points_equal_optbinning_on_held_out_rows(source: str) -> None:
    ds = synthetic_dataset(2500, seed=11) if source == "synthetic" else german_dataset()
    cut = int(len(ds.target) * 0.7)
    train, test = ds.frame.iloc[:cut], ds.frame.iloc[cut:].reset_index(drop=True)
    model = fit_scorecard(train, ds.target[:cut], ds.categorical, ScorecardParams())
    compiled = compile_scorecard(model, ds.feature_set)
    # through the JSON bytes, as the registry stores it
    reloaded = CompiledScorecard.from_json(compiled.to_json())

    expected = model.score(test)
    assert np.array_equal(reloaded.score_batch(_columns(test)), expected)
    singles = [reloaded.score_one(_one(test, i))[0] for i in range(len(test))]
    assert np.array_equal(np.asarray(singles, dtype=float), expected)
    per_variable = model.transform(test)  # each variable's points, by the training library
    got = reloaded.points_batch(_columns(test))
    for j, name in enumerate(reloaded.names):
        assert np.array_equal(got[:, j], per_variable[name].to_numpy(dtype=float)), name
    assert len(set(expected)) > 20  # the held-out scores are spread, not a constant


def test_unknown_category_scores_like_optbinning() -> None:
    ds = german_dataset()
    model = fit_scorecard(ds.frame, ds.target, ds.categorical, ScorecardParams())
    compiled = compile_scorecard(model, ds.feature_set)
    odd = ds.frame.iloc[:5].copy()
    odd["purpose"] = "A4XX"  # never seen in training
    odd.loc[odd.index[0], "duration"] = np.nan
    assert np.array_equal(compiled.score_batch(_columns(odd)), model.score(odd))


def test_scoring_service_single_and_batch_agree_with_the_table() -> None:
    ds = synthetic_dataset(1500, seed=4)
    model = fit_scorecard(ds.frame, ds.target, ds.categorical, ScorecardParams())
    scorer = ModelScorer(compile_scorecard(model, "sme"), "sc-test")
    inputs = [
        ScoringInput(
            enterprise_age_months=30 + 7 * i,
            annual_revenue=Decimal(3_000_000 + 250_000 * i),
            revenue_growth=None,
            profit_margin=None,
            tax_grade="ABCDM"[i % 5],
            bureau_score=None if i % 4 == 0 else 560 + 9 * i,
            overdue_count_24m=i % 3,
            current_overdue=i % 7 == 0,
            outstanding_debt=Decimal(100_000 * i),
            requested_amount=Decimal(400_000),
            industry="CFGHI"[i % 5],
            revenue_history=(
                Decimal(2_500_000),
                Decimal(2_800_000),
                Decimal(3_000_000 + 250_000 * i),
            ),
            profit_history=(Decimal(100_000), Decimal(120_000), Decimal(90_000 + 4_000 * i)),
            tax_paid_history=(Decimal(80_000), Decimal(90_000), Decimal(95_000)),
        )
        for i in range(30)
    ]
    singles = [scorer(inp) for inp in inputs]
    assert scorer.score_many(inputs) == singles
    features = build_features(raw_columns(inputs))
    table = pd.DataFrame(features)
    assert [r.score for r in singles] == [int(s) for s in model.score(table)]
    assert all(r.model_version == "sc-test" for r in singles)
    assert all(code.startswith("model.") for r in singles for code in r.reason_codes)
    assert raw_row(inputs[0])["revenue_3"] == 3_000_000.0
