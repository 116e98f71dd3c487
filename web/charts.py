"""Charts as inline SVG rendered on the server (no script, no CDN): horizontal bars, a line
over time and a histogram. Values are Decimals; text is escaped by the caller's template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

WIDTH = 560
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Point:
    """One labelled value (a bar, a point of a line, a bucket of a histogram)."""

    label: str
    value: Decimal
    shown: str  # the value as printed next to the mark


def _f(value: Decimal) -> str:
    return f"{float(value):.1f}"


def _short(text: str, limit: int = 14) -> str:
    """Long labels are cut (the full one stays in the mark's tooltip)."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _empty(title: str, message: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 80" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="{WIDTH // 2}" y="45" text-anchor="middle" fill="#667085">'
        f"{escape(message)}</text></svg>"
    )


def bar_chart(title: str, points: Sequence[Point], empty: str) -> str:
    """Horizontal bars, longest first as given, each labelled with its value."""
    if not points:
        return _empty(title, empty)
    row, label_w, value_w = 26, 190, 130
    height = row * len(points) + 10
    top = max((p.value for p in points), default=_ZERO) or Decimal(1)
    span = Decimal(WIDTH - label_w - value_w)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, p in enumerate(points):
        y = 5 + i * row
        w = max(Decimal(1), span * p.value / top) if p.value > 0 else _ZERO
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="12" '
            f'fill="#1d2733">{escape(_short(p.label))}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{_f(w)}" height="{row - 8}" '
            f'fill="#0b5cad"><title>{escape(p.label)}: {escape(p.shown)}</title></rect>'
            f'<text x="{_f(label_w + w + 6)}" y="{y + 17}" font-size="12" fill="#344054">'
            f"{escape(p.shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(title: str, points: Sequence[Point], empty: str) -> str:
    """Vertical bars over ordered buckets (their labels under the axis)."""
    if not points or all(p.value == 0 for p in points):
        return _empty(title, empty)
    height, bottom, left = 220, 40, 36
    top_value = max(p.value for p in points) or Decimal(1)
    slot = Decimal(WIDTH - left - 10) / len(points)
    plot_h = Decimal(height - bottom - 20)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" y2="{height - bottom}" '
        f'stroke="#98a2b3"/>'
    ]
    for i, p in enumerate(points):
        x = Decimal(left) + slot * i
        h = plot_h * p.value / top_value
        y = Decimal(height - bottom) - h
        cx = x + slot / 2
        if p.value > 0:
            parts.append(
                f'<rect class="bar" x="{_f(x + 3)}" y="{_f(y)}" width="{_f(slot - 6)}" '
                f'height="{_f(h)}" fill="#0b5cad"><title>{escape(p.label)}: '
                f"{escape(p.shown)}</title></rect>"
                f'<text x="{_f(cx)}" y="{_f(y - 4)}" text-anchor="middle" font-size="11" '
                f'fill="#344054">{escape(p.shown)}</text>'
            )
        parts.append(
            f'<text x="{_f(cx)}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="#1d2733">{escape(p.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, points: Sequence[Point], empty: str, as_percent: bool = True) -> str:
    """A line through the points in order (dates on the x axis), each point marked."""
    if not points:
        return _empty(title, empty)
    height, bottom, left, right = 220, 40, 50, 20
    top_value = max(p.value for p in points)
    ceiling = top_value * Decimal("1.2") if top_value > 0 else Decimal("0.01")
    plot_w = Decimal(WIDTH - left - right)
    plot_h = Decimal(height - bottom - 20)
    step = plot_w / (len(points) - 1) if len(points) > 1 else _ZERO

    def xy(i: int, value: Decimal) -> tuple[Decimal, Decimal]:
        x = Decimal(left) + (step * i if len(points) > 1 else plot_w / 2)
        return x, Decimal(height - bottom) - plot_h * value / ceiling

    coords = [xy(i, p.value) for i, p in enumerate(points)]
    path = " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)
    axis_top = f"{float(ceiling * 100):.2f}%" if as_percent else f"{float(ceiling):.2f}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" y2="{height - bottom}" '
        f'stroke="#98a2b3"/><line x1="{left}" y1="20" x2="{left}" y2="{height - bottom}" '
        f'stroke="#98a2b3"/>'
        f'<text x="{left - 4}" y="24" text-anchor="end" font-size="10" fill="#667085">'
        f"{axis_top}</text>"
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="10" '
        f'fill="#667085">0</text>'
        f'<polyline class="line" points="{path}" fill="none" stroke="#b3261e" stroke-width="2"/>'
    ]
    label_every = max(1, len(points) // 6)
    for i, ((x, y), p) in enumerate(zip(coords, points, strict=True)):
        parts.append(
            f'<circle class="point" cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="#b3261e">'
            f"<title>{escape(p.label)}: {escape(p.shown)}</title></circle>"
        )
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{_f(x)}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="10" fill="#1d2733">{escape(p.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
