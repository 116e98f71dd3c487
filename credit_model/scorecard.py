"""WOE-binned logistic scorecard trained with optbinning, scaled 600 points at 50:1 with PDO 20,
and compiled into the JSON table that scoring applies (``credit_model.compiled``)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression

from credit_model.compiled import FORMAT, CompiledScorecard
from credit_model.errors import ModelDataError
from domain.scorecard import BASE_ODDS, BASE_SCORE, PDO

MIN_IV = 0.02
"""Variables with an information value below this are left out of the scorecard."""


@dataclass(frozen=True, slots=True)
class ScorecardParams:
    """Tuned hyper-parameters: the logistic regression's inverse regularisation and the
    largest number of bins per variable."""

    c: float = 1.0
    max_n_bins: int | None = 6  # None: as many as the binning finds worth keeping


TREND: Final = {1: "ascending", -1: "descending"}
"""optbinning's name for a bad rate that rises (+1) or falls (-1) with the value."""


def fit_scorecard(
    frame: pd.DataFrame,
    target: npt.NDArray[np.int64],
    categorical: Sequence[str],
    params: ScorecardParams,
    directions: Mapping[str, int] | None = None,
) -> Scorecard:
    """Fit the binning process and the logistic regression on WOE values. A variable with a
    declared risk direction is binned with a bad rate monotone that way, and kept only while
    the regression gives its points the same direction (a coefficient of the wrong sign, from
    correlated variables, would turn the trend around): such a variable is dropped and the
    scorecard refitted without it."""
    declared = {k: v for k, v in (directions or {}).items() if k in frame.columns and v}
    names = list(frame.columns)
    for _ in range(len(names)):
        model = _fit(frame[names], target, categorical, params, declared)
        wrong = wrong_direction(compile_scorecard(model, "check"), declared)
        if not wrong:
            return model
        names = [n for n in names if n not in wrong]
    raise ModelDataError(
        "data.no_signal",
        "没有任何特征在声明的风险方向上区分好坏客户",
        "no feature separates goods from bads in its declared risk direction",
        "data",
    )


def wrong_direction(scorecard: CompiledScorecard, directions: Mapping[str, int]) -> list[str]:
    """Numeric variables whose points (in the order of their bins) do not fall as the declared
    risk rises: a higher risk must never earn more points."""
    out = []
    for variable in scorecard.document["variables"]:
        direction = directions.get(variable["name"], 0)
        if not direction or variable["dtype"] == "categorical":
            continue
        points = variable["points"] if direction > 0 else variable["points"][::-1]
        if any(later > earlier for earlier, later in itertools.pairwise(points)):
            out.append(str(variable["name"]))
    return out


def _fit(
    frame: pd.DataFrame,
    target: npt.NDArray[np.int64],
    categorical: Sequence[str],
    params: ScorecardParams,
    directions: Mapping[str, int],
) -> Scorecard:
    names = list(frame.columns)
    binning = BinningProcess(
        variable_names=names,
        categorical_variables=[c for c in categorical if c in names],
        max_n_bins=params.max_n_bins,
        min_bin_size=0.05,
        selection_criteria={"iv": {"min": MIN_IV}},
        binning_fit_params={
            name: {"monotonic_trend": TREND[direction]}
            for name, direction in directions.items()
            if name in names and name not in categorical
        },
    )
    model = Scorecard(
        binning_process=binning,
        estimator=LogisticRegression(C=params.c, max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": PDO, "odds": BASE_ODDS, "scorecard_points": BASE_SCORE},
        rounding=True,
    )
    try:
        model.fit(frame, target)
    except ValueError as exc:
        if "0 feature(s)" not in str(exc):
            raise
        raise ModelDataError(
            "data.no_signal",
            f"没有任何特征的信息值达到 {MIN_IV}，数据无法区分好坏客户",
            f"no feature reaches an information value of {MIN_IV}: the data does not separate "
            "goods from bads",
            "data",
        ) from None
    return model


def information_values(model: Scorecard) -> dict[str, float]:
    """Information value of every candidate variable, largest first."""
    summary = model.binning_process_.summary()
    pairs = {str(r["name"]): float(r["iv"]) for _, r in summary.iterrows()}
    return dict(sorted(pairs.items(), key=lambda kv: -kv[1]))


def compile_scorecard(model: Scorecard, feature_set: str) -> CompiledScorecard:
    """The fitted scorecard as a ``loanbridge.scorecard/1`` document."""
    table = model.table(style="detailed")
    variables: list[dict[str, Any]] = []
    for name in model.binning_process_.get_support(names=True):
        optb = model.binning_process_.get_binned_variable(name)
        rows = table[table["Variable"] == name].sort_values("Bin id")
        points = [float(p) for p in rows["Points"]]
        n_bins = len(points) - 2  # then Special, Missing
        entry: dict[str, Any] = {
            "name": str(name),
            "dtype": optb.dtype,
            "points": points[:n_bins],
            "special_points": points[n_bins],
            "missing_points": points[n_bins + 1],
            "iv": float(optb.binning_table.iv),
        }
        if optb.dtype == "categorical":
            entry["bins"] = [[str(c) for c in members] for members in list(rows["Bin"])[:n_bins]]
        else:
            entry["splits"] = [float(s) for s in optb.splits]
        variables.append(entry)
    intercept = float(getattr(model, "intercept_", 0.0) or 0.0)
    return CompiledScorecard(
        {
            "format": FORMAT,
            "feature_set": feature_set,
            "scaling": {"base_score": BASE_SCORE, "base_odds": BASE_ODDS, "pdo": PDO},
            "intercept_points": intercept,
            "variables": variables,
        }
    )
