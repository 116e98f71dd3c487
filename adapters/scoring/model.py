"""In-process scoring with a compiled scorecard: ``ScoringInput`` → raw SME columns → features
→ points → score, PD (PDO scaling), grade and the top reason codes (``model.<feature>``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from credit_model.compiled import CompiledScorecard
from credit_model.features import (
    FEATURE_LABELS,
    RAW_COLUMNS,
    TEXT_RAW,
    Column,
    build_features,
    features_one,
)
from domain.scorecard import (
    MAX_REASONS,
    ScoreResult,
    ScoringInput,
    grade_from_pd,
    pd_from_score,
)

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


class ModelScorer:
    """A ``Scorer`` over one compiled scorecard version (thread-safe, no I/O)."""

    def __init__(self, scorecard: CompiledScorecard, version: str) -> None:
        if scorecard.feature_set != "sme":
            raise ValueError("only an SME-feature scorecard can score platform applications")
        self.scorecard = scorecard
        self.version = version
        self._pd_cache: dict[int, Decimal] = {}

    def _pd(self, points: int) -> Decimal:
        pd = self._pd_cache.get(points)
        if pd is None:
            pd = self._pd_cache.setdefault(points, pd_from_score(points))
        return pd

    def _result(self, total: float, parts: Sequence[float]) -> ScoreResult:
        points = round(total)
        pd = self._pd(points)
        reasons = tuple(f"model.{name}" for name in self.scorecard.reasons(parts, MAX_REASONS))
        return ScoreResult(
            score=points,
            pd=pd,
            grade=grade_from_pd(pd),
            reason_codes=reasons,
            model_version=self.version,
        )

    def __call__(self, inp: ScoringInput) -> ScoreResult:
        features = features_one(raw_row(inp))
        one = {name: _scalar(value) for name, value in features.items()}
        total, parts = self.scorecard.score_one(one)
        return self._result(total, parts)

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
        results = []
        for total, top, keep in zip(totals.tolist(), order.tolist(), kept.tolist(), strict=True):
            pd = self._pd(total)
            results.append(
                ScoreResult(
                    score=total,
                    pd=pd,
                    grade=grade_from_pd(pd),
                    reason_codes=tuple(names[j] for j, k in zip(top, keep, strict=True) if k),
                    model_version=self.version,
                )
            )
        return results


def _scalar(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
