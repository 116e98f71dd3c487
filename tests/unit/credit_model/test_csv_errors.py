"""User CSV files: good ones load; bad ones get a clear, machine-coded, bilingual error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from credit_model.data import MIN_BADS, csv_dataset
from credit_model.errors import ModelDataError
from credit_model.synthetic import generate

HEADER = "revenue_3,requested_amount,bureau_score,tax_grade,industry,application_date,default"


def _rows(n: int, bads: int) -> list[str]:
    return [
        f"{1_000_000 + 1000 * i},{200_000 + 10 * i},{600 + i % 200},{'ABCD'[i % 4]},C,"
        f"2024-{1 + i % 12:02d}-15,{1 if i < bads else 0}"
        for i in range(n)
    ]


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, target: str = "default", schema: str = "sme") -> ModelDataError:
    with pytest.raises(ModelDataError) as caught:
        csv_dataset(path, target, schema)  # type: ignore[arg-type]
    error = caught.value
    assert error.message_zh and error.message_en and error.field
    return error


def test_a_good_sme_csv_loads(tmp_path: Path) -> None:
    ds = csv_dataset(_write(tmp_path, "\n".join([HEADER, *_rows(200, 40)])), "default")
    assert ds.feature_set == "sme" and ds.bads == 40 and len(ds.target) == 200
    assert ds.dates is not None and len(ds.fingerprint) == 64
    assert ds.frame["log_revenue"].notna().all()


def test_a_synthetic_export_round_trips_through_csv(tmp_path: Path) -> None:
    sample = generate(600, seed=2)
    names = list(sample.columns)
    lines = [",".join([*names, "bad"])]
    for i in range(600):
        cells = []
        for name in names:
            value = sample.columns[name][i]
            cells.append("" if value is None or value != value else str(value))
        lines.append(",".join([*cells, str(sample.target[i])]))
    ds = csv_dataset(_write(tmp_path, "\n".join(lines)), "bad")
    assert ds.bads == int(sample.target.sum())
    assert np.isfinite(ds.frame["net_margin"]).all()


@pytest.mark.parametrize(
    ("text", "target", "code", "field"),
    [
        ("", "default", "data.empty", "data"),
        (HEADER + "\n" + "\n".join(_rows(200, 40)), "bad_flag", "data.target_missing", "target"),
        (HEADER.replace("industry", "favourite_colour") + "\n" + "\n".join(_rows(200, 40)),
         "default", "data.unknown_columns", "favourite_colour"),
        (HEADER + "\n" + "\n".join(_rows(200, 0)), "default", "data.target_constant", "default"),
        (HEADER + "\n" + "\n".join(_rows(200, MIN_BADS - 1)), "default", "data.too_few_bads",
         "default"),
        (HEADER + "\n" + "\n".join(_rows(50, 20)), "default", "data.too_few_rows", "data"),
        (HEADER + "\n" + "\n".join(_rows(199, 40)) + "\n1,2,3,A,C,2024-01-01,maybe", "default",
         "data.target_not_binary", "default"),
        (HEADER + "\n" + "\n".join(_rows(199, 40)) + "\nlots,2,3,A,C,2024-01-01,0", "default",
         "data.not_numeric", "revenue_3"),
        (HEADER + "\n" + "\n".join(_rows(199, 40)) + "\n1,2,3,A,C,yesterday,0", "default",
         "data.bad_date", "application_date"),
        (HEADER + "\n" + "\n".join(_rows(199, 40)) + "\n1,2,3", "default", "data.ragged_row",
         "data"),
        ("a,a,default\n" + "\n".join("1,2,0" for _ in range(200)), "default",
         "data.duplicate_columns", "a"),
        ("bureau_score,default\n" + "\n".join(f"{600 + i},{i % 2}" for i in range(200)),
         "default", "data.required_columns", "revenue_3"),
    ],
)  # fmt: skip
def test_bad_csv_inputs_get_clear_errors(
    tmp_path: Path, text: str, target: str, code: str, field: str
) -> None:
    error = _error(_write(tmp_path, text), target)
    assert (error.code, error.field) == (code, field)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.csv").code == "data.file_missing"
    path = tmp_path / "gbk.csv"
    path.write_bytes("营收,default\n".encode("gbk"))
    assert _error(path).code == "data.not_utf8"


def test_custom_schema_accepts_any_columns_and_infers_types(tmp_path: Path) -> None:
    lines = ["colour,amount,bad"] + [
        f"{'red' if i % 3 else 'blue'},{i * 10},{1 if i % 4 == 0 else 0}" for i in range(200)
    ]
    ds = csv_dataset(_write(tmp_path, "\n".join(lines)), "bad", "custom")
    assert ds.feature_set == "custom" and ds.categorical == ("colour",)
    assert ds.frame["amount"].dtype == np.float64


def test_data_without_signal_is_refused_in_training(tmp_path: Path) -> None:
    from credit_model.pipeline import TrainingOptions, train

    lines = ["noise,bad"] + [f"{(i * 7919) % 13},{1 if i % 4 == 0 else 0}" for i in range(400)]
    ds = csv_dataset(_write(tmp_path, "\n".join(lines)), "bad", "custom")
    with pytest.raises(ModelDataError) as caught:
        train(ds, TrainingOptions(folds=3, tune=False))
    assert caught.value.code == "data.no_signal"
