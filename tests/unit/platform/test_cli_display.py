"""How the CLI shows values to people (words for codes, ¥, rates, Beijing time, aligned
Chinese columns) and how it checks what they typed: every bad value at once, by option."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cli.display import beijing, cell, label, money, percent, reasons, width
from cli.inputs import Inputs
from domain.passwords import PASSWORD_RULES, check_password_strength
from domain.schedule import RepaymentMethod


def test_display_formats_money_rates_and_beijing_time() -> None:
    assert money(Decimal("1234567.8")) == "¥1,234,567.80"
    assert money("-25.5") == "-¥25.50"
    assert money(None) == "—"
    assert percent("0.041234") == "4.12%"
    assert beijing("2030-01-31T16:30:00Z") == "2030-02-01 00:30"  # past midnight in Beijing
    assert beijing("2030-01-31T16:30:00") == "2030-02-01 00:30"  # naive: the API's UTC


def test_display_labels_codes_and_leaves_an_unknown_one_visible() -> None:
    assert label("application_stage", "disbursed") == "已放款 Disbursed"
    assert label("material", "bank_statements") == "近六个月银行流水 Six months of bank statements"
    assert label("role", "officer") == "信贷审批员 Credit officer"
    assert label("application_stage", "no_such_stage") == "no_such_stage"
    assert label("reason", "model.request_to_revenue") == (
        "申请金额相对营业收入偏高 Request high against revenue"
    )
    assert reasons("licence.revoked,bureau.current_overdue") == (
        "营业执照已吊销；征信显示当前存在逾期 / "
        "Business licence revoked; Currently overdue at the credit bureau"
    )
    assert reasons("请补充说明") == "请补充说明"


def test_cells_pad_by_terminal_columns() -> None:
    assert width("已放款 ok") == 9
    assert cell("已放款", 8) == "已放款  "
    assert cell("toolong", 3) == "toolong"


def test_inputs_report_every_bad_value_by_option() -> None:
    inputs = Inputs()
    assert inputs.money("300000", "--amount") == Decimal("300000")
    assert inputs.report() is None
    inputs.money("-1", "--amount")
    inputs.whole("0", "--term", 1, 600)
    inputs.choice("monthly", "--method", RepaymentMethod, "repayment_method")
    inputs.rate("4.5", "--rate")
    inputs.day("31/01/2030", "--until")
    report = inputs.report()
    assert report is not None
    lines = report.splitlines()
    assert lines[0] == "5 处输入有误 / 5 values are wrong"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  --amount",
        "  --term",
        "  --method",
        "  --rate",
        "  --until",
    ]
    assert all(" / " in line for line in lines[1:])  # Chinese and English, each line


def test_a_single_bad_value_is_one_line(tmp_path: Path) -> None:
    inputs = Inputs()
    inputs.file(tmp_path / "nope.pdf", "FILE")
    assert inputs.report() == (
        f"FILE: 文件不存在：{tmp_path / 'nope.pdf'} / no such file: {tmp_path / 'nope.pdf'}"
    )


def test_the_password_rules_shown_are_the_rules_checked() -> None:
    zh, en = PASSWORD_RULES
    assert "10–128" in zh and "10–128" in en
    assert check_password_strength("Abcdefgh1") != []  # nine characters: too short
    assert check_password_strength("abcdefghij1") != []  # two kinds of character only
    assert check_password_strength("Abcdefghij1") == []  # ten, three kinds: as the rules say
