"""The weekly report as one self-contained HTML file: inline CSS and SVG, no script, no network.

Every piece of text that comes from data (names, owners, stages, reasons, dataset names) goes
through html.escape, so a deal called `<script>…` is shown as text and never runs.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from dealscope.formatting import format_amount
from dealscope.i18n import t
from dealscope.report.document import WeeklyReport
from dealscope.report.outline import write_report
from dealscope.report.present import step_label
from dealscope.report.svg import grouped_bars_svg, waterfall_svg
from dealscope.report.week import week_label

STYLE = """
body{font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;
margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.05em}table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right}.note{color:#555;font-size:.9em}
dt{font-weight:bold;margin-top:.5em}dd{margin-left:1em}
"""


def _p(text: str, cls: str | None = None) -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def _table(frame: pd.DataFrame, empty_text: str) -> str:
    """An HTML table of a text frame; every header and cell escaped."""
    if frame.empty:
        return _p(empty_text, "note")
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    # Short text tables (≤ REPORT_ROW_LIMIT rows): joining their cells is layout, not analysis.
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _HtmlWriter:
    """outline.ReportWriter for one self-contained HTML document."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.out: list[str] = []

    def title(self, text: str) -> None:
        self.out += [
            f"<!DOCTYPE html><html lang='{escape(self.lang)}'><head><meta charset='utf-8'>",
            f"<title>{escape(text)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(text)}</h1>",
        ]

    def heading(self, text: str, level: int) -> None:
        self.out.append(f"<h{level}>{escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        self.out.append(_p(text))

    def remark(self, text: str) -> None:
        self.out.append(_p(text, "note"))

    footnote = footer = remark

    def table(self, frame: pd.DataFrame, empty_text: str, note: str | None = None) -> None:
        self.out.append(_table(frame, empty_text) + (_p(note, "note") if note else ""))

    def trend(self, document: WeeklyReport, title: str) -> None:
        series = document.series
        labels = {
            c: t(f"weekly.trend.{c}", self.lang) for c in ("new_count", "won_count", "lost_count")
        }
        self.heading(title, 2)
        self.out.append(
            grouped_bars_svg(series, labels, [week_label(w) for w in series["week"]], title)
        )

    def waterfall(self, steps: pd.DataFrame, currency: str | None, title: str) -> None:
        labels = [step_label(s, self.lang) for s in steps["step"]]
        texts = [format_amount(v, currency, self.lang) for v in steps["value"]]
        self.out.append(waterfall_svg(steps, labels, texts, title))

    def deals_heading(self, text: str) -> None:
        self.heading(text, 3)

    def definitions(self, title: str, terms: list[tuple[str, str]]) -> None:
        self.out.append(f"<h2>{escape(title)}</h2><dl>")
        self.out.extend(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in terms)
        self.out.append("</dl>")


def render_html(document: WeeklyReport, lang: str) -> str:
    """The whole report as an HTML string in `lang` (zh-CN or en)."""
    writer = _HtmlWriter(lang)
    write_report(document, lang, writer)
    return "\n".join([*writer.out, "</body></html>"])
