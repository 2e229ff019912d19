"""Bar charts as inline SVG, drawn on the server: the console runs no script and loads nothing
from elsewhere, and an SVG in the page prints and scales on a tablet as the tables do.

Labels come from receipts (shop and product names as a branch read them), so every piece of
text is escaped here; the result is marked safe for Jinja only after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

ROW = 22  # px per bar
LABEL = 180  # px for the labels left of the bars
BARS = 360  # px for the longest bar
VALUE = 110  # px for the figure right of each bar
LABEL_CHARS = 26  # longer labels are cut, with the whole one in the bar's tooltip


def bar_chart(title: str, bars: Sequence[tuple[str, Decimal]], shown: Sequence[str]) -> Markup:
    """Horizontal bars, one per (label, value), with `shown` the value as the page formats it.
    The biggest value fills the width; a chart of zeros draws no bars but keeps its labels."""
    top = max((value for _, value in bars), default=Decimal(0))
    height = ROW * max(len(bars), 1)
    width = LABEL + BARS + VALUE
    parts = [f'<svg class="chart" role="img" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
             f'<title>{escape(title)}</title>']
    for index, ((label, value), text) in enumerate(zip(bars, shown, strict=True)):
        y = index * ROW
        length = int(BARS * value / top) if top > 0 and value > 0 else 0
        cut = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        parts.append(
            f'<g><title>{escape(label)}: {escape(text)}</title>'
            f'<text x="{LABEL - 6}" y="{y + ROW - 7}" text-anchor="end">{escape(cut)}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{length}" height="{ROW - 6}"/>'
            f'<text x="{LABEL + length + 6}" y="{y + ROW - 7}">{escape(text)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
