"""Financial statements in the small-enterprise templates (小企业会计准则: 资产负债表 会小企01表,
利润表 会小企02表) read from a sheet's rows into figures in yuan, and checked: assets equal
liabilities plus equity, totals add up from their parts, the unit (元, 千元, 万元) taken from the
header. Pure: the rows come from a reader (``documents.spreadsheets``), no I/O here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.errors import FieldIssue, issue

# Line key → (the line's name in the template, in English). Names are matched after
# normalising (spaces, numbering like "一、", "加：", parentheses such as "（或股东权益）").
LINES: dict[str, tuple[str, str]] = {
    "current_assets": ("流动资产合计", "total current assets"),
    "non_current_assets": ("非流动资产合计", "total non-current assets"),
    "total_assets": ("资产总计", "total assets"),
    "current_liabilities": ("流动负债合计", "total current liabilities"),
    "non_current_liabilities": ("非流动负债合计", "total non-current liabilities"),
    "total_liabilities": ("负债合计", "total liabilities"),
    "total_equity": ("所有者权益合计", "total owners' equity"),
    "liabilities_and_equity": ("负债和所有者权益总计", "total liabilities and owners' equity"),
    "revenue": ("营业收入", "operating revenue"),
    "operating_cost": ("营业成本", "operating cost"),
    "operating_profit": ("营业利润", "operating profit"),
    "total_profit": ("利润总额", "total profit"),
    "income_tax": ("所得税费用", "income tax expense"),
    "net_profit": ("净利润", "net profit"),
}
BALANCE_SHEET_LINES = (
    "total_assets",
    "total_liabilities",
    "total_equity",
    "liabilities_and_equity",
)
INCOME_STATEMENT_LINES = ("revenue", "operating_cost", "total_profit", "net_profit")
_BY_NAME = {name: key for key, (name, _) in LINES.items()}
# Other spellings of the same lines in templates in use.
_BY_NAME.update(
    {
        "负债及所有者权益总计": "liabilities_and_equity",
        "负债和股东权益总计": "liabilities_and_equity",
        "股东权益合计": "total_equity",
        "营业总收入": "revenue",
        "主营业务收入": "revenue",
        "所得税": "income_tax",
    }
)
UNITS = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000)}
# Header cells over the column of the current period's figures (the first one wins).
_CURRENT = ("期末余额", "期末数", "本年累计金额", "本年累计数", "本期金额", "本期数", "本年金额")
_LINE_NUMBER = "行次"
_FEN = Decimal("0.01")
_TOLERANCE = Decimal("0.01")  # in the statement's own unit: one fen of a statement in yuan
_UNIT = re.compile(r"(?:单位|金额单位)\s*[:：]?\s*(人民币)?\s*(万元|千元|元)")
_YEAR = re.compile(r"(20\d\d)\s*年")
_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+、|\d+[.、]|[（(]\d+[)）]|加[:：]|减[:：]|其中[:：])+"
)
_PARENTHESES = re.compile(r"[（(][^)）]*[)）]")
# (total, parts, code): a total line and the lines it adds up from (a part prefixed "-" is
# subtracted). Checked only when the total and every part are on the sheet.
_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("total_assets", ("current_assets", "non_current_assets")),
    ("total_liabilities", ("current_liabilities", "non_current_liabilities")),
    ("liabilities_and_equity", ("total_liabilities", "total_equity")),
    ("net_profit", ("total_profit", "-income_tax")),
)


def line_name(text: str) -> str:
    """A cell's text as a line name: spaces, numbering and parenthesised notes removed."""
    compact = re.sub(r"\s+", "", text).replace("：", ":")
    compact = _PARENTHESES.sub("", compact)
    return _NUMBERING.sub("", compact.replace(":", "：")).rstrip("：:")


