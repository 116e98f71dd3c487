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


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What identifies an archived version; printed on the PDF and put into the JSON."""

    version: int
    generated_at: str
    generated_by: str
    sha256: str
    generated_by_name: str = ""  # who, as people know them (the PDF); the id stays in the JSON


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
    return render_pdf("regulatory_report", {"figures": figures, "report": meta})
