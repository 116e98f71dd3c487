"""The shared jinja2 environment: template root, escaping, strict undefined names and filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import jinja2
import pytest

from documents.environment import date_zh, make_environment, money, percent, template_root


def test_template_root_is_the_repository_templates_folder() -> None:
    root = template_root()
    assert root.name == "templates"
    assert (root / "notify").is_dir()
    assert (root / "pdf" / "base.html").is_file()


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.56"), "¥1,234.56"),
        (Decimal("0"), "¥0.00"),
        (Decimal("1000000"), "¥1,000,000.00"),
        (Decimal("2.675"), "¥2.68"),  # half-up to the fen
        (Decimal("-1234.5"), "-¥1,234.50"),
        (500, "¥500.00"),
    ],
)
def test_money_formats_yuan_with_thousands_and_two_decimals(amount: Decimal, expected: str) -> None:
    assert money(amount) == expected


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        money(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (Decimal("0.109"), "10.90%"),
        (Decimal("0.0435"), "4.35%"),
        (Decimal("0.000125"), "0.01%"),  # half-up
        (Decimal("0"), "0.00%"),
        (Decimal("1"), "100.00%"),
    ],
)
def test_percent_formats_a_fraction_with_two_decimals(fraction: Decimal, expected: str) -> None:
    assert percent(fraction) == expected


def test_percent_refuses_floats() -> None:
    with pytest.raises(TypeError):
        percent(0.109)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 28), "2026年11月28日"),
        (date(2027, 1, 5), "2027年1月5日"),
    ],
)
def test_date_zh_writes_year_month_day_in_chinese(day: date, expected: str) -> None:
    assert date_zh(day) == expected


def test_filters_are_registered_in_the_environment() -> None:
    rendered = (
        make_environment()
        .from_string("{{ a | money }} {{ r | percent }} {{ d | date_zh }}")
        .render(a=Decimal("1234.56"), r=Decimal("0.109"), d=date(2026, 11, 28))
    )
    assert rendered == "¥1,234.56 10.90% 2026年11月28日"


def test_undefined_names_raise_instead_of_rendering_empty() -> None:
    with pytest.raises(jinja2.UndefinedError):
        make_environment().from_string("{{ missing }}").render()


def test_html_templates_are_autoescaped_and_text_templates_are_not() -> None:
    environment = make_environment()
    environment.loader = jinja2.DictLoader({"x.html": "{{ v }}", "x.txt": "{{ v }}"})
    assert environment.get_template("x.html").render(v="<b>&") == "&lt;b&gt;&amp;"
    assert environment.get_template("x.txt").render(v="<b>&") == "<b>&"
