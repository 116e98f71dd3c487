"""In-process scoring with the promoted model — a compiled scorecard or a gradient-boosting
model: ``ScoringInput`` → raw SME columns → features → score on the PDO scale, PD, grade and
the top reason codes (``model.<feature>``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np

from credit_model.compiled import CompiledScorecard
from credit_model.features import (
    CATEGORICAL_FEATURES,
    FEATURE_LABELS,
    FEATURES,
    RAW_COLUMNS,
    TEXT_RAW,
    Column,
    build_features,
    features_one,
)
from domain.scorecard import (
    BASE_ODDS,
    BASE_SCORE,
    MAX_REASONS,
    PDO,
    ScoreResult,
    ScoringInput,
    grade_from_pd,
    pd_from_score,
)

if TYPE_CHECKING:  # LightGBM (≈ 1 s to import) loads only where a boosting champion serves
    from credit_model.booster import CompiledBooster

_NAN = float("nan")


def _f(value: Decimal | int | None) -> float:
    return _NAN if value is None else float(value)


def _last_three(history: Sequence[Decimal]) -> list[float]:
    values = [float(v) for v in history[-3:]]
    return [_NAN] * (3 - len(values)) + values


def raw_row(inp: ScoringInput) -> dict[str, object]:
    """The SME raw columns (``credit_model.features.RAW_COLUMNS``) of one scoring input."""
    if inp.revenue_history:
        revenue = _last_three(inp.revenue_history)
    else:
        latest = float(inp.annual_revenue)
        before = (
            latest / (1.0 + float(inp.revenue_growth))
            if inp.revenue_growth is not None and inp.revenue_growth > -1
            else _NAN
        )
        revenue = [_NAN, before, latest]
    if inp.profit_history:
        profit = _last_three(inp.profit_history)
    else:
        margin = _f(inp.profit_margin)
        profit = [_NAN, _NAN, margin * revenue[2]]
    tax_paid = _last_three(inp.tax_paid_history) if inp.tax_paid_history else [_NAN] * 3
    return {
        "age_months": float(inp.enterprise_age_months),
        "industry": inp.industry,
        "region": inp.region,
        "employees": _f(inp.employees),
        "revenue_1": revenue[0],
        "revenue_2": revenue[1],
        "revenue_3": revenue[2],
        "profit_1": profit[0],
        "profit_2": profit[1],
        "profit_3": profit[2],
        "tax_paid_1": tax_paid[0],
        "tax_paid_2": tax_paid[1],
        "tax_paid_3": tax_paid[2],
        "total_assets": _f(inp.total_assets),
        "total_liabilities": _f(inp.total_liabilities),
        "operating_cash_flow": _f(inp.operating_cash_flow),
        "tax_grade": inp.tax_grade,
        "bureau_score": _f(inp.bureau_score),
        "overdue_count_24m": float(inp.overdue_count_24m),
        "current_overdue": 1.0 if inp.current_overdue else 0.0,
        "outstanding_debt": float(inp.outstanding_debt),
        "requested_amount": float(inp.requested_amount),
    }


def raw_columns(inputs: Sequence[ScoringInput]) -> dict[str, Column]:
    """Raw columns of many inputs."""
    rows = [raw_row(inp) for inp in inputs]
    return {
        name: np.asarray(
            [row[name] for row in rows], dtype=object if name in TEXT_RAW else np.float64
        )
        for name in RAW_COLUMNS
    }


def reason_text(code: str) -> tuple[str, str]:
    """Chinese and English wording of a model reason code ``model.<feature>``."""
    feature = code.removeprefix("model.")
    return FEATURE_LABELS.get(feature, (feature, feature))


class _Scaled:
    """What every served model shares: its version and a score's PD and grade (the PD a score
    stands for on the PDO scale, so one score always reads as one PD whichever model gave it)."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._pd_cache: dict[int, Decimal] = {}

    def _pd(self, points: int) -> Decimal:
        pd = self._pd_cache.get(points)
        if pd is None:
            pd = self._pd_cache.setdefault(points, pd_from_score(points))
        return pd

    def _result(self, points: int, reasons: Sequence[str]) -> ScoreResult:
        pd = self._pd(points)
        return ScoreResult(
            score=points,
            pd=pd,
            grade=grade_from_pd(pd),
            reason_codes=tuple(reasons),
            model_version=self.version,
        )


