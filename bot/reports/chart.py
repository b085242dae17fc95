"""Horizontal bar charts as inline SVG (no script, no external fonts or images)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.messages.escape import one_line

ROW, LABEL_W, BAR_W, VALUE_W = 22, 170, 220, 50
PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2")


def bar_chart(title: str, items: Sequence[tuple[str, int]], colors: Sequence[str] = PALETTE) -> str:
    """One bar per (label, value), scaled to the largest; labels are untrusted text."""
    top = max((v for _, v in items), default=0) or 1
    height = ROW * len(items) + 30
    width = LABEL_W + BAR_W + VALUE_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart">',
        f"<title>{escape(one_line(title, 200))}</title>",
        f'<text x="0" y="14" class="chart-title">{escape(one_line(title, 200))}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 24 + i * ROW
        bar = round(BAR_W * value / top)
        color = colors[i % len(colors)]
        parts += [
            f'<text x="0" y="{y + 14}" class="chart-label">{escape(one_line(label, 20))}</text>',
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{bar}" height="{ROW - 6}" fill="{color}"/>',
            f'<text x="{LABEL_W + bar + 6}" y="{y + 14}" class="chart-value">{value}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
