"""The demo's material files: a balance sheet and an income statement in the small-enterprise
templates (资产负债表 会小企01表, 利润表 会小企02表) as one XLSX workbook, and a business
plan PDF."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook

BUSINESS_PLAN_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
    b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)


def statements_xlsx(year: int, revenue_wan: Decimal, *, balanced: bool = True) -> bytes:
    """A workbook in 万元 with both statements of ``year``; unbalanced, the equity total
    is 20 万元 short of what the liabilities-and-equity total says."""
    book = Workbook()
    sheet = book.active
    sheet.title = "资产负债表"
    equity = Decimal("600.00") if balanced else Decimal("580.00")
    for row in (
        ["资产负债表", "", "", "", "", "", "", "会小企01表"],
        ["编制单位：演示贸易有限公司", "", f"{year}年12月31日", "", "", "", "单位：万元", ""],
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
        ["流动资产合计", 15, 620.0, 540.0, "流动负债合计", 41, 310.0, 280.0],
        ["非流动资产合计", 29, 380.0, 360.0, "非流动负债合计", 46, 90.0, 100.0],
        ["", "", "", "", "负债合计", 47, 400.0, 380.0],
        ["", "", "", "", "所有者权益（或股东权益）合计", 52, float(equity), 520.0],
        ["资产总计", 30, 1000.0, 900.0, "负债和所有者权益（或股东权益）总计", 53, 1000.0, 900.0],
    ):
        sheet.append(row)
    income = book.create_sheet("利润表")
    cost = revenue_wan * Decimal("0.78")
    total_profit = revenue_wan - cost - Decimal("60")
    tax = (total_profit * Decimal("0.25")).quantize(Decimal("0.01"))
    for row in (
        ["利润表", "", "", "会小企02表"],
        ["编制单位：演示贸易有限公司", f"{year}年", "", "单位：万元"],
        ["项目", "行次", "本年累计金额", "本月金额"],
        ["一、营业收入", 1, float(revenue_wan), float(revenue_wan / 12)],
        ["减：营业成本", 2, float(cost), float(cost / 12)],
        ["三、利润总额", 30, float(total_profit), 0.0],
        ["减：所得税费用", 31, float(tax), 0.0],
        ["四、净利润", 32, float(total_profit - tax), 0.0],
    ):
        income.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
