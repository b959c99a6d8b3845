"""Tiny inline-SVG charts for the HTML report: they need no JavaScript and no network to open.

Every label is passed through html.escape (SVG text is XML); numbers are formatted by the caller.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from dealscope.charts import palette

COLOURS = {"new_count": palette.PRIMARY, "won_count": palette.WON, "lost_count": palette.LOST}
UP, DOWN, TOTAL = palette.RISE, palette.FALL, palette.PRIMARY
FONT = "font-family='sans-serif' font-size='11'"


def grouped_bars_svg(
    frame: pd.DataFrame, series: dict[str, str], x_labels: list[str], title: str
) -> str:
    """Grouped bars: one group per row of `frame`, one bar per column in `series` (column → label).

    `x_labels` names the groups (e.g. ISO weeks). Returns an <svg> element as text.
    """
    width, height, left, bottom, top = 640, 240, 40, 40, 30
    groups = len(frame)
    columns = list(series)
    values = frame.loc[:, columns].to_numpy(dtype="float64") if groups else np.zeros((0, 0))
    peak = float(np.nanmax(values)) if values.size and np.isfinite(values).any() else 0.0
    peak = peak if peak > 0 else 1.0
    plot_w, plot_h = width - left - 10, height - top - bottom
    group_w = plot_w / max(groups, 1)
    bar_w = group_w * 0.8 / max(len(columns), 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(title)}'>",
        f"<text x='{left}' y='16' {FONT} font-weight='bold'>{escape(title)}</text>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' stroke='#999'/>",
    ]
    for g in range(groups):
        x0 = left + g * group_w + group_w * 0.1
        for s, column in enumerate(columns):
            value = values[g, s]
            h = 0.0 if not np.isfinite(value) else value / peak * plot_h
            x = x0 + s * bar_w
            parts.append(
                f"<rect x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w * 0.9:.1f}' "
                f"height='{h:.1f}' fill='{COLOURS.get(column, TOTAL)}'>"
                f"<title>{escape(x_labels[g])} · {escape(series[column])}: {value:,.0f}</title></rect>"
            )
        parts.append(
            f"<text x='{x0 + group_w * 0.4:.1f}' y='{top + plot_h + 14}' {FONT} "
            f"text-anchor='middle'>{escape(x_labels[g][-3:])}</text>"
        )
    for s, column in enumerate(columns):  # legend
        x = left + s * 110
        parts.append(
            f"<rect x='{x}' y='{height - 14}' width='10' height='10' "
            f"fill='{COLOURS.get(column, TOTAL)}'/>"
            f"<text x='{x + 14}' y='{height - 5}' {FONT}>{escape(series[column])}</text>"
        )
    parts.append(f"<text x='4' y='{top + 10}' {FONT}>{peak:,.0f}</text></svg>")
    return "".join(parts)


def waterfall_svg(
    steps: pd.DataFrame, labels: list[str], value_texts: list[str], title: str
) -> str:
    """A waterfall from pipeline_waterfall's frame (step, kind, value, low, high).

    `labels` and `value_texts` are the translated step names and formatted values, in row order.
    """
    width, height, left, bottom, top = 720, 300, 10, 70, 30
    n = len(steps)
    peak = float(steps["high"].max()) if n else 0.0
    peak = peak if peak > 0 else 1.0
    plot_w, plot_h = width - left - 10, height - top - bottom
    slot = plot_w / max(n, 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(title)}'>",
        f"<text x='{left}' y='16' {FONT} font-weight='bold'>{escape(title)}</text>",
    ]
    lows = steps["low"].to_numpy(dtype="float64")
    highs = steps["high"].to_numpy(dtype="float64")
    values = steps["value"].to_numpy(dtype="float64")
    kinds = steps["kind"].tolist()
    for i in range(n):  # one bar per waterfall step (≤ 9), not per data row
        y_top = top + plot_h - highs[i] / peak * plot_h
        h = max((highs[i] - lows[i]) / peak * plot_h, 0.5)
        colour = TOTAL if kinds[i] == "total" else (UP if values[i] >= 0 else DOWN)
        x = left + i * slot + slot * 0.15
        parts.append(
            f"<rect x='{x:.1f}' y='{y_top:.1f}' width='{slot * 0.7:.1f}' height='{h:.1f}' "
            f"fill='{colour}'><title>{escape(labels[i])}: {escape(value_texts[i])}</title></rect>"
            f"<text x='{x + slot * 0.35:.1f}' y='{y_top - 3:.1f}' {FONT} "
            f"text-anchor='middle'>{escape(value_texts[i])}</text>"
            f"<text x='{x + slot * 0.35:.1f}' y='{top + plot_h + 14}' {FONT} "
            f"text-anchor='middle'>{escape(labels[i][:14])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
