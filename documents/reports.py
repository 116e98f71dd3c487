"""Renderings of a regulatory report: PDF (WeasyPrint, embedded CJK font), CSV and canonical
JSON, each returned as bytes to be stored under its sha256."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from documents.pdf import render_pdf
from domain.reports import CSV_HEADER, RegulatoryFigures, csv_rows

LABELS = {
    "normal": "正常 Normal",
    "special_mention": "关注 Special mention",
    "substandard": "次级 Substandard",
    "doubtful": "可疑 Doubtful",
    "loss": "损失 Loss",
    "micro": "微型 Micro (< ¥1M)",
    "small": "小型 Small (¥1M–10M)",
    "medium": "中型 Medium (¥10M–50M)",
    "large": "大型 Large (≥ ¥50M)",
    "lt_1h": "1小时内 < 1 h",
    "lt_24h": "1–24小时 1–24 h",
    "lt_3d": "1–3天 1–3 days",
    "lt_7d": "3–7天 3–7 days",
    "ge_7d": "7天以上 ≥ 7 days",
    "working_capital": "流动资金贷款 Working capital",
    "bill_financing": "票据融资 Bill financing",
    "factoring": "保理 Factoring",
    "project": "项目贷款 Project",
    "equipment": "设备贷款 Equipment",
    "credit": "信用贷款 Credit",
    "tax_based": "税易贷 Tax-based",
    "invoice_based": "发票贷 Invoice-based",
}


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What identifies an archived version; printed on the PDF and put into the JSON."""

    version: int
    generated_at: str
    generated_by: str
    sha256: str


def canonical_figures(figures: RegulatoryFigures) -> bytes:
    """The figures as canonical JSON bytes (sorted keys, no spaces): what ``sha256`` hashes."""
    return json.dumps(
        figures.as_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def figures_digest(figures: RegulatoryFigures) -> str:
    return hashlib.sha256(canonical_figures(figures)).hexdigest()


def report_json(figures: RegulatoryFigures, meta: ReportMeta) -> bytes:
    """The JSON file: the figures with the version's identity."""
    document: dict[str, Any] = {
        "report": {
            "version": meta.version,
            "generated_at": meta.generated_at,
            "generated_by": meta.generated_by,
            "figures_sha256": meta.sha256,
        },
        **figures.as_json(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def report_csv(figures: RegulatoryFigures) -> bytes:
    """The CSV file (UTF-8 with a byte-order mark, so spreadsheet software reads Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(figures))
    return buffer.getvalue().encode("utf-8-sig")


def report_pdf(figures: RegulatoryFigures, meta: ReportMeta) -> bytes:
    """The PDF (blocking, about a fifth of a second a page: call from a thread)."""
    return render_pdf("regulatory_report", {"figures": figures, "report": meta, "labels": LABELS})
