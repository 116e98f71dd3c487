"""Financial statements in the small-enterprise templates read into figures and checked:
balanced sheets pass, an unbalanced one is refused on the line that does not balance, units
(万元) are applied, missing lines named; a file that is no statement says why."""

from __future__ import annotations

from decimal import Decimal

from documents.spreadsheets import read_statement_file
from domain.materials import CSV, XLSX, check_material, material_content_type, unknown_kind
from domain.statements import compare_with_tax, line_name, parse_number, read_statement
from tests.materials_support import (
    EXE,
    JPEG,
    PDF,
    PNG,
    balance_sheet_rows,
    csv_bytes,
    income_statement_rows,
    xlsx,
)


def test_a_balanced_xlsx_balance_sheet_and_income_statement_are_read_in_yuan() -> None:
    reading = read_statement_file(xlsx(balance_sheet_rows(), income_statement_rows()), XLSX)
    assert reading.problems == []
    assert reading.unit == "元" and reading.year == 2025
    assert reading.figures["total_assets"] == Decimal("1000000")
    assert reading.figures["total_equity"] == Decimal("600000")
    assert reading.figures["liabilities_and_equity"] == Decimal("1000000")
    assert reading.figures["revenue"] == Decimal("1200000")
    assert reading.figures["net_profit"] == Decimal("120000")
    assert reading.balances


def test_units_in_wan_yuan_are_multiplied_out() -> None:
    rows = balance_sheet_rows("万元", equity="60.00", total="100.00")
    rows[3][2], rows[3][6] = "60.00", "30.00"  # current assets, current liabilities
    rows[4][2], rows[4][6] = "40.00", "10.00"
    rows[5][6] = "40.00"
    reading = read_statement(rows)
    assert reading.figures["total_equity"] == Decimal("600000.00")
    assert reading.unit == "万元"
    assert reading.figures["total_assets"] == Decimal("1000000.00")
    assert reading.problems == []


def test_an_unbalanced_sheet_is_refused_on_the_line_that_does_not_balance() -> None:
    reading = read_statement_file(csv_bytes(balance_sheet_rows(equity="500000.00"), "gbk"), CSV)
    fields = {(p.field, p.code) for p in reading.problems}
    # liabilities 400,000 + equity 500,000 ≠ the 1,000,000 stated as their total
    assert ("statement.liabilities_and_equity", "statement.total_mismatch") in fields
    problem = next(p for p in reading.problems if p.code == "statement.total_mismatch")
    assert "负债和所有者权益总计" in problem.message_zh and "total" in problem.message_en


def test_assets_against_liabilities_and_equity_names_total_assets() -> None:
    rows = balance_sheet_rows()
    rows[7][2] = "1100000.00"  # assets total only
    reading = read_statement(rows)
    unbalanced = [p for p in reading.problems if p.code == "statement.unbalanced"]
    assert [p.field for p in unbalanced] == ["statement.total_assets"]
    assert "资产总计" in unbalanced[0].message_zh and "100,000.00" in unbalanced[0].message_zh


def test_a_missing_line_is_named() -> None:
    rows = [r for r in balance_sheet_rows() if "所有者权益（或股东权益）合计" not in r]
    reading = read_statement(rows)
    assert [(p.field, p.code) for p in reading.problems] == [
        ("statement.total_equity", "statement.line_missing")
    ]
    assert "所有者权益合计" in reading.problems[0].message_zh


def test_a_utf8_csv_income_statement_with_thousands_separators() -> None:
    rows = income_statement_rows(revenue="1,200,000.00")
    reading = read_statement_file(csv_bytes(rows), CSV)
    assert reading.figures["revenue"] == Decimal("1200000.00")
    assert reading.problems == []


def test_a_sheet_that_is_no_statement_says_why() -> None:
    reading = read_statement_file(
        csv_bytes([["日期", "摘要", "金额"], ["2025-01-02", "货款", 1]]), CSV
    )
    assert not reading.parsed
    assert [p.code for p in reading.problems] == ["statement.not_recognised"]
    broken = read_statement_file(b"PK\x03\x04garbage", XLSX)
    assert [p.code for p in broken.problems] == ["statement.unreadable"]


def test_line_names_and_numbers_as_templates_write_them() -> None:
    assert line_name("负债和所有者权益（或股东权益）总计") == "负债和所有者权益总计"
    assert line_name("减：营业成本") == "营业成本"
    assert line_name("一、营业收入") == "营业收入"
    assert parse_number("(1,234.50)") == Decimal("-1234.50")
    assert parse_number("-") is None


def test_revenue_and_profit_differing_from_the_tax_filing_beyond_the_share_are_flagged() -> None:
    figures = {"revenue": Decimal("1200000"), "total_profit": Decimal("160000")}
    tax = {"revenue": Decimal("1000000"), "profit": Decimal("155000")}
    compared = {d.line: d for d in compare_with_tax(figures, tax, Decimal("0.10"))}
    assert compared["revenue"].flagged and compared["revenue"].share == Decimal("0.2000")
    assert not compared["total_profit"].flagged


def test_materials_are_judged_on_their_bytes() -> None:
    book = xlsx(balance_sheet_rows())
    assert material_content_type(PDF) == "application/pdf"
    assert material_content_type(JPEG) == "image/jpeg"
    assert material_content_type(PNG) == "image/png"
    assert material_content_type(book) == XLSX
    assert material_content_type(csv_bytes(balance_sheet_rows(), "gbk")) == CSV
    assert material_content_type(EXE) is None  # an .exe renamed .csv or .pdf
    assert material_content_type(b"PK\x03\x04" + b"\x00" * 30) is None  # a zip, not a workbook
    assert [p.code for p in check_material(len(EXE), EXE)] == ["upload.unsupported_type"]
    assert [p.code for p in check_material(21 * 1024 * 1024, PDF)] == ["upload.too_large"]
    assert [p.field for p in unknown_kind("tax_returns")] == ["kind"]
