"""Line charts as inline SVG, drawn on the server, for figures over time (charts.py draws the
bar charts). A line reads as a trend where a column of bars reads as a ranking; like the bars,
nothing is loaded or run in the browser, and every piece of text is escaped here.

A period with no value (a rate with nothing to divide by) leaves a gap in the line rather than
a fall to zero, which would look like a real figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 180
LEFT = 70  # px for the figures left of the plot
BOTTOM = 24  # px for the period labels under it
TOP = 10
RIGHT = 40  # room for the last period's label
X_LABELS = 6  # at most this many period labels, evenly spread, first and last included
STROKE = "#2f6f9f"

Value = Decimal | float | int | None


def line_chart(title: str, points: Sequence[tuple[str, Value]], shown: Sequence[str]) -> Markup:
    """One line through (label, value) in order, `shown` each value as the page formats it. The
    plot runs from 0 to the biggest value, which is written at the top of its axis."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [float(v) for _, v in points if v is not None]
    top = max(values, default=0.0)
    step = plot_w / max(len(points) - 1, 1)
    parts = [f'<svg class="chart trend" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}"><title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
             f'stroke="#8c959f"/>',
             f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>']
    if values:
        peak = shown[next(i for i, (_, v) in enumerate(points) if v is not None
                          and float(v) == top)]
        parts.append(f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">'
                     f'{escape(peak)}</text>')
    segments: list[list[str]] = [[]]
    for index, ((label, value), text) in enumerate(zip(points, shown, strict=True)):
        x = LEFT + index * step
        if _labelled(index, len(points)):
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                         f'{escape(label)}</text>')
        if value is None:
            segments.append([])
            continue
        y = TOP + plot_h - (plot_h * float(value) / top if top > 0 else 0)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{STROKE}">'
                     f'<title>{escape(label)}: {escape(text)}</title></circle>')
    parts.extend(f'<polyline points="{" ".join(line)}" fill="none" stroke="{STROKE}" '
                 f'stroke-width="2"/>' for line in segments if len(line) > 1)
    parts.append("</svg>")
    return Markup("".join(parts))


def _labelled(index: int, count: int) -> bool:
    """Whether period `index` of `count` gets its label under the axis: evenly spread, and
    the last always, with none so close before it that the two would overlap."""
    if count <= X_LABELS:
        return True
    every = -(-(count - 1) // (X_LABELS - 1))  # ceiling: never more labels than X_LABELS
    return index == count - 1 or (index % every == 0 and count - 1 - index >= every)
