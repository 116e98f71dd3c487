"""Monotone risk drivers (issue 21): perturb one driver of a real enterprise and the scorecard's
score and the booster's PD never move against the feature's declared risk direction, for the
synthetic SME population and the German credit data; the served scorers keep it through the
whole path from a scoring input (a bigger request never scores better)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.scoring.model import BoosterScorer, ModelScorer
from credit_model.booster import CompiledBooster
from credit_model.challenger import ChallengerParams, fit_challenger
from credit_model.compiled import CompiledScorecard
from credit_model.data import Dataset, german_dataset, synthetic_dataset
from credit_model.features import RISK_DIRECTION
from credit_model.scorecard import ScorecardParams, compile_scorecard, fit_scorecard
from domain.scorecard import ScoringInput

SOURCES = ("synthetic", "german")


@cache
def _trained(source: str) -> tuple[Dataset, CompiledScorecard, CompiledBooster]:
    ds = synthetic_dataset(2500, seed=5) if source == "synthetic" else german_dataset()
    scorecard = compile_scorecard(
        fit_scorecard(ds.frame, ds.target, ds.categorical, ScorecardParams(), ds.directions),
        ds.feature_set,
    )
    challenger = fit_challenger(
        ds.frame, ds.target, ds.categorical, ChallengerParams(), directions=ds.directions
    )
    return ds, scorecard, CompiledBooster(challenger.model_text())


def _columns(frame: pd.DataFrame) -> dict[str, Any]:
    return {name: frame[name].to_numpy() for name in frame.columns}


def _sweep(ds: Dataset, row: int, feature: str) -> pd.DataFrame:
    """One enterprise repeated with ``feature`` swept over its observed range, low to high."""
    values = np.unique(np.nanquantile(ds.frame[feature].to_numpy(float), np.linspace(0, 1, 41)))
    frame = pd.concat([ds.frame.iloc[[row]]] * len(values), ignore_index=True)
    frame[feature] = values
    return frame


def _risk_never_falls(risk: np.ndarray[Any, Any], direction: int) -> bool:
    steps = np.diff(risk) * direction
    return bool((steps >= -1e-12).all())


@pytest.mark.parametrize("source", SOURCES)
def test_both_models_declare_and_keep_directions(source: str) -> None:
    ds, scorecard, _ = _trained(source)
    assert ds.directions, "the data set declares its drivers"
    kept = [name for name in scorecard.names if ds.directions.get(name)]
    assert kept, "at least one declared driver stays in the scorecard"


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_driver_moved_never_moves_the_risk_the_wrong_way(source: str, data: Any) -> None:
    ds, scorecard, booster = _trained(source)
    drivers = sorted(name for name, direction in ds.directions.items() if direction)
    feature = data.draw(st.sampled_from(drivers), label="feature")
    row = data.draw(st.integers(0, len(ds.frame) - 1), label="row")
    direction = ds.directions[feature]
    frame = _sweep(ds, row, feature)
    columns = _columns(frame)
    points = scorecard.score_batch(columns)
    assert _risk_never_falls(-points, direction), (feature, row, points.tolist())
    pd_ = booster.predict(booster.matrix(columns))
    assert _risk_never_falls(pd_, direction), (feature, row, pd_.tolist())


def _enterprise(requested: int, revenue: int = 2_000_000) -> ScoringInput:
    return ScoringInput(
        enterprise_age_months=40,
        annual_revenue=Decimal(revenue),
        revenue_growth=Decimal("0.08"),
        profit_margin=Decimal("0.06"),
        tax_grade="B",
        bureau_score=680,
        overdue_count_24m=0,
        current_overdue=False,
        industry="C",
        requested_amount=Decimal(requested),
        outstanding_debt=Decimal(150_000),
        total_assets=Decimal(1_500_000),
        total_liabilities=Decimal(600_000),
        operating_cash_flow=Decimal(120_000),
        employees=25,
        region="44",
    )


@pytest.mark.parametrize("kind", ["scorecard", "booster"])
def test_a_bigger_request_never_scores_better(kind: str) -> None:
    _, scorecard, booster = _trained("synthetic")
    scorer = ModelScorer(scorecard, "t") if kind == "scorecard" else BoosterScorer(booster, "t")
    base = _enterprise(100_000)
    scores = [
        scorer(replace(base, requested_amount=Decimal(amount))).score
        for amount in range(100_000, 3_000_001, 100_000)
    ]
    assert all(later <= earlier for earlier, later in itertools.pairwise(scores))
    assert scores[0] > scores[-1], "the request matters at all"
    # and the batch path agrees with one call each
    batch = scorer.score_many([replace(base, requested_amount=Decimal(a)) for a in (1, 10**6)])
    assert [r.score for r in batch] == [
        scorer(replace(base, requested_amount=Decimal(a))).score for a in (1, 10**6)
    ]


def test_the_sme_policy_names_only_features() -> None:
    from credit_model.features import CATEGORICAL_FEATURES, FEATURES

    assert set(RISK_DIRECTION) <= set(FEATURES) - set(CATEGORICAL_FEATURES)
    assert set(RISK_DIRECTION.values()) <= {-1, 1}
