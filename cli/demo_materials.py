"""Material files as an applicant uploads them: a balance sheet and an income statement in the
small-enterprise templates (资产负债表 会小企01表, 利润表 会小企02表) laid out as the templates
are, as an XLSX workbook; a business plan PDF. The demo uploads them; tests build theirs here."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

BUSINESS_PLAN_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
    b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)
_SIDE = ["行次", "期末余额", "年初余额"]
_HEADINGS = ["资产", *_SIDE, "负债和所有者权益", *_SIDE]


def balance_sheet_rows(
    year: int,
    unit: str,
    *,
    assets: tuple[Any, Any],
    liabilities: tuple[Any, Any],
    equity: Any,
    total: Any,
) -> list[list[Any]]:
    """会小企01表: current and non-current assets and liabilities, the liabilities' total
    (their sum), the equity total and the two grand totals (both ``total``)."""
    owed = sum((Decimal(str(x)) for x in liabilities), Decimal(0))
    owed_cell: Any = float(owed) if isinstance(liabilities[0], float) else f"{owed:.2f}"
    return [
        ["资产负债表", "", "", "", "", "", "", "会小企01表"],
        ["编制单位：演示贸易有限公司", "", f"{year}年12月31日", "", "", "", f"单位：{unit}", ""],
        _HEADINGS,
        ["流动资产合计", 15, assets[0], "", "流动负债合计", 41, liabilities[0], ""],
        ["非流动资产合计", 29, assets[1], "", "非流动负债合计", 46, liabilities[1], ""],
        ["", "", "", "", "负债合计", 47, owed_cell, ""],
        ["", "", "", "", "所有者权益（或股东权益）合计", 52, equity, ""],
        ["资产总计", 30, total, "", "负债和所有者权益（或股东权益）总计", 53, total, ""],
    ]


def income_statement_rows(
    year: int, unit: str, *, revenue: Any, cost: Any, total_profit: Any, income_tax: Any
) -> list[list[Any]]:
    """会小企02表: the year's figures in 本年累计金额 (net profit: total profit less tax)."""
    net = Decimal(str(total_profit)) - Decimal(str(income_tax))
    net_cell: Any = float(net) if isinstance(total_profit, float) else f"{net:.2f}"
    return [
        ["利润表", "", "", "会小企02表"],
        ["编制单位：演示贸易有限公司", f"{year}年", "", f"单位：{unit}"],
        ["项目", "行次", "本年累计金额", "本月金额"],
        ["一、营业收入", 1, revenue, ""],
        ["减：营业成本", 2, cost, ""],
        ["三、利润总额", 30, total_profit, ""],
        ["减：所得税费用", 31, income_tax, ""],
        ["四、净利润", 32, net_cell, ""],
    ]


def workbook(*sheets: list[list[Any]]) -> bytes:
    """An XLSX workbook with one sheet per rows given — the same bytes every time (a fixed
    timestamp in its properties and its zip entries), so a demo seeded again sends the same
    files and its submissions repeat as themselves."""
    book = Workbook()
    book.remove(book.active)
    for index, rows in enumerate(sheets):
        sheet = book.create_sheet(f"表{index + 1}")
        for row in rows:
            sheet.append(row)
    written = io.BytesIO()
    book.save(written)
    stamp = b"2026-01-01T00:00:00Z"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(written) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":  # dcterms:created / modified: now
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp, data)
            fixed = zipfile.ZipInfo(entry.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data)
    return out.getvalue()


def statements_xlsx(year: int, revenue_wan: Decimal, *, balanced: bool = True) -> bytes:
    """The demo's statements in 万元; unbalanced, the equity total is 20 万元 short of what
    the liabilities-and-equity total says."""
    cost = revenue_wan * Decimal("0.78")
    total_profit = revenue_wan - cost - Decimal("60")
    tax = (total_profit * Decimal("0.25")).quantize(Decimal("0.01"))
    return workbook(
        balance_sheet_rows(
            year,
            "万元",
            assets=(620.0, 380.0),
            liabilities=(310.0, 90.0),
            equity=600.0 if balanced else 580.0,
            total=1000.0,
        ),
        income_statement_rows(
            year,
            "万元",
            revenue=float(revenue_wan),
            cost=float(cost),
            total_profit=float(total_profit),
            income_tax=float(tax),
        ),
    )
