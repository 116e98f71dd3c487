"""Real-looking material files built in the test: small-enterprise balance sheets and income
statements (XLSX and CSV, laid out by ``cli.demo_materials``), a PDF, a JPEG and a PNG."""

from __future__ import annotations

from typing import Any

from cli.demo_materials import balance_sheet_rows as _balance_sheet
from cli.demo_materials import income_statement_rows as _income_statement
from cli.demo_materials import workbook

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def balance_sheet_rows(
    unit: str = "元", *, equity: str = "600000.00", total: str = "1000000.00"
) -> list[list[Any]]:
    """A 2025 balance sheet in yuan: assets 600,000 + 400,000, liabilities 300,000 + 100,000."""
    return _balance_sheet(
        2025,
        unit,
        assets=("600000.00", "400000.00"),
        liabilities=("300000.00", "100000.00"),
        equity=equity,
        total=total,
    )


def income_statement_rows(unit: str = "元", revenue: str = "1200000.00") -> list[list[Any]]:
    """A 2025 income statement in yuan: profit 160,000 before and 120,000 after tax."""
    return _income_statement(
        2025,
        unit,
        revenue=revenue,
        cost="900000.00",
        total_profit="160000.00",
        income_tax="40000.00",
    )


def xlsx(*sheets: list[list[Any]]) -> bytes:
    """A workbook with one sheet per rows given; amounts as numbers (as Excel keeps them)."""
    return workbook(*([[_number(c) for c in row] for row in rows] for rows in sheets))


def _number(cell: Any) -> Any:
    if isinstance(cell, str) and cell.replace(".", "", 1).isdigit() and "." in cell:
        return float(cell)
    return cell


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    """The rows as a CSV file in ``encoding`` (GBK: as Excel saves it in China)."""
    lines = [",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
