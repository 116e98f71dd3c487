"""Training data sets: the synthetic SME population, the German credit data shipped inside the
``autoscore`` wheel (read from the installed package, never downloaded), and user CSV files
checked column by column with clear errors."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from credit_model.errors import ModelDataError
from credit_model.features import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_RAW,
    RAW_COLUMNS,
    RISK_DIRECTION,
    TEXT_RAW,
    Column,
    build_features,
)
from credit_model.synthetic import generate

MIN_BADS: Final = 30
"""Fewest bads (and goods) a training set may have: below it no fold has enough events."""
MIN_ROWS: Final = 100
MAX_BYTES: Final = 512 * 1024 * 1024
DATE_COLUMN: Final = "application_date"
ID_COLUMN: Final = "id"

Schema = Literal["sme", "custom"]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Features, outcome (1 = bad) and, where known, dates and the true PD."""

    name: str
    frame: pd.DataFrame
    target: npt.NDArray[np.int64]
    categorical: tuple[str, ...]
    feature_set: Schema
    fingerprint: str
    dates: npt.NDArray[np.object_] | None = None
    true_pd: npt.NDArray[np.float64] | None = None
    true_design: npt.NDArray[np.float64] | None = None
    notes: list[str] = field(default_factory=list)
    directions: dict[str, int] = field(default_factory=dict)
    """Declared risk direction of numeric features (+1: risk rises with the value, -1: falls);
    both models are constrained to it. Features not named are left to the data."""

    @property
    def bads(self) -> int:
        """Number of bad outcomes."""
        return int(self.target.sum())


def _fingerprint_columns(columns: dict[str, Column], target: npt.NDArray[np.int64]) -> str:
    digest = hashlib.sha256()
    for name in sorted(columns):
        digest.update(name.encode())
        digest.update(np.asarray(columns[name]).astype(str).tobytes())
    digest.update(target.astype(np.int64).tobytes())
    return digest.hexdigest()


def _check_target(target: npt.NDArray[np.int64], column: str) -> None:
    bads = int(target.sum())
    if bads in (0, len(target)):
        raise ModelDataError(
            "data.target_constant",
            f"目标列 {column} 只有一个取值，无法区分好坏客户",
            f"target column {column!r} has a single value: goods and bads cannot be told apart",
            column,
        )
    if bads < MIN_BADS or len(target) - bads < MIN_BADS:
        raise ModelDataError(
            "data.too_few_bads",
            f"坏样本（或好样本）少于 {MIN_BADS} 个（坏 {bads}，共 {len(target)}），无法可靠训练",
            f"fewer than {MIN_BADS} bads or goods ({bads} bad of {len(target)}): "
            "too few to train and validate",
            column,
        )


def _sme_dataset(
    name: str,
    columns: dict[str, Column],
    target: npt.NDArray[np.int64],
    dates: npt.NDArray[np.object_] | None,
    *,
    true_pd: npt.NDArray[np.float64] | None = None,
    true_design: npt.NDArray[np.float64] | None = None,
) -> Dataset:
    features = build_features(columns)
    frame = pd.DataFrame({name: features[name] for name in FEATURES})
    return Dataset(
        name=name,
        frame=frame,
        target=target,
        categorical=CATEGORICAL_FEATURES,
        feature_set="sme",
        fingerprint=_fingerprint_columns(columns, target),
        dates=dates,
        true_pd=true_pd,
        true_design=true_design,
        directions=dict(RISK_DIRECTION),
    )


def synthetic_dataset(n: int, seed: int = 7) -> Dataset:
    """The documented synthetic SME population (``credit_model.synthetic``)."""
    sample = generate(n, seed=seed)
    return _sme_dataset(
        f"synthetic-{n}-seed{seed}",
        sample.columns,
        sample.target,
        sample.application_date,
        true_pd=sample.true_pd,
        true_design=sample.true_design,
    )


GERMAN_PACKAGE: Final = "autoscore"
GERMAN_FILE: Final = "data/dataset.csv"
_GERMAN_NUMERIC: Final = (
    "duration",
    "credit_amount",
    "installment_rate",
    "present_residence",
    "age",
    "existing_credits",
    "dependents",
)
_GERMAN_DIRECTION: Final = {"duration": 1, "credit_amount": 1, "installment_rate": 1, "age": -1}
"""German credit's evident drivers: longer, larger and heavier loans are riskier, older
applicants less so; residence years, existing credits and dependents are left to the data."""


