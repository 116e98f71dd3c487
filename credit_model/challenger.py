"""Gradient-boosting challenger (LightGBM) on the same features; saved in LightGBM's native text
model format, with categorical levels fixed at training time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True, slots=True)
class ChallengerParams:
    """Tuned hyper-parameters of the boosting model."""

    num_leaves: int = 15
    learning_rate: float = 0.05
    n_estimators: int = 300
    min_child_samples: int = 40

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the metrics file."""
        return asdict(self)


def _encode(
    frame: pd.DataFrame, categorical: Sequence[str], levels: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    out = frame.copy()
    for name in categorical:
        out[name] = pd.Categorical(
            [None if v is None or v != v else str(v) for v in frame[name]],
            categories=list(levels[name]),
        )
    return out


@dataclass(slots=True)
class Challenger:
    """A fitted booster with its categorical levels."""

    booster: lgb.Booster
    categorical: tuple[str, ...]
    levels: dict[str, list[str]]

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """PD of each row."""
        encoded = _encode(frame, self.categorical, self.levels)
        return np.asarray(self.booster.predict(encoded), dtype=np.float64)

    def importance(self) -> dict[str, float]:
        """Total gain per feature, largest first."""
        gains = self.booster.feature_importance(importance_type="gain")
        pairs = zip(self.booster.feature_name(), (float(g) for g in gains), strict=True)
        return dict(sorted(pairs, key=lambda kv: -kv[1]))

    def model_text(self) -> str:
        """The booster in LightGBM's native text format."""
        return str(self.booster.model_to_string())


def fit_challenger(
    frame: pd.DataFrame,
    target: npt.NDArray[np.int64],
    categorical: Sequence[str],
    params: ChallengerParams,
    seed: int = 7,
    directions: Mapping[str, int] | None = None,
) -> Challenger:
    """Fit LightGBM with fixed seeds (deterministic on one thread); a numeric feature with a
    declared risk direction gets that monotone constraint (the PD never moves against it)."""
    declared = directions or {}
    levels = {
        name: sorted({str(v) for v in frame[name] if v is not None and v == v})
        for name in categorical
    }
    encoded = _encode(frame, categorical, levels)
    model = lgb.LGBMClassifier(
        num_leaves=params.num_leaves,
        learning_rate=params.learning_rate,
        n_estimators=params.n_estimators,
        min_child_samples=params.min_child_samples,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        verbose=-1,
        monotone_constraints=[
            0 if name in categorical else int(declared.get(name, 0)) for name in frame.columns
        ],
        monotone_constraints_method="intermediate",
    )
    model.fit(encoded, target, categorical_feature=list(categorical) or "auto")
    return Challenger(booster=model.booster_, categorical=tuple(categorical), levels=levels)
