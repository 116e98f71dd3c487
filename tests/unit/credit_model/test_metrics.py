"""The report's metric functions agree with scikit-learn on fixed vectors; PDO scaling hits its
known points."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from sklearn import metrics as skm

from credit_model import metrics
from credit_model.pipeline import scorecard_pd
from domain.scorecard import pd_from_score, rating_from_pd, score_from_odds

Y = np.array([0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0])
P = np.array(
    [0.05, 0.10, 0.80, 0.30, 0.65, 0.40, 0.10, 0.20, 0.90, 0.35,
     0.05, 0.55, 0.15, 0.40, 0.25, 0.30, 0.60, 0.75, 0.02, 0.12]
)  # fmt: skip


def test_auc_and_gini_match_scikit_learn_with_ties() -> None:
    expected = skm.roc_auc_score(Y, P)
    assert metrics.auc(Y, P) == pytest.approx(expected, abs=1e-12)
    assert metrics.gini(Y, P) == pytest.approx(2 * expected - 1, abs=1e-12)


def test_ks_is_the_largest_gap_of_the_roc_curve() -> None:
    fpr, tpr, _ = skm.roc_curve(Y, P)
    assert metrics.ks(Y, P) == pytest.approx(float(np.max(tpr - fpr)), abs=1e-12)
    ours_fpr, ours_tpr = metrics.roc_curve(Y, P)
    assert metrics.auc(Y, P) == pytest.approx(float(np.trapezoid(ours_tpr, ours_fpr)), abs=1e-12)


def test_brier_matches_scikit_learn() -> None:
    assert metrics.brier(Y, P) == pytest.approx(skm.brier_score_loss(Y, P), abs=1e-12)


@pytest.mark.parametrize("cutoff", [0.3, 0.5, 0.95])
def test_confusion_figures_match_scikit_learn(cutoff: float) -> None:
    predicted = (cutoff <= P).astype(int)
    got = metrics.confusion_at(Y, P, cutoff)
    assert got.accuracy == pytest.approx(skm.accuracy_score(Y, predicted))
    assert got.precision == pytest.approx(skm.precision_score(Y, predicted, zero_division=0))
    assert got.recall == pytest.approx(skm.recall_score(Y, predicted, zero_division=0))
    assert got.f1 == pytest.approx(skm.f1_score(Y, predicted, zero_division=0))


def test_best_f1_cutoff_is_the_best_of_all_thresholds() -> None:
    cutoff = metrics.best_f1_cutoff(Y, P)
    best = max(skm.f1_score(Y, (t <= P).astype(int)) for t in np.unique(P))
    assert skm.f1_score(Y, (cutoff <= P).astype(int)) == pytest.approx(best)


def test_psi_of_a_known_shift() -> None:
    expected = np.repeat(np.arange(10.0), 10)  # ten equal deciles
    assert metrics.psi(expected, expected) == pytest.approx(0.0)
    shifted = np.repeat(np.arange(10.0), [5, 5, 5, 5, 5, 15, 15, 15, 15, 15])
    # five bins at 5 % and five at 15 % against 10 % each
    by_hand = 5 * (0.05 - 0.1) * np.log(0.05 / 0.1) + 5 * (0.15 - 0.1) * np.log(0.15 / 0.1)
    assert metrics.psi(expected, shifted) == pytest.approx(by_hand)


def test_calibration_by_grade_groups_in_order() -> None:
    grades = ["A" if p < 0.3 else "B" for p in P]
    rows = metrics.calibration_by_grade(Y, P, grades, ["A", "B", "C"])
    assert [r.grade for r in rows] == ["A", "B"]
    mask = P < 0.3
    assert rows[0].count == int(mask.sum())
    assert rows[0].observed_rate == pytest.approx(Y[mask].mean())
    assert rows[1].predicted_pd == pytest.approx(P[~mask].mean())


def test_auc_refuses_a_single_class() -> None:
    with pytest.raises(ValueError, match="both"):
        metrics.auc([0, 0, 0], [0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    ("points", "pd"),
    [
        (600, Decimal("0.0196")),  # odds 50:1 → 1/51
        (620, Decimal("0.0099")),  # odds 100:1 → 1/101
        (580, Decimal("0.0385")),  # odds 25:1 → 1/26
        (500, Decimal("0.3902")),  # odds 50/32 → 1/(1 + 1.5625)
    ],
)
def test_pdo_scaling_known_points(points: int, pd: Decimal) -> None:
    assert pd_from_score(points) == pd
    assert scorecard_pd(np.array([float(points)]))[0] == pytest.approx(float(pd), abs=5e-5)


def test_score_from_odds_inverts_the_scaling() -> None:
    assert score_from_odds(Decimal(50)) == pytest.approx(Decimal(600))
    assert score_from_odds(Decimal(100)) == pytest.approx(Decimal(620))
    assert score_from_odds(Decimal(25)) == pytest.approx(Decimal(580))


@pytest.mark.parametrize(
    ("pd", "rating"),
    [("0.0010", "AAA"), ("0.0025", "AAA"), ("0.0026", "AA"), ("0.0100", "A"), ("0.0200", "BBB"),
     ("0.0400", "BB"), ("0.0900", "B"), ("0.1500", "CCC"), ("0.3000", "CC"), ("0.5000", "C")],
)  # fmt: skip
def test_master_scale(pd: str, rating: str) -> None:
    assert rating_from_pd(Decimal(pd)) == rating
