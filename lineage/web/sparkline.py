"""A metric's recent values as a small SVG drawn on the server, with its
alerts' thresholds as dashed lines: no chart library, every label escaped."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from lineage.observability.formatting import format_number, format_timestamp

WIDTH, HEIGHT = 560, 120
PAD_LEFT, PAD_RIGHT, PAD_Y = 8, 150, 12


def sparkline_svg(
    points: Sequence[tuple[datetime, float]], thresholds: Sequence[tuple[str, float]]
) -> SafeString:
    """`points` oldest first; `thresholds` as (alert name, threshold)."""
    if not points:
        return SafeString("")
    values = [value for _, value in points] + [limit for _, limit in thresholds]
    low, high = min(values), max(values)
    span = (high - low) or 1.0

    def y(value: float) -> float:
        return round(HEIGHT - PAD_Y - (value - low) / span * (HEIGHT - 2 * PAD_Y), 1)

    plot = WIDTH - PAD_LEFT - PAD_RIGHT
    step = plot / max(len(points) - 1, 1)
    xy = [(round(PAD_LEFT + n * step, 1), y(value)) for n, (_, value) in enumerate(points)]
    line = " ".join(f"{x},{yy}" for x, yy in xy)
    dots = format_html_join(
        "",
        '<circle class="dot" cx="{}" cy="{}" r="2.2"><title>{} at {}</title></circle>',
        ((x, yy, format_number(value), format_timestamp(at)) for (x, yy), (at, value) in zip(xy, points, strict=True)),
    )
    limits = format_html_join(
        "",
        '<line class="threshold" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/>'
        '<text class="threshold-label" x="{3}" y="{4}">{5} {6}</text>',
        (
            (PAD_LEFT, PAD_LEFT + plot, y(limit), PAD_LEFT + plot + 6, y(limit) + 4, name[:18], format_number(limit))
            for name, limit in thresholds
        ),
    )
    last_x, last_y = xy[-1]
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-label="{label}">{limits}<polyline class="line" points="{line}"/>{dots}'
        '<text x="{lx}" y="{ly}">{last}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=f"Last {len(points)} values, from {format_number(points[0][1])} to {format_number(points[-1][1])}",
        limits=limits,
        line=line,
        dots=dots,
        lx=last_x + 6,
        ly=last_y + 4,
        last=format_number(points[-1][1]),
    )
