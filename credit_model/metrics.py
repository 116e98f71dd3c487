"""Discrimination and calibration metrics of a PD model, in plain numpy (checked against
scikit-learn in the tests): AUC, Gini, KS, the confusion figures at a cut-off, Brier score,
calibration by grade and the population stability index (PSI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _arrays(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_arr.shape != p_arr.shape or y_arr.ndim != 1:
        raise ValueError("outcomes and predictions must be 1-d arrays of the same length")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0 (good) or 1 (bad)")
    return y_arr, p_arr


def auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve: P(a bad ranks above a good), ties counted half (Mann-Whitney)."""
    y_arr, p_arr = _arrays(y, p)
    n_bad = float(y_arr.sum())
    n_good = float(len(y_arr) - n_bad)
    if n_bad == 0 or n_good == 0:
        raise ValueError("AUC needs both goods and bads")
    order = np.argsort(p_arr, kind="mergesort")
    sorted_p = p_arr[order]
    ranks = np.empty(len(p_arr), dtype=np.float64)
    # average ranks over ties
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(average, counts)
    rank_sum = float(ranks[y_arr == 1].sum())
    return (rank_sum - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good)


def gini(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Accuracy ratio: 2·AUC − 1."""
    return 2.0 * auc(y, p) - 1.0


def ks(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the bads' and goods' cumulative
    distributions of the prediction (ties move together)."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(-p_arr, kind="mergesort")
    sorted_p, sorted_y = p_arr[order], y_arr[order]
    cum_bad = np.cumsum(sorted_y) / sorted_y.sum()
    cum_good = np.cumsum(1 - sorted_y) / (1 - sorted_y).sum()
    last_of_tie = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    return float(np.max(np.abs(cum_bad - cum_good)[last_of_tie]))


def ks_curve(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(share of population, cumulative bad share, cumulative good share), riskiest first."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(-p_arr, kind="mergesort")
    sorted_y = y_arr[order]
    share = np.arange(1, len(sorted_y) + 1) / len(sorted_y)
    return (
        share,
        np.cumsum(sorted_y) / sorted_y.sum(),
        np.cumsum(1 - sorted_y) / (1 - sorted_y).sum(),
    )


def roc_curve(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0)."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(-p_arr, kind="mergesort")
    sorted_p, sorted_y = p_arr[order], y_arr[order]
    last_of_tie = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    tps = np.cumsum(sorted_y)[last_of_tie]
    fps = np.cumsum(1 - sorted_y)[last_of_tie]
    return np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]]


def brier(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean squared error of the PD against the outcome."""
    y_arr, p_arr = _arrays(y, p)
    return float(np.mean((p_arr - y_arr) ** 2))


@dataclass(frozen=True, slots=True)
class Confusion:
    """Classification figures when every PD at or above ``cutoff`` is predicted bad."""

    cutoff: float
    accuracy: float
    precision: float
    recall: float
    f1: float


def confusion_at(y: npt.ArrayLike, p: npt.ArrayLike, cutoff: float) -> Confusion:
    """Accuracy, precision, recall and F1 of "bad" predicted as PD ≥ ``cutoff`` (0 when undefined,
    as scikit-learn's ``zero_division=0``)."""
    y_arr, p_arr = _arrays(y, p)
    predicted = p_arr >= cutoff
    actual = y_arr == 1
    tp = float(np.sum(predicted & actual))
    fp = float(np.sum(predicted & ~actual))
    fn = float(np.sum(~predicted & actual))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Confusion(
        cutoff=cutoff,
        accuracy=float(np.mean(predicted == actual)),
        precision=precision,
        recall=recall,
        f1=f1,
    )


def best_f1_cutoff(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """The PD cut-off (one of the predictions) that maximises F1 — the report's chosen cut-off."""
    y_arr, p_arr = _arrays(y, p)
    order = np.argsort(-p_arr, kind="mergesort")
    sorted_p, sorted_y = p_arr[order], y_arr[order]
    tp = np.cumsum(sorted_y)
    predicted = np.arange(1, len(sorted_y) + 1)
    total_bad = sorted_y.sum()
    f1 = 2 * tp / (predicted + total_bad)
    last_of_tie = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    f1 = np.where(last_of_tie, f1, -1.0)
    return float(sorted_p[int(np.argmax(f1))])


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``, on the expected
    population's deciles (shares floored at 0.0001 so an empty bin stays finite)."""
    exp_arr = np.asarray(expected, dtype=np.float64)
    act_arr = np.asarray(actual, dtype=np.float64)
    exp_arr, act_arr = exp_arr[~np.isnan(exp_arr)], act_arr[~np.isnan(act_arr)]
    if len(exp_arr) == 0 or len(act_arr) == 0:
        return 0.0
    edges = np.unique(np.quantile(exp_arr, np.linspace(0, 1, bins + 1)[1:-1]))
    exp_share = np.bincount(np.searchsorted(edges, exp_arr, side="right"), minlength=len(edges) + 1)
    act_share = np.bincount(np.searchsorted(edges, act_arr, side="right"), minlength=len(edges) + 1)
    e = np.maximum(exp_share / len(exp_arr), 1e-4)
    a = np.maximum(act_share / len(act_arr), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True, slots=True)
class GradeCalibration:
    """Predicted against observed default rate within one grade."""

    grade: str
    count: int
    predicted_pd: float
    observed_rate: float


def calibration_by_grade(
    y: npt.ArrayLike, p: npt.ArrayLike, grades: Sequence[str], order: Sequence[str]
) -> list[GradeCalibration]:
    """Mean PD and observed bad rate per grade, in ``order``; empty grades are left out."""
    y_arr, p_arr = _arrays(y, p)
    grade_arr = np.asarray(grades)
    rows = []
    for grade in order:
        mask = grade_arr == grade
        count = int(mask.sum())
        if count:
            rows.append(
                GradeCalibration(
                    grade=grade,
                    count=count,
                    predicted_pd=float(p_arr[mask].mean()),
                    observed_rate=float(y_arr[mask].mean()),
                )
            )
    return rows
