"""Synthetic SME population (模拟小微企业样本) with a known true PD per enterprise.

Generating process (seeded, so a seed always gives the same data):

1. Profile: industry (GB/T 4754 section, with a risk effect), region (province, with a risk
   effect), age (log-normal months), employees (log-normal), and a latent quality
   ``q ~ N(0, 1)`` that moves every fact below a little.
2. Three years of statements: revenue grows by ``N(5 % + 6 %·q, 12 %)`` a year from a
   log-normal base tied to size; margins ``N(5 % + 3 %·q, 4 %)``; tax paid 2-6 % of revenue
   (lower for weak ``q``); total assets around the revenue; leverage
   ``sigmoid(N(−0.2 − 0.5·q, 0.6))``; operating cash flow around the profit.
3. Bureau: 85 % have a record; score ``650 + 60·q + N(0, 40)`` in 300-900; overdues in 24
   months ``Poisson(exp(−1 − 0.8·q))``; current overdue with ``sigmoid(−4 − 1.2·q)``.
   Tax grade A/B/C/D from ``q`` plus noise; M below 18 months of age.
4. True PD: ``logit = c + Σ βᵢ·fᵢ`` over the clean facts (``TRUE_COEFFICIENTS``: leverage,
   margin, bureau score, overdues, current overdue, age, request/revenue, growth, tax grade,
   industry and region effects), with ``c`` solved so the mean PD is ``bad_rate``; the outcome
   is ``Bernoulli(PD)``.
5. Data-quality faults on what is *observed*: 5 % multiplicative noise on amounts; assets,
   liabilities and cash flow missing **not at random** (weaker firms omit them more,
   ``sigmoid(−2.2 + 0.8·(logit − mean))``); 3 % of firms filed one year's statement in 万元
   (10,000 times too small); the earliest year missing for firms younger than three years.

``SyntheticSample`` keeps the observed raw columns, the outcome, the true PD, the clean
design matrix behind the PD and an application date (three years, for the out-of-time split).
The true PD's AUC is the ceiling no model can pass on average; a logistic regression on the
clean design matrix shows what is reachable from the true features.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from credit_model.features import Column
from credit_model.metrics import auc

INDUSTRIES: Final = ("C", "F", "G", "H", "I", "L", "M", "E")
_INDUSTRY_WEIGHTS: Final = (0.30, 0.08, 0.25, 0.07, 0.10, 0.05, 0.10, 0.05)
_INDUSTRY_EFFECT: Final = (0.0, 0.35, 0.1, 0.25, -0.2, 0.45, -0.1, 0.4)
REGIONS: Final = ("11", "31", "44", "33", "32", "51", "42", "61")
_REGION_EFFECT: Final = (-0.15, -0.2, -0.1, -0.1, 0.0, 0.15, 0.1, 0.2)
_TAX_GRADE_EFFECT: Final = {"A": -0.3, "B": 0.0, "C": 0.5, "D": 1.0, "M": 0.3}

TRUE_COEFFICIENTS: Final = {
    "leverage": 1.6,
    "net_margin": -5.0,
    "bureau_score_z": -0.55,
    "overdue_count": 0.35,
    "current_overdue": 1.4,
    "log_age_years": -0.35,
    "request_to_revenue": 1.2,
    "revenue_growth": -1.5,
    "tax_grade_effect": 1.0,
    "industry_effect": 1.0,
    "region_effect": 1.0,
    "no_bureau_record": 0.3,
}
"""β of the true log-odds of default over the clean facts (see the module docstring)."""

START: Final = date(2022, 1, 1)
DAYS: Final = 3 * 365


@dataclass(frozen=True, slots=True)
class SyntheticSample:
    """Observed raw columns, outcomes, true PDs and the clean design matrix behind them."""

    columns: dict[str, Column]
    target: npt.NDArray[np.int64]
    true_pd: npt.NDArray[np.float64]
    true_design: npt.NDArray[np.float64]
    application_date: npt.NDArray[np.object_]

    @property
    def true_pd_auc(self) -> float:
        """AUC of the true PD against the drawn outcomes: the ceiling."""
        return auc(self.target, self.true_pd)


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-x))
    return out


def generate(n: int, seed: int = 7, bad_rate: float = 0.08) -> SyntheticSample:
    """``n`` enterprises drawn by the documented process; ``bad_rate`` is the mean true PD."""
    if n < 1:
        raise ValueError("n must be positive")
    if not 0.0 < bad_rate < 0.5:
        raise ValueError("bad_rate must be in (0, 0.5)")
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    industry_idx = rng.choice(len(INDUSTRIES), size=n, p=_INDUSTRY_WEIGHTS)
    region_idx = rng.integers(0, len(REGIONS), size=n)
    age_months = np.round(np.exp(rng.normal(3.9 + 0.15 * q, 0.8))).clip(3, 480)
    employees = np.round(np.exp(rng.normal(2.8 + 0.2 * q, 0.9))).clip(1, 2000)

    base = np.exp(rng.normal(14.8 + 0.6 * np.log(employees / 10.0 + 1.0), 0.6))
    growth_2 = rng.normal(0.05 + 0.06 * q, 0.12).clip(-0.7, 2.0)
    growth_3 = rng.normal(0.05 + 0.06 * q, 0.12).clip(-0.7, 2.0)
    revenue = np.vstack([base, base * (1 + growth_2), base * (1 + growth_2) * (1 + growth_3)])
    margins = rng.normal(0.05 + 0.03 * q, 0.04, size=(3, n)).clip(-0.5, 0.5)
    profit = revenue * margins
    tax_rate = (0.02 + 0.04 * rng.random(n)) * _sigmoid(1.5 + q)
    tax_paid = revenue * tax_rate
    assets = revenue[2] * np.exp(rng.normal(0.0, 0.4, n))
    leverage = _sigmoid(rng.normal(-0.2 - 0.5 * q, 0.6))
    liabilities = assets * leverage
    cash_flow = revenue[2] * (margins[2] + rng.normal(0.0, 0.05, n))

    has_record = rng.random(n) < 0.85
    bureau_score = np.round(650 + 60 * q + rng.normal(0, 40, n)).clip(300, 900)
    overdue = rng.poisson(np.exp(-1.0 - 0.8 * q))
    current = (rng.random(n) < _sigmoid(-4.0 - 1.2 * q)).astype(float)
    overdue = np.where(has_record, overdue, 0)
    current = np.where(has_record, current, 0.0)
    tax_signal = q + rng.normal(0, 0.7, n)
    tax_grade = np.select(
        [age_months < 18, tax_signal > 0.3, tax_signal > -0.6, tax_signal > -1.6],
        ["M", "A", "B", "C"],
        "D",
    ).astype(object)
    outstanding = liabilities * rng.uniform(0.2, 0.6, n)
    requested = revenue[2] * np.exp(rng.normal(-2.0, 0.6, n))
    request_ratio = requested / revenue[2]

    design = np.column_stack(
        [
            leverage,
            margins[2],
            np.where(has_record, (bureau_score - 650) / 60, 0.0),
            overdue,
            current,
            np.log(age_months / 12 + 0.5),
            np.minimum(request_ratio, 5.0),
            growth_3,
            np.vectorize(_TAX_GRADE_EFFECT.__getitem__)(tax_grade),
            np.asarray(_INDUSTRY_EFFECT)[industry_idx],
            np.asarray(_REGION_EFFECT)[region_idx],
            (~has_record).astype(float),
        ]
    )
    linear = design @ np.asarray(list(TRUE_COEFFICIENTS.values()))
    low, high = -20.0, 20.0
    for _ in range(60):  # bisection for the intercept giving the requested mean PD
        mid = (low + high) / 2
        if _sigmoid(linear + mid).mean() > bad_rate:
            high = mid
        else:
            low = mid
    logit = linear + (low + high) / 2
    true_pd = _sigmoid(logit)
    target = (rng.random(n) < true_pd).astype(np.int64)

    noise = np.exp(rng.normal(0.0, 0.05, size=(3, n)))
    obs_revenue, obs_profit, obs_tax = revenue * noise, profit * noise, tax_paid * noise
    unit_error = rng.random(n) < 0.03
    year = rng.integers(0, 3, n)
    for k in range(3):
        hit = unit_error & (year == k)
        for series in (obs_revenue, obs_profit, obs_tax):
            series[k] = np.where(hit, series[k] / 10_000, series[k])
    young = age_months < 36
    for series in (obs_revenue, obs_profit, obs_tax):
        series[0] = np.where(young, np.nan, series[0])
    omit = rng.random(n) < _sigmoid(-2.2 + 0.8 * (logit - logit.mean()))
    obs_assets = np.where(omit, np.nan, assets * np.exp(rng.normal(0, 0.05, n)))
    obs_liabilities = np.where(omit, np.nan, liabilities * np.exp(rng.normal(0, 0.05, n)))
    obs_cash_flow = np.where(omit | (rng.random(n) < 0.1), np.nan, cash_flow)

    columns: dict[str, Column] = {
        "age_months": age_months,
        "industry": np.asarray(INDUSTRIES, dtype=object)[industry_idx],
        "region": np.asarray(REGIONS, dtype=object)[region_idx],
        "employees": employees,
        "revenue_1": obs_revenue[0],
        "revenue_2": obs_revenue[1],
        "revenue_3": obs_revenue[2],
        "profit_1": obs_profit[0],
        "profit_2": obs_profit[1],
        "profit_3": obs_profit[2],
        "tax_paid_1": obs_tax[0],
        "tax_paid_2": obs_tax[1],
        "tax_paid_3": obs_tax[2],
        "total_assets": obs_assets,
        "total_liabilities": obs_liabilities,
        "operating_cash_flow": obs_cash_flow,
        "tax_grade": tax_grade,
        "bureau_score": np.where(has_record, bureau_score, np.nan),
        "overdue_count_24m": overdue.astype(float),
        "current_overdue": current,
        "outstanding_debt": outstanding,
        "requested_amount": requested,
    }
    offsets = rng.integers(0, DAYS, n)
    dates = np.asarray([START + timedelta(days=int(d)) for d in offsets], dtype=object)
    return SyntheticSample(
        columns=columns,
        target=target,
        true_pd=true_pd,
        true_design=design,
        application_date=dates,
    )