def parse_number(value: Any) -> Decimal | None:
    """A cell's amount: numbers as they are, text like "1,234.56" or "(12.00)" (negative);
    None for an empty cell, a dash or any other text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = re.sub(r"[\s,，¥￥]", "", str(value))
    negative = text.startswith(("(", "（")) and text.endswith((")", "）"))
    text = text.strip("()（）")
    if not text or text in ("-", "—", "--"):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return -number if negative else number


@dataclass(frozen=True, slots=True)
class StatementReading:
    """What a statement file said: its unit, the period's year if stated, the figures found
    (in yuan, by line key) and every problem, each naming its line. ``parsed`` is False when
    no line of either template was found (``problems`` then say why)."""

    unit: str
    year: int | None
    figures: dict[str, Decimal]
    problems: list[FieldIssue] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return bool(self.figures)

    @property
    def balances(self) -> bool:
        return self.parsed and not self.problems

    def as_json(self) -> dict[str, Any]:
        """The reading as stored with the material (amounts as strings: exact)."""
        return {
            "unit": self.unit,
            "year": self.year,
            "figures": {key: str(value) for key, value in self.figures.items()},
            "problems": [
                {
                    "field": p.field,
                    "code": p.code,
                    "message_zh": p.message_zh,
                    "message_en": p.message_en,
                }
                for p in self.problems
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatementReading:
        return cls(
            unit=str(data.get("unit", "元")),
            year=data.get("year"),
            figures={k: Decimal(v) for k, v in dict(data.get("figures", {})).items()},
            problems=[FieldIssue(**p) for p in data.get("problems", [])],
        )


def _text_cells(rows: Sequence[Sequence[Any]]) -> list[str]:
    return [str(c) for row in rows for c in row if isinstance(c, str) and c.strip()]


def detect_unit(rows: Sequence[Sequence[Any]]) -> str:
    """The unit the header states ("单位：万元"); yuan when none is stated."""
    for text in _text_cells(rows):
        found = _UNIT.search(re.sub(r"\s+", "", text))
        if found:
            return found.group(2)
    return "元"


def detect_year(rows: Sequence[Sequence[Any]]) -> int | None:
    """The year of the period the header names ("2025 年 12 月 31 日"), if any."""
    for text in _text_cells(rows)[:40]:
        found = _YEAR.search(text)
        if found:
            return int(found.group(1))
    return None


def _current_columns(rows: Sequence[Sequence[Any]]) -> tuple[set[int], set[int]]:
    """The columns headed by a current-period heading, and those headed 行次."""
    current: set[int] = set()
    numbering: set[int] = set()
    for row in rows:
        for col, cell in enumerate(row):
            if not isinstance(cell, str):
                continue
            text = re.sub(r"\s+", "", cell)
            if text == _LINE_NUMBER:
                numbering.add(col)
            elif any(text.startswith(heading) for heading in _CURRENT):
                current.add(col)
    return current, numbering


def _value_right_of(
    row: Sequence[Any], col: int, current: set[int], numbering: set[int]
) -> Decimal | None:
    """The line's current figure: in the first current-period column right of its name,
    or (no such heading) the first amount right of it that is not the line number."""
    for right in range(col + 1, len(row)):
        cell = row[right]
        if isinstance(cell, str) and line_name(cell) in _BY_NAME:
            return None  # the next line's name: this one has no figure
        if current and right not in current:
            continue
        if not current and right in numbering:
            continue
        number = parse_number(cell)
        if number is not None or current:
            return number
    return None


def read_statement(rows: Sequence[Sequence[Any]]) -> StatementReading:
    """The figures and problems of a balance sheet and/or income statement laid out as rows
    (one sheet, or several sheets' rows one after the other)."""
    unit = detect_unit(rows)
    scale = UNITS[unit]
    current, numbering = _current_columns(rows)
    raw: dict[str, Decimal] = {}
    for row in rows:
        for col, cell in enumerate(row):
            if not isinstance(cell, str):
                continue
            key = _BY_NAME.get(line_name(cell))
            if key is None or key in raw:
                continue
            value = _value_right_of(row, col, current, numbering)
            if value is not None:
                raw[key] = value
    problems = _missing(raw) + _unbalanced(raw, unit)
    if not raw:
        problems = [
            issue(
                "file",
                "statement.not_recognised",
                "未识别到小企业会计准则资产负债表或利润表的项目（如“资产总计”“净利润”）",
                "No line of the small-enterprise balance sheet or income statement was found "
                "(such as 资产总计 total assets or 净利润 net profit)",
            )
        ]
    figures = {key: (value * scale).quantize(_FEN) for key, value in raw.items()}
    return StatementReading(unit, detect_year(rows), figures, problems)


def _line_field(key: str) -> str:
    return f"statement.{key}"


def _missing(raw: dict[str, Decimal]) -> list[FieldIssue]:
    """The key lines of a template the sheet is but lacks (a balance sheet without its
    equity total cannot be checked)."""
    problems: list[FieldIssue] = []
    for lines in (BALANCE_SHEET_LINES, INCOME_STATEMENT_LINES):
        if not any(key in raw for key in lines):
            continue
        for key in lines:
            if key not in raw:
                zh, en = LINES[key]
                problems.append(
                    issue(
                        _line_field(key),
                        "statement.line_missing",
                        f"报表缺少“{zh}”行或其本期金额",
                        f"The statement lacks the line “{zh}” ({en}) or its current figure",
                    )
                )
    return problems


def _unbalanced(raw: dict[str, Decimal], unit: str) -> list[FieldIssue]:
    """Assets against liabilities and equity, and every total against its parts (amounts
    named in the statement's own unit)."""

    def _amount(value: Decimal) -> str:
        return f"{value:,.2f} {unit}"

    problems: list[FieldIssue] = []
    assets, both = raw.get("total_assets"), raw.get("liabilities_and_equity")
    if assets is not None and both is not None and abs(assets - both) > _TOLERANCE:
        problems.append(
            issue(
                _line_field("total_assets"),
                "statement.unbalanced",
                f"资产负债表不平：资产总计 {_amount(assets)} ≠ 负债和所有者权益总计 "
                f"{_amount(both)}（差 {_amount(assets - both)}）",
                f"The balance sheet does not balance: total assets (资产总计) {_amount(assets)} "
                f"≠ total liabilities and equity {_amount(both)} "
                f"(off by {_amount(assets - both)})",
            )
        )
    for total, parts in _SUMS:
        names = [p.lstrip("-") for p in parts]
        if total not in raw or any(n not in raw for n in names):
            continue
        expected = sum((-raw[p[1:]] if p.startswith("-") else raw[p] for p in parts), Decimal(0))
        if abs(raw[total] - expected) <= _TOLERANCE:
            continue
        zh, en = LINES[total]
        parts_zh = " ".join(
            ("− " if p.startswith("-") else "+ ") + LINES[p.lstrip("-")][0] for p in parts
        ).lstrip("+ ")
        problems.append(
            issue(
                _line_field(total),
                "statement.total_mismatch",
                f"“{zh}”{_amount(raw[total])} 不等于 {parts_zh} 之和 {_amount(expected)}",
                f"“{zh}” ({en}) {_amount(raw[total])} is not the sum of its parts "
                f"({parts_zh}) {_amount(expected)}",
            )
        )
    return problems


# Statement line → the tax filing's figure it is compared with.
TAX_COMPARED = {"revenue": "revenue", "total_profit": "profit"}


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A statement figure against the tax filing's: both, and by what share they differ."""

    line: str
    statement: Decimal
    tax: Decimal
    share: Decimal | None
    flagged: bool


def compare_with_tax(
    figures: dict[str, Decimal], tax: dict[str, Decimal], tolerated_share: Decimal
) -> list[Disagreement]:
    """Revenue and profit as stated against the tax filing of the same year; flagged when
    they differ by more than ``tolerated_share`` of the tax figure (any difference when the
    tax figure is zero)."""
    compared: list[Disagreement] = []
    for line, tax_key in TAX_COMPARED.items():
        if line not in figures or tax_key not in tax:
            continue
        stated, filed = figures[line], tax[tax_key]
        difference = abs(stated - filed)
        share = (difference / abs(filed)).quantize(Decimal("0.0001")) if filed else None
        flagged = difference > tolerated_share * abs(filed) if filed else difference > 0
        compared.append(Disagreement(line, stated, filed, share, flagged))
    return compared
