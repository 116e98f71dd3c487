"""SME features (企业特征): cleaning, standardisation and ratios computed from raw enterprise
columns — the same code for training (whole columns) and for scoring (columns of one row).

Raw columns (``RAW_COLUMNS``; amounts in yuan, statements oldest year first: ``_1`` is two years
before the latest, ``_3`` the latest): ``age_months``, ``industry`` (GB/T 4754 section),
``region`` (GB/T 2260 province, 2 digits), ``employees``, ``revenue_1..3``, ``profit_1..3``,
``tax_paid_1..3``, ``total_assets``, ``total_liabilities``, ``operating_cash_flow``,
``tax_grade`` (A/B/C/D/M), ``bureau_score`` (300-900), ``overdue_count_24m``,
``current_overdue`` (0/1), ``outstanding_debt``, ``requested_amount``. Any may be missing
(NaN, or None for text).

Cleaning: a year whose revenue is below 1/1000 of another year's was reported in 万元 (ten
thousand yuan) — that year's revenue, profit and tax are multiplied by 10,000; negative
amounts that cannot be negative become missing; every ratio is clipped to a documented range
so a tiny denominator cannot produce an extreme value.

Features (``FEATURES``), by family:

- scale: ``log_revenue``, ``log_assets``, ``log_employees``;
- profitability: ``net_margin`` (profit/revenue), ``margin_trend`` (latest − earliest margin),
  ``roa`` (profit/assets);
- solvency: ``leverage`` (liabilities/assets), ``debt_to_revenue`` ((bureau debt + request)/
  revenue), ``request_to_revenue``;
- liquidity: ``cash_flow_to_liabilities`` (operating cash flow/liabilities);
- growth and volatility: ``revenue_growth`` (latest year), ``revenue_cagr`` (two years),
  ``revenue_volatility`` (standard deviation of the two yearly growths);
- tax: ``tax_rate`` (tax paid/revenue), ``tax_grade``;
- bureau flags: ``bureau_score``, ``overdue_count_24m``, ``current_overdue``;
- profile: ``age_years``, ``industry``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

Column = npt.NDArray[np.float64] | npt.NDArray[np.object_]
Columns = Mapping[str, Column]

NUMERIC_RAW: Final = (
    "age_months",
    "employees",
    "revenue_1",
    "revenue_2",
    "revenue_3",
    "profit_1",
    "profit_2",
    "profit_3",
    "tax_paid_1",
    "tax_paid_2",
    "tax_paid_3",
    "total_assets",
    "total_liabilities",
    "operating_cash_flow",
    "bureau_score",
    "overdue_count_24m",
    "current_overdue",
    "outstanding_debt",
    "requested_amount",
)
TEXT_RAW: Final = ("industry", "region", "tax_grade")
RAW_COLUMNS: Final = NUMERIC_RAW + TEXT_RAW

CATEGORICAL_FEATURES: Final = ("tax_grade", "industry")
FEATURES: Final = (
    "age_years",
    "log_revenue",
    "log_assets",
    "log_employees",
    "net_margin",
    "margin_trend",
    "roa",
    "leverage",
    "debt_to_revenue",
    "request_to_revenue",
    "cash_flow_to_liabilities",
    "revenue_growth",
    "revenue_cagr",
    "revenue_volatility",
    "tax_rate",
    "bureau_score",
    "overdue_count_24m",
    "current_overdue",
    "tax_grade",
    "industry",
)
"""The SME feature set; a model trained on exactly these can score platform applications."""

RISK_DIRECTION: Final[dict[str, int]] = {
    "age_years": -1,
    "log_revenue": -1,
    "log_assets": -1,
    "log_employees": -1,
    "net_margin": -1,
    "margin_trend": -1,
    "roa": -1,
    "leverage": 1,
    "debt_to_revenue": 1,
    "request_to_revenue": 1,
    "cash_flow_to_liabilities": -1,
    "revenue_volatility": 1,
    "tax_rate": -1,
    "bureau_score": -1,
    "overdue_count_24m": 1,
    "current_overdue": 1,
}
"""Credit policy: how the risk of default moves when an SME feature rises (+1 up, -1 down).
Both models are trained to respect it, so a bigger request against revenue, more debt or more
overdues never improves a score, and more revenue, profit or years in business never worsens
it. Revenue growth is left free on purpose: moderate growth is good, hyper-growth is a known
warning sign, and the data decides the shape."""

FEATURE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "age_years": ("经营年限较短", "short operating history"),
    "log_revenue": ("营收规模较小", "small revenue"),
    "log_assets": ("资产规模较小", "small asset base"),
    "log_employees": ("从业人数较少", "few employees"),
    "net_margin": ("净利润率偏低", "low net margin"),
    "margin_trend": ("利润率下滑", "falling margin"),
    "roa": ("资产回报率偏低", "low return on assets"),
    "leverage": ("资产负债率偏高", "high leverage"),
    "debt_to_revenue": ("负债与申请金额相对营收偏高", "debt and request high against revenue"),
    "request_to_revenue": ("申请金额相对营收偏高", "request high against revenue"),
    "cash_flow_to_liabilities": ("经营现金流覆盖负债不足", "weak cash-flow cover of liabilities"),
    "revenue_growth": ("营收增长乏力", "weak revenue growth"),
    "revenue_cagr": ("两年营收复合增长偏弱", "weak two-year revenue growth"),
    "revenue_volatility": ("营收波动较大", "volatile revenue"),
    "tax_rate": ("纳税额相对营收偏低", "low tax paid against revenue"),
    "bureau_score": ("征信评分偏低", "low bureau score"),
    "overdue_count_24m": ("近24个月有逾期记录", "overdues in the last 24 months"),
    "current_overdue": ("当前存在逾期", "currently overdue"),
    "tax_grade": ("纳税信用等级偏低", "low taxpayer credit grade"),
    "industry": ("行业风险较高", "higher-risk industry"),
}
"""Chinese and English wording of a reason code ``model.<feature>``."""

_UNIT_ERROR_RATIO: Final = 1e-3
_WAN: Final = 10_000.0


def _num(columns: Columns, name: str, n: int) -> npt.NDArray[np.float64]:
    value = columns.get(name)
    if value is None:
        return np.full(n, np.nan)
    return np.asarray(value, dtype=np.float64)


def _text(columns: Columns, name: str, n: int) -> npt.NDArray[np.object_]:
    value = columns.get(name)
    if value is None:
        return np.full(n, None, dtype=object)
    out = np.asarray(value, dtype=object)
    cleaned = [None if v is None or v != v else str(v).strip().upper() or None for v in out]
    return np.asarray(cleaned, dtype=object)


def _ratio(
    num: npt.NDArray[np.float64], den: npt.NDArray[np.float64], low: float, high: float
) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(out, low, high)


def row_count(columns: Columns) -> int:
    """Number of rows in a column mapping (all columns have the same length)."""
    for value in columns.values():
        return len(value)
    return 0


def build_features(columns: Columns) -> dict[str, Column]:
    """Clean the raw columns and compute ``FEATURES`` (NaN / None where undefined)."""
    n = row_count(columns)
    revenue = [_num(columns, f"revenue_{k}", n).copy() for k in (1, 2, 3)]
    profit = [_num(columns, f"profit_{k}", n).copy() for k in (1, 2, 3)]
    tax_paid = [_num(columns, f"tax_paid_{k}", n).copy() for k in (1, 2, 3)]
    # Unit errors: a statement filed in 万元 is 10,000 times too small against the others.
    stacked = np.vstack(revenue)
    with np.errstate(invalid="ignore"):
        largest = np.nanmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=0)
    for k in range(3):
        wrong = (revenue[k] > 0) & (revenue[k] < largest * _UNIT_ERROR_RATIO)
        for series in (revenue, profit, tax_paid):
            series[k] = np.where(wrong, series[k] * _WAN, series[k])
    for series in (revenue, tax_paid):
        for k in range(3):
            series[k] = np.where(series[k] < 0, np.nan, series[k])
    assets = _num(columns, "total_assets", n)
    assets = np.where(assets < 0, np.nan, assets)
    liabilities = _num(columns, "total_liabilities", n)
    liabilities = np.where(liabilities < 0, np.nan, liabilities)
    cash_flow = _num(columns, "operating_cash_flow", n)
    employees = _num(columns, "employees", n)
    debt = np.nan_to_num(_num(columns, "outstanding_debt", n), nan=0.0)
    requested = _num(columns, "requested_amount", n)
    age_months = _num(columns, "age_months", n)

    r1, r2, r3 = revenue
    with np.errstate(divide="ignore", invalid="ignore"):
        growth_3 = _ratio(r3, r2, 0.0, 11.0) - 1.0
        growth_2 = _ratio(r2, r1, 0.0, 11.0) - 1.0
        cagr = np.sqrt(_ratio(r3, r1, 0.0, 100.0)) - 1.0
        volatility = np.abs(growth_3 - growth_2) / 2.0
        margin_1 = _ratio(profit[0], r1, -2.0, 2.0)
        margin_3 = _ratio(profit[2], r3, -2.0, 2.0)
        bureau = _num(columns, "bureau_score", n)
        bureau = np.where((bureau >= 300) & (bureau <= 900), bureau, np.nan)
        overdue = _num(columns, "overdue_count_24m", n)
        current = _num(columns, "current_overdue", n)
        return {
            "age_years": np.clip(age_months / 12.0, 0.0, 100.0),
            "log_revenue": np.where(r3 >= 0, np.log1p(r3), np.nan),
            "log_assets": np.where(assets >= 0, np.log1p(assets), np.nan),
            "log_employees": np.where(employees >= 0, np.log1p(employees), np.nan),
            "net_margin": margin_3,
            "margin_trend": np.clip(margin_3 - margin_1, -2.0, 2.0),
            "roa": _ratio(profit[2], assets, -2.0, 2.0),
            "leverage": _ratio(liabilities, assets, 0.0, 5.0),
            "debt_to_revenue": _ratio(debt + np.nan_to_num(requested), r3, 0.0, 50.0),
            "request_to_revenue": _ratio(requested, r3, 0.0, 50.0),
            "cash_flow_to_liabilities": _ratio(cash_flow, liabilities, -5.0, 5.0),
            "revenue_growth": growth_3,
            "revenue_cagr": cagr,
            "revenue_volatility": volatility,
            "tax_rate": _ratio(tax_paid[2], r3, 0.0, 1.0),
            "bureau_score": bureau,
            "overdue_count_24m": np.where(overdue >= 0, np.minimum(overdue, 24.0), np.nan),
            "current_overdue": np.where(np.isnan(current), np.nan, (current > 0).astype(float)),
            "tax_grade": _text(columns, "tax_grade", n),
            "industry": _text(columns, "industry", n),
        }


def _f(value: object) -> float:
    if value is None:
        return math.nan
    return float(value)  # type: ignore[arg-type]


def _ratio_one(num: float, den: float, low: float, high: float) -> float:
    if not den > 0 or math.isnan(num):
        return math.nan
    return min(max(num / den, low), high)


def _clip(value: float, low: float, high: float) -> float:
    return value if math.isnan(value) else min(max(value, low), high)


def _text_one(value: object) -> str | None:
    if value is None or value != value:
        return None
    return str(value).strip().upper() or None


def features_one(raw: Mapping[str, object]) -> dict[str, object]:
    """``build_features`` for one enterprise in plain Python (a fraction of the time of numpy
    on one-element columns); the tests hold both to the same results."""
    revenue = [_f(raw.get(f"revenue_{k}")) for k in (1, 2, 3)]
    profit = [_f(raw.get(f"profit_{k}")) for k in (1, 2, 3)]
    tax_paid = [_f(raw.get(f"tax_paid_{k}")) for k in (1, 2, 3)]
    known = [r for r in revenue if not math.isnan(r)]
    largest = max(known) if known else -math.inf
    for k in range(3):
        if revenue[k] > 0 and revenue[k] < largest * _UNIT_ERROR_RATIO:
            revenue[k] *= _WAN
            profit[k] *= _WAN
            tax_paid[k] *= _WAN
    revenue = [math.nan if r < 0 else r for r in revenue]
    tax_paid = [math.nan if t < 0 else t for t in tax_paid]
    assets = _f(raw.get("total_assets"))
    assets = math.nan if assets < 0 else assets
    liabilities = _f(raw.get("total_liabilities"))
    liabilities = math.nan if liabilities < 0 else liabilities
    cash_flow = _f(raw.get("operating_cash_flow"))
    employees = _f(raw.get("employees"))
    debt = _f(raw.get("outstanding_debt"))
    debt = 0.0 if math.isnan(debt) else debt
    requested = _f(raw.get("requested_amount"))
    age_months = _f(raw.get("age_months"))
    r1, r2, r3 = revenue
    growth_3 = _ratio_one(r3, r2, 0.0, 11.0) - 1.0
    growth_2 = _ratio_one(r2, r1, 0.0, 11.0) - 1.0
    cagr = float(np.sqrt(_ratio_one(r3, r1, 0.0, 100.0))) - 1.0
    margin_1 = _ratio_one(profit[0], r1, -2.0, 2.0)
    margin_3 = _ratio_one(profit[2], r3, -2.0, 2.0)
    bureau = _f(raw.get("bureau_score"))
    bureau = bureau if 300 <= bureau <= 900 else math.nan
    overdue = _f(raw.get("overdue_count_24m"))
    current = _f(raw.get("current_overdue"))
    return {
        "age_years": _clip(age_months / 12.0, 0.0, 100.0),
        # numpy's log1p, not math's: the two may differ in the last bit
        "log_revenue": float(np.log1p(r3)) if r3 >= 0 else math.nan,
        "log_assets": float(np.log1p(assets)) if assets >= 0 else math.nan,
        "log_employees": float(np.log1p(employees)) if employees >= 0 else math.nan,
        "net_margin": margin_3,
        "margin_trend": _clip(margin_3 - margin_1, -2.0, 2.0),
        "roa": _ratio_one(profit[2], assets, -2.0, 2.0),
        "leverage": _ratio_one(liabilities, assets, 0.0, 5.0),
        "debt_to_revenue": _ratio_one(
            debt + (0.0 if math.isnan(requested) else requested), r3, 0.0, 50.0
        ),
        "request_to_revenue": _ratio_one(requested, r3, 0.0, 50.0),
        "cash_flow_to_liabilities": _ratio_one(cash_flow, liabilities, -5.0, 5.0),
        "revenue_growth": growth_3,
        "revenue_cagr": cagr,
        "revenue_volatility": abs(growth_3 - growth_2) / 2.0,
        "tax_rate": _ratio_one(tax_paid[2], r3, 0.0, 1.0),
        "bureau_score": bureau,
        "overdue_count_24m": min(overdue, 24.0) if overdue >= 0 else math.nan,
        "current_overdue": current if math.isnan(current) else float(current > 0),
        "tax_grade": _text_one(raw.get("tax_grade")),
        "industry": _text_one(raw.get("industry")),
    }