class ModelScorer(_Scaled):
    """A ``Scorer`` over one compiled scorecard version (thread-safe, no I/O)."""

    def __init__(self, scorecard: CompiledScorecard, version: str) -> None:
        if scorecard.feature_set != "sme":
            raise ValueError("only an SME-feature scorecard can score platform applications")
        super().__init__(version)
        self.scorecard = scorecard

    def __call__(self, inp: ScoringInput) -> ScoreResult:
        features = features_one(raw_row(inp))
        one = {name: _scalar(value) for name, value in features.items()}
        total, parts = self.scorecard.score_one(one)
        reasons = (f"model.{name}" for name in self.scorecard.reasons(parts, MAX_REASONS))
        return self._result(round(total), tuple(reasons))

    def score_many(self, inputs: Sequence[ScoringInput]) -> list[ScoreResult]:
        """Score a batch in one vectorised pass (the same results as one call each)."""
        if not inputs:
            return []
        features = build_features(raw_columns(inputs))
        points = self.scorecard.points_batch(features)
        totals = np.rint(self.scorecard.intercept_points + points.sum(axis=1)).astype(np.int64)
        loss = self.scorecard.best_points - points
        # stable sort on the loss: ties keep table order, as in ``CompiledScorecard.reasons``
        order = np.argsort(-loss, axis=1, kind="stable")[:, :MAX_REASONS]
        kept = np.take_along_axis(loss, order, axis=1) > 0
        names = [f"model.{name}" for name in self.scorecard.names]
        return [
            self._result(total, [names[j] for j, k in zip(top, keep, strict=True) if k])
            for total, top, keep in zip(totals.tolist(), order.tolist(), kept.tolist(), strict=True)
        ]


_POINTS_PER_LOG_ODDS: Final = PDO / math.log(2)
_OFFSET: Final = BASE_SCORE - _POINTS_PER_LOG_ODDS * math.log(BASE_ODDS)


class BoosterScorer(_Scaled):
    """A ``Scorer`` over a gradient-boosting model trained on the SME features (thread-safe, no
    I/O): its log-odds of default become points on the scorecard's PDO scale (600 at 50:1,
    PDO 20), and its reason codes are the features that raised this enterprise's log-odds the
    most (``credit_model.booster``), in the scorecard's labelled wording."""

    def __init__(self, booster: CompiledBooster, version: str) -> None:
        if set(booster.names) - set(FEATURES):
            raise ValueError("only a model on the SME features can score platform applications")
        super().__init__(version)
        self.booster = booster
        self._names = [f"model.{name}" for name in booster.names]

    def _scored(self, features: Mapping[str, Column]) -> list[ScoreResult]:
        x = self.booster.matrix(features)
        contributions = self.booster.contributions(x)
        log_odds = self.booster.base_value + contributions.sum(axis=1)
        points = np.rint(_OFFSET - _POINTS_PER_LOG_ODDS * log_odds).astype(np.int64)
        order = np.argsort(-contributions, axis=1, kind="stable")[:, :MAX_REASONS]
        pushed = np.take_along_axis(contributions, order, axis=1) > 0
        return [
            self._result(total, [self._names[j] for j, k in zip(top, up, strict=True) if k])
            for total, top, up in zip(points.tolist(), order.tolist(), pushed.tolist(), strict=True)
        ]

    def __call__(self, inp: ScoringInput) -> ScoreResult:
        features = features_one(raw_row(inp))
        columns = {
            name: np.asarray([value], dtype=object if name in CATEGORICAL_FEATURES else np.float64)
            for name, value in features.items()
        }
        return self._scored(columns)[0]

    def score_many(self, inputs: Sequence[ScoringInput]) -> list[ScoreResult]:
        """Score a batch in one pass (the same results as one call each)."""
        if not inputs:
            return []
        return self._scored(build_features(raw_columns(inputs)))


def _scalar(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
