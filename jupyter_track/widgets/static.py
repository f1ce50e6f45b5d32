"""Static stand-ins for the widgets: escaped HTML tables and small SVG line charts.

They are what nbconvert's HTML (without widget state) and GitHub's notebook viewer show, so they
must not need JavaScript, must escape every user-written string, and must be cheap: they are
built each time a widget is displayed. The SVG is a thumbnail of the data the widget draws,
not a second definition of the chart (the charts live in :mod:`jupyter_track.charts`).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..formatting import format_value

# Tableau 10, as Vega's default categorical scheme, so the thumbnail matches the chart.
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#e45756",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
)


fmt = format_value  # one formatting rule: jupyter_track.formatting (and src/format.ts)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str = "") -> str:
    """An escaped HTML table."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return (
        f'<table class="jp-Track-static">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def line_chart_svg(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    width: int = 480,
    height: int = 180,
    x_title: str = "step",
    y_title: str = "",
) -> str:
    """A small SVG line chart: one polyline per series, min/max labels, a legend."""
    e = html.escape
    points = [p for pts in series.values() for p in pts if math.isfinite(p[0] + p[1])]
    left, right, top, bottom = 56, 12, 10, 34
    legend_h = 16 * min(len(series), 6)
    total_h = height + legend_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" font-family="sans-serif" font-size="10">'
    ]
    if points:
        x0 = min(p[0] for p in points)
        x1 = max(p[0] for p in points)
        y0 = min(p[1] for p in points)
        y1 = max(p[1] for p in points)
        xs = (x1 - x0) or 1.0
        ys = (y1 - y0) or 1.0
        pw, ph = width - left - right, height - top - bottom

        def px(x: float) -> float:
            return left + (x - x0) / xs * pw

        def py(y: float) -> float:
            return top + ph - (y - y0) / ys * ph

        parts.append(
            f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{e(fmt(y1))}</text>'
            f'<text x="{left - 4}" y="{top + ph}" text-anchor="end">{e(fmt(y0))}</text>'
            f'<text x="{left}" y="{top + ph + 12}">{e(fmt(x0))}</text>'
            f'<text x="{left + pw}" y="{top + ph + 12}" text-anchor="end">{e(fmt(x1))}</text>'
            f'<text x="{left + pw / 2}" y="{top + ph + 26}" text-anchor="middle">'
            f"{e(x_title)}</text>"
        )
        if y_title:
            parts.append(
                f'<text transform="translate(12 {top + ph / 2}) rotate(-90)" '
                f'text-anchor="middle">{e(y_title)}</text>'
            )
        for i, pts in enumerate(series.values()):
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts if math.isfinite(x + y))
            color = PALETTE[i % len(PALETTE)]
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>'
            )
    else:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#888">'
            "no points yet</text>"
        )
    for i, name in enumerate(list(series)[:6]):
        y = height + 12 + 16 * i
        color = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{left}" y="{y - 8}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 14}" y="{y + 1}">{e(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_img(svg: str, alt: str) -> str:
    """The SVG as an ``<img>`` with a data URI (kept by HTML sanitizers that drop inline SVG)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}"/>'