def german_csv_path() -> Path:
    """Where the installed ``autoscore`` wheel keeps the German credit data (UCI Statlog, 1,000
    applicants, 300 bad); located without importing the package."""
    spec = importlib.util.find_spec(GERMAN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelDataError(
            "data.german_missing",
            "未安装 autoscore 包，找不到德国信用数据",
            "the autoscore package (which ships the German credit data) is not installed",
            "german",
        )
    return Path(next(iter(spec.submodule_search_locations))) / GERMAN_FILE


def german_dataset() -> Dataset:
    """German credit: 20 attributes, ``target`` 1 = bad; ``create_time`` gives monthly dates.

    The shipped file spells the "unknown/no savings" code of ``svings`` in a broken encoding;
    it is read back as code 65, as in the original data.
    """
    raw = german_csv_path().read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8", encoding_errors="replace", dtype=str)
    target = frame.pop("target").astype(np.int64).to_numpy()
    dates = np.asarray(
        [datetime.strptime(v, "%Y/%m/%d").date() for v in frame.pop("create_time")], dtype=object
    )
    frame["svings"] = frame["svings"].where(frame["svings"].str.isdigit(), "65")
    for column in _GERMAN_NUMERIC:
        frame[column] = frame[column].astype(np.float64)
    categorical = tuple(c for c in frame.columns if c not in _GERMAN_NUMERIC)
    for column in categorical:
        frame[column] = frame[column].astype(object)
    return Dataset(
        name="german-credit",
        frame=frame,
        target=target,
        categorical=categorical,
        feature_set="custom",
        fingerprint=hashlib.sha256(raw).hexdigest(),
        dates=dates,
        directions=dict(_GERMAN_DIRECTION),
    )


_TRUE: Final = {"1", "1.0", "bad", "true", "yes", "y", "default", "违约", "坏"}
_FALSE: Final = {"0", "0.0", "good", "false", "no", "n", "正常", "好"}


def _parse_target(values: Sequence[str], column: str) -> npt.NDArray[np.int64]:
    out = np.empty(len(values), dtype=np.int64)
    for i, raw in enumerate(values):
        value = raw.strip().lower()
        if value in _TRUE:
            out[i] = 1
        elif value in _FALSE:
            out[i] = 0
        else:
            shown = "(empty)" if not value else repr(raw[:20])
            raise ModelDataError(
                "data.target_not_binary",
                f"目标列 {column} 第 {i + 2} 行的值 {shown} 不是 0/1（或 good/bad）",
                f"target column {column!r}, line {i + 2}: {shown} is not 0/1 (or good/bad)",
                column,
            )
    return out


def _parse_date(raw: str, line: int, column: str) -> date:
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(raw.strip(), pattern).date()
        except ValueError:
            continue
    raise ModelDataError(
        "data.bad_date",
        f"日期列 {column} 第 {line} 行的值不是日期（YYYY-MM-DD）",
        f"date column {column!r}, line {line}: not a date (YYYY-MM-DD)",
        column,
    )


def _parse_number(raw: str, line: int, column: str) -> float:
    text = raw.strip().replace(",", "")
    if not text:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise ModelDataError(
            "data.not_numeric",
            f"列 {column} 第 {line} 行的值不是数字",
            f"column {column!r}, line {line}: not a number",
            column,
        ) from None
    if not np.isfinite(value):
        raise ModelDataError(
            "data.not_numeric",
            f"列 {column} 第 {line} 行的值不是有限数字",
            f"column {column!r}, line {line}: not a finite number",
            column,
        )
    return value


def csv_dataset(path: Path, target: str, schema: Schema = "sme") -> Dataset:
    """Read a user CSV (UTF-8, header row) with outcome column ``target`` (1/bad = default).

    ``schema="sme"``: every other column must be one of the SME raw columns
    (``credit_model.features.RAW_COLUMNS``), ``application_date`` or ``id`` — a model trained so
    can score the platform's applications. ``schema="custom"``: any columns (numbers where every
    value parses, text otherwise); such a model is for analysis and cannot be promoted.
    """
    try:
        size = path.stat().st_size
    except OSError:
        raise ModelDataError(
            "data.file_missing",
            f"找不到数据文件 {path.name}",
            f"data file {path.name!r} does not exist",
            "data",
        ) from None
    if size > MAX_BYTES:
        raise ModelDataError(
            "data.file_too_large",
            "数据文件超过 512 MB",
            "the data file is larger than 512 MB",
            "data",
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ModelDataError(
            "data.not_utf8",
            "数据文件不是 UTF-8 编码的 CSV",
            "the data file is not UTF-8 encoded CSV",
            "data",
        ) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ModelDataError("data.empty", "数据文件为空", "the data file is empty", "data")
    header = [cell.strip() for cell in rows[0]]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ModelDataError(
            "data.duplicate_columns",
            f"列名重复：{', '.join(duplicates)}",
            f"duplicate column names: {', '.join(duplicates)}",
            duplicates[0],
        )
    if target not in header:
        raise ModelDataError(
            "data.target_missing",
            f"数据中没有目标列 {target}（已有列：{', '.join(header[:12])}）",
            f"target column {target!r} is not in the data (columns: {', '.join(header[:12])})",
            "target",
        )
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ModelDataError(
                "data.ragged_row",
                f"第 {number} 行有 {len(row)} 个字段，表头有 {len(header)} 个",
                f"line {number} has {len(row)} fields, the header has {len(header)}",
                "data",
            )
    if len(body) < MIN_ROWS:
        raise ModelDataError(
            "data.too_few_rows",
            f"数据只有 {len(body)} 行，至少需要 {MIN_ROWS} 行",
            f"the data has {len(body)} rows; at least {MIN_ROWS} are needed",
            "data",
        )
    by_name = {name: [row[i] for row in body] for i, name in enumerate(header)}
    outcome = _parse_target(by_name.pop(target), target)
    _check_target(outcome, target)
    by_name.pop(ID_COLUMN, None)
    dates = None
    if DATE_COLUMN in by_name:
        dates = np.asarray(
            [_parse_date(v, i + 2, DATE_COLUMN) for i, v in enumerate(by_name.pop(DATE_COLUMN))],
            dtype=object,
        )
    if schema == "sme":
        unknown = sorted(set(by_name) - set(RAW_COLUMNS))
        if unknown:
            raise ModelDataError(
                "data.unknown_columns",
                f"未知列：{', '.join(unknown)}；企业模型只接受标准字段（或使用 --schema custom）",
                f"unknown columns: {', '.join(unknown)}; the SME model takes only the standard "
                "raw columns (or use --schema custom)",
                unknown[0],
            )
        if not {"revenue_3", "requested_amount"} <= set(by_name):
            raise ModelDataError(
                "data.required_columns",
                "企业模型至少需要 revenue_3 与 requested_amount 两列",
                "the SME model needs at least the revenue_3 and requested_amount columns",
                "revenue_3",
            )
        columns: dict[str, Column] = {}
        for name, values in by_name.items():
            if name in NUMERIC_RAW:
                columns[name] = np.asarray(
                    [_parse_number(v, i + 2, name) for i, v in enumerate(values)]
                )
            else:
                assert name in TEXT_RAW
                columns[name] = np.asarray([v.strip() or None for v in values], dtype=object)
        return _sme_dataset(f"csv:{path.name}", columns, outcome, dates)
    if not by_name:
        raise ModelDataError(
            "data.no_features",
            "除目标列外没有可用的特征列",
            "there is no feature column besides the target",
            "data",
        )
    frame = pd.DataFrame()
    categorical = []
    for name, values in by_name.items():
        try:
            frame[name] = [_parse_number(v, i + 2, name) for i, v in enumerate(values)]
        except ModelDataError:
            frame[name] = np.asarray([v.strip() or None for v in values], dtype=object)
            categorical.append(name)
    return Dataset(
        name=f"csv:{path.name}",
        frame=frame,
        target=outcome,
        categorical=tuple(categorical),
        feature_set="custom",
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        dates=dates,
    )
