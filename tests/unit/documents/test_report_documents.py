"""Regulatory report figures from rows, and their PDF (embedded Noto CJK font, the figures in
the text), CSV and canonical JSON renderings."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from documents.reports import (
    ReportMeta,
    canonical_figures,
    figures_digest,
    report_csv,
    report_json,
    report_pdf,
)
from domain.reports import (
    Decision,
    DisbursedLoan,
    HeldLoan,
    MetricRows,
    Period,
    RegulatoryFigures,
    ReportKind,
    ReportRows,
    compute,
    percentile_disc,
    platform_metrics,
    size_band,
)

D = Decimal
PERIOD = Period.of(ReportKind.MONTHLY, date(2026, 10, 1))
ROWS = ReportRows(
    period=PERIOD,
    disbursed=[
        DisbursedLoan(D("100000.00"), D("0.0500"), "working_capital", "C", "440305", D("500000")),
        DisbursedLoan(D("300000.00"), D("0.0700"), "equipment", "C", "310101", D("2000000")),
        DisbursedLoan(D("50000.00"), None, "equipment", "F", "440106", D("80000000")),
    ],
    decisions=[
        Decision(True, D(1800)),
        Decision(False, D(7200)),
        Decision(True, D(90000)),
        Decision(True, D(700000)),
    ],
    held=[
        HeldLoan(D("100000.00"), "normal", 0),
        HeldLoan(D("200000.00"), "special_mention", 30),
        HeldLoan(D("100000.00"), "substandard", 120),
        HeldLoan(D("0.00"), "loss", 400),
    ],
    extensions=[True, False, False],
    ratings=[5, 4, 1, 2, 5],
)


@pytest.fixture(scope="module")
def figures() -> RegulatoryFigures:
    return compute(ROWS)


def test_figures_follow_the_documented_definitions(figures: RegulatoryFigures) -> None:
    assert (figures.loans_disbursed, figures.amount_disbursed) == (3, D("450000.00"))
    assert [(v.key, v.loans, v.amount) for v in figures.by_region] == [
        ("310000", 1, D("300000.00")),
        ("440000", 2, D("150000.00")),
    ]
    assert [v.key for v in figures.by_enterprise_size] == ["large", "micro", "small"]
    # (100000 × 5 % + 300000 × 7 %) / 400000, the unpriced loan left out.
    assert figures.average_apr == D("0.0650")
    assert (figures.decided, figures.approved, figures.approval_rate) == (4, 3, D("0.7500"))
    assert figures.median_decision_hours == D("2.00")  # the lower middle value, 7200 s
    assert dict(figures.decision_buckets) == {
        "lt_1h": 1,
        "lt_24h": 1,
        "lt_3d": 1,
        "lt_7d": 0,
        "ge_7d": 1,
    }
    assert figures.loans_held == 3 and figures.outstanding_balance == D("400000.00")
    assert (figures.npl_balance, figures.npl_ratio) == (D("100000.00"), D("0.2500"))
    assert (figures.overdue_loans, figures.overdue_balance_rate) == (2, D("0.7500"))
    assert figures.overdue_90_rate == D("0.2500")
    assert (figures.extensions, figures.restructurings) == (3, 1)
    assert (figures.ratings, figures.average_score, figures.complaints) == (5, D("3.40"), 2)


def test_periods_and_helpers() -> None:
    assert Period.previous(ReportKind.MONTHLY, date(2026, 1, 15)) == Period(
        ReportKind.MONTHLY, date(2025, 12, 1), date(2026, 1, 1)
    )
    quarter = Period.previous(ReportKind.QUARTERLY, date(2026, 11, 2))
    assert (quarter.start, quarter.end, quarter.label) == (
        date(2026, 7, 1),
        date(2026, 10, 1),
        "2026-Q3",
    )
    with pytest.raises(ValueError, match="first day"):
        Period.of(ReportKind.QUARTERLY, date(2026, 2, 1))
    assert percentile_disc([D(3), D(1), D(2), D(4)], D("0.5")) == D(2)
    assert percentile_disc([D(3), D(1), D(2)], D("0.5")) == D(2)  # ceil(1.5) = 2nd
    assert percentile_disc([D(n) for n in range(1, 12)], D("0.9")) == D(10)  # ceil(9.9)
    assert percentile_disc([], D("0.5")) == D(0)
    assert size_band(D("999999.99")) == "micro" and size_band(D("1000000")) == "small"


def test_platform_metrics_per_group() -> None:
    rows = MetricRows(
        applications=[("A", True), ("A", False), ("A", True), ("B", False)],
        decisions=[("A", Decision(True, D(3600))), ("B", Decision(False, D(7200)))],
        loans=[("A", D("100.00"), D("0.0600")), ("A", D("300.00"), D("0.0800"))],
        ratings=[("A", 5), ("A", 4), ("B", 1)],
    )
    a, b = platform_metrics(rows)
    assert (a.key, a.applications, a.financed, a.success_rate) == ("A", 3, 2, D("0.6667"))
    assert (a.average_apr, a.average_score, a.mean_decision_hours) == (
        D("0.0750"),
        D("4.50"),
        D("1.00"),
    )
    assert (b.success_rate, b.approval_rate, b.loans, b.average_score) == (
        D("0.0000"),
        D("0.0000"),
        0,
        D("1.00"),
    )


def test_json_and_csv_carry_every_figure(figures: RegulatoryFigures) -> None:
    meta = ReportMeta(1, "2026-11-01T01:00:00+08:00", "schedule", figures_digest(figures))
    document = json.loads(report_json(figures, meta))
    assert document["report"]["figures_sha256"] == meta.sha256
    assert document["portfolio"]["npl_ratio"] == "0.2500"
    assert json.loads(canonical_figures(figures)) == figures.as_json()
    text = report_csv(figures).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "breakdown", "key", "metric", "value"]
    assert ["financing", "by_region", "440000", "amount", "150000.00"] in rows
    assert ["portfolio", "", "", "outstanding", "400000.00"] in rows


needs_poppler = pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdffonts, pdftotext) not installed",
)


@needs_poppler
def test_pdf_embeds_a_cjk_font_and_shows_the_figures(
    figures: RegulatoryFigures, tmp_path: Path
) -> None:
    meta = ReportMeta(2, "2026-11-01T01:00:00+08:00", "schedule", figures_digest(figures))
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(figures, meta))
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    embedded = [
        line
        for line in fonts.splitlines()[2:]
        if "Noto" in line and "CJK" in line and line.split()[-5] == "yes"
    ]
    assert embedded and not [line for line in fonts.splitlines()[2:] if line.split()[-5] == "no"], (
        fonts
    )
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())  # letter-spacing and wrapping split words
    assert "月度监管报表" in compact and "2026年10月October2026" in compact
    assert "¥450,000.00" in compact and "25.00%" in compact and meta.sha256 in compact
