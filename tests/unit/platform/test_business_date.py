"""One business date: Beijing days from ``domain.calendar``, nowhere computed another way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from domain.calendar import business_date

ROOT = Path(__file__).resolve().parents[3]
LAYERS = ("api", "activities", "workflows", "web", "services", "cli", "audit", "db")
OWN_CLOCK = re.compile(
    r"date\.today\(\)|datetime\.now\(\)\.date\(\)|now\(\)\.date\(\)|hours=8\)|_at\.date\(\)|"
    r"ZoneInfo\(\"Asia/Shanghai\"\)"
)


def test_a_beijing_day_starts_at_16_utc() -> None:
    assert business_date(datetime(2026, 12, 7, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 7)
    assert business_date(datetime(2026, 12, 7, 16, 0, tzinfo=UTC)) == date(2026, 12, 8)
    assert business_date(datetime(2026, 12, 7, 16, 0)) == date(2026, 12, 8)  # naive = UTC
    new_york = timezone(timedelta(hours=-5))
    assert business_date(datetime(2026, 12, 7, 11, 0, tzinfo=new_york)) == date(2026, 12, 8)


def test_no_layer_computes_its_own_business_date() -> None:
    """API, activities, workflows, pages, CLI and audit take the day from domain.calendar
    (inside workflows: ``business_date(workflow.now())``); a host-zone or UTC day, or a copied
    +8 h offset, is how a payoff quote and the payoff came to disagree about the day."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for layer in LAYERS
        if (ROOT / layer).is_dir()
        for path in sorted((ROOT / layer).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OWN_CLOCK.search(line) and "business-date-exempt" not in line
    ]
    assert found == []
