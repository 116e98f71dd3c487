"""The workbench's pure parts: the financial spread, SVG charts, form parsing, redirects,
CSRF tokens, both languages and every template."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.datastructures import FormData

from adapters.tax.protocol import TaxFiling, TaxGrade, TaxProfile
from config.settings import Settings
from domain.labels import read_catalogue
from services.case_context import spread_filings
from web.admin import product_body
from web.charts import Point, bar_chart, histogram, line_chart
from web.core import PORTAL, TEMPLATES, csrf_token_for, safe_next
from web.formats import money, percent
from web.i18n import CATALOGUE_DIR, messages, translate
from web.officer import decision_from_form
from web.regulator import apr_bands

D = Decimal


def _profile(*filings: tuple[int, str, str, str]) -> TaxProfile:
    return TaxProfile(
        uscc="91350100M000100Y43",
        tax_grade=TaxGrade.B,
        filings=tuple(
            TaxFiling(year=y, revenue=D(r), profit=D(p), tax_paid=D(t)) for y, r, p, t in filings
        ),
    )


def test_the_spread_lists_years_oldest_first_with_margin_growth_and_tax_burden() -> None:
    spread = spread_filings(
        _profile((2025, "1500000", "90000", "45000"), (2024, "1200000", "60000", "30000"))
    )
    assert [y.year for y in spread] == [2024, 2025]
    assert spread[0].growth is None and spread[0].margin == D("0.0500")
    assert spread[1].growth == D("0.2500")  # 1.5M over 1.2M
    assert spread[1].margin == D("0.0600") and spread[1].tax_burden == D("0.0300")


def test_a_year_without_revenue_has_no_ratios_and_no_profile_no_spread() -> None:
    spread = spread_filings(_profile((2024, "0", "-5000", "0"), (2025, "100000", "1000", "10")))
    assert spread[0].margin is None and spread[0].tax_burden is None
    assert spread[1].growth is None  # no growth from zero
    assert spread_filings(None) == []


def test_bars_are_proportional_and_labels_escaped() -> None:
    svg = bar_chart(
        "t",
        [Point("<script>", D(200), "200"), Point("B", D(100), "100"), Point("C", D(0), "0")],
        "none",
    )
    widths = [D(w) for w in re.findall(r'class="bar" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_charts_say_so() -> None:
    assert "no data" in bar_chart("t", [], "no data")
    assert "no data" in histogram("t", [Point("a", D(0), "0")], "no data")
    assert "no data" in line_chart("t", [], "no data")


def test_histogram_and_line_mark_every_value() -> None:
    svg = histogram("t", [Point("a", D(3), "3"), Point("b", D(0), "0"), Point("c", D(1), "1")], "")
    assert svg.count('class="bar"') == 2  # an empty bucket keeps its label, not a bar
    assert ">b</text>" in svg
    line = line_chart("t", [Point(f"d{i}", D(i) / 100, f"{i}%") for i in range(5)], "")
    assert line.count('class="point"') == 5 and "<polyline" in line


def test_apr_bands_put_each_loan_in_one_band() -> None:
    bands = apr_bands([D("0.0399"), D("0.04"), D("0.0514"), D("0.12"), D("0.30")])
    assert [int(p.value) for p in bands] == [1, 2, 0, 0, 0, 2]
    assert bands[0].label == "<4%" and bands[-1].label == "≥12%"


def _form(**fields: str) -> FormData:
    return FormData(list(fields.items()))


def test_decision_rates_are_typed_in_percent() -> None:
    body, errors = decision_from_form(
        _form(action="counter_offer", amount="250,000", rate="4.35", term_months="18")
    )
    assert not errors and body is not None
    assert body.rate == D("0.043500") and body.amount == D("250000")
    assert body.term_months == 18 and not body.approves


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"action": "approve", "rate": "abc"}, "rate"),
        ({"action": "approve", "term_months": "1.5"}, "term_months"),
        ({"action": "approve", "rate": "NaN"}, "rate"),
        ({"action": "sign_everything"}, "action"),
        ({"action": "approve", "rate": "150"}, "rate"),  # 150 % is not a rate
    ],
)
def test_bad_decision_fields_are_named(fields: dict[str, str], field: str) -> None:
    body, errors = decision_from_form(_form(**fields))
    assert body is None and any(e["field"] == field for e in errors), errors


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/web/inbox?kind=credit_approval", "/web/inbox?kind=credit_approval"),
        ("//evil.example/web/", "/web/"),
        ("https://evil.example/web/inbox", "/web/"),
        ("/api/v1/tasks", "/web/"),
        ("/web\\@evil", "/web/"),
        ("", "/web/"),
    ],
)
def test_only_workbench_pages_are_followed_after_login(url: str, expected: str) -> None:
    assert safe_next(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/portal/messages?page=2", "/portal/messages?page=2"),
        ("/web/inbox", "/web/inbox"),  # the portal's login sends staff to their workbench
        ("/portalx/evil", "/portal/"),
        ("https://evil.example/portal/", "/portal/"),
        ("", "/portal/"),
    ],
)
def test_the_portal_follows_only_our_pages_after_login(url: str, expected: str) -> None:
    assert safe_next(url, PORTAL) == expected


def test_csrf_tokens_depend_on_the_nonce_and_the_secret() -> None:
    one = Settings(jwt_secret="a" * 48)
    two = Settings(jwt_secret="b" * 48)
    assert csrf_token_for(one, "n1") == csrf_token_for(one, "n1")
    assert csrf_token_for(one, "n1") != csrf_token_for(one, "n2")
    assert csrf_token_for(one, "n1") != csrf_token_for(two, "n1")


def test_product_form_percentages_become_fractions() -> None:
    body = product_body(
        {
            "code": "X-1",
            "pricing_kind": "fixed",
            "fixed_rate_min": "3.85",
            "fixed_rate_max": "12",
            "upfront_fee_rate": "0.5",
            "repayment_methods": ["equal_principal"],
            "eligible_industries": "C，I",
            "amount_min": "100,000",
        }
    )
    assert body["pricing"] == {
        "kind": "fixed",
        "fixed_rate_min": "0.0385",
        "fixed_rate_max": "0.12",
    }
    assert body["upfront_fee_rate"] == "0.005" and body["amount_min"] == "100000"
    assert body["eligible_industries"] == ["C", "I"]


def test_money_and_percent_formats() -> None:
    assert money(D("1234.565")) == "¥1,234.57" and money(None) == "—"
    assert percent(D("0.042")) == "4.20%" and percent("0.0514") == "5.14%"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    zh_keys = {key for (_, key) in read_catalogue(CATALOGUE_DIR / "ui.zh.po")}
    en_keys = {key for (_, key) in read_catalogue(CATALOGUE_DIR / "ui.en.po")}
    assert zh_keys == en_keys, zh_keys ^ en_keys
    for key, (zh, en) in messages().items():
        assert zh.strip() and en.strip(), key
        assert _fields(zh) == _fields(en), key
    assert translate("inbox.title", "en") == "Task inbox"
    assert translate("inbox.title", "zh") == "任务收件箱"


def test_every_template_compiles_and_uses_only_known_messages() -> None:
    root = Path(TEMPLATES.loader.searchpath[0])  # type: ignore[union-attr]
    used: set[str] = set()
    for site in ("web", "portal"):
        for path in (root / site).glob("*.html"):
            TEMPLATES.get_template(f"{site}/{path.name}")
            used |= set(re.findall(r"(?<![\w.])t\('([a-z_.]+)'", path.read_text()))
    prefixes = {key for key in used if key.endswith(".")}  # t('kind.' ~ task.kind)
    known = set(messages())
    assert all(any(m.startswith(p) for m in known) for p in prefixes), prefixes
    assert used - prefixes <= known, used - prefixes - known
