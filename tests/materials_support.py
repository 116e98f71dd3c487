"""Real-looking material files built in the test: small-enterprise balance sheets and income
statements (XLSX and CSV), a PDF, a JPEG and a PNG."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def balance_sheet_rows(
    unit: str = "元", *, equity: str = "600000.00", total: str = "1000000.00"
) -> list[list[Any]]:
    """会小企01表 as laid out in the template: assets left, liabilities and equity right."""
    return [
        ["资产负债表", "", "", "", "", "", "", "会小企01表"],
        ["编制单位：测试贸易有限公司", "", "2025年12月31日", "", "", "", f"单位：{unit}", ""],
        [
            "资产",
            "行次",
            "期末余额",
            "年初余额",
            "负债和所有者权益",
            "行次",
            "期末余额",
            "年初余额",
        ],
        ["流动资产合计", 15, "600000.00", "500000.00", "流动负债合计", 41, "300000.00", "1"],
        ["非流动资产合计", 29, "400000.00", "380000.00", "非流动负债合计", 46, "100000.00", "1"],
        ["", "", "", "", "负债合计", 47, "400000.00", "1"],
        ["", "", "", "", "所有者权益（或股东权益）合计", 52, equity, "1"],
        ["资产总计", 30, total, "880000.00", "负债和所有者权益（或股东权益）总计", 53, total, "1"],
    ]


def income_statement_rows(unit: str = "元", revenue: str = "1200000.00") -> list[list[Any]]:
    """会小企02表: the year's figures in 本年累计金额."""
    return [
        ["利润表", "", "", "会小企02表"],
        ["编制单位：测试贸易有限公司", "2025年", "", f"单位：{unit}"],
        ["项目", "行次", "本年累计金额", "本月金额"],
        ["一、营业收入", 1, revenue, "100000.00"],
        ["减：营业成本", 2, "900000.00", "70000.00"],
        ["二、营业利润", 21, "150000.00", "10000.00"],
        ["三、利润总额", 30, "160000.00", "11000.00"],
        ["减：所得税费用", 31, "40000.00", "3000.00"],
        ["四、净利润", 32, "120000.00", "8000.00"],
    ]


def xlsx(*sheets: list[list[Any]], numbers: bool = True) -> bytes:
    """A workbook with one sheet per rows given; amounts as numbers (as Excel keeps them)."""
    book = Workbook()
    book.remove(book.active)
    for index, rows in enumerate(sheets):
        sheet = book.create_sheet(f"表{index + 1}")
        for row in rows:
            sheet.append([_number(c) if numbers else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(cell: Any) -> Any:
    if isinstance(cell, str):
        try:
            return float(cell) if "." in cell else cell
        except ValueError:
            return cell
    return cell


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    """The rows as a CSV file in ``encoding`` (GBK: as Excel saves it in China)."""
    lines = [",".join(f'"{c}"' if "," in str(c) else str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
