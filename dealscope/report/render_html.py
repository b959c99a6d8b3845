"""The weekly report as one self-contained HTML file: inline CSS and SVG, no script, no network.

Every piece of text that comes from data (names, owners, stages, reasons, dataset names) goes
through html.escape, so a deal called `<script>…` is shown as text and never runs.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from dealscope.formatting import format_amount
from dealscope.i18n import t
from dealscope.report.movements import MOVEMENT_KINDS
from dealscope.report.present import (
    BOTTLENECK_TABLE_COLUMNS,
    at_risk_table,
    at_risk_text,
    bottleneck_text,
    caption,
    comparison_text,
    definitions,
    kpi_text_table,
    more_note,
    step_label,
    text_table,
)
from dealscope.report.snapshot_diff import CATEGORIES
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


def _data_table(frame: pd.DataFrame, currency, lang: str) -> str:
    parts = [_table(text_table(frame, currency, lang), t("weekly.table.empty", lang))]
    note = more_note(frame, lang)
    if note:
        parts.append(_p(note, "note"))
    return "".join(parts)


def render_html(document: dict, lang: str) -> str:
    """The whole report as an HTML string in `lang` (zh-CN or en)."""
    meta = document["meta"]
    currency = meta["currency"]
    title = t("weekly.report_title", lang, dataset=meta["dataset"], week=meta["week"])
    out = [
        f"<!DOCTYPE html><html lang='{escape(lang)}'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _p(caption(document, lang)),
    ]
    if meta["other_currency"]:
        out.append(
            _p(
                t("weekly.other_currency", lang, count=meta["other_currency"], currency=currency),
                "note",
            )
        )
    if not meta["has_history"]:
        out.append(_p(t("weekly.no_history", lang), "note"))

    out.append(f"<h2>{escape(t('weekly.section.kpis', lang))}</h2>")
    out.append(_table(kpi_text_table(document, lang), ""))
    out.append(_p(t("weekly.note.silence", lang), "note"))
    series = document["series"]
    trend_title = t("weekly.section.trend", lang, weeks=len(series))
    out.append(f"<h2>{escape(trend_title)}</h2>")
    out.append(
        grouped_bars_svg(
            series,
            {c: t(f"weekly.trend.{c}", lang) for c in ("new_count", "won_count", "lost_count")},
            [week_label(w) for w in series["week"]],
            trend_title,
        )
    )

    out.append(f"<h2>{escape(t('weekly.section.bottleneck', lang))}</h2>")
    out.extend(_p(line) for line in bottleneck_text(document, lang))
    table = document["bottleneck"]["table"]
    if table is not None:
        out.append(_data_table(table.loc[:, list(BOTTLENECK_TABLE_COLUMNS)], currency, lang))

    out.append(f"<h2>{escape(t('weekly.section.at_risk', lang))}</h2>")
    out.extend(_p(line, "note") for line in at_risk_text(document, lang))
    out.append(
        _table(
            text_table(at_risk_table(document, lang), currency, lang),
            t("weekly.at_risk.none", lang),
        )
    )

    out.append(f"<h2>{escape(t('weekly.section.movements', lang))}</h2>")
    for kind in MOVEMENT_KINDS:
        frame = document["movements"][kind]
        out.append(f"<h3>{escape(t(f'weekly.movement.{kind}', lang))} ({len(frame)})</h3>")
        out.append(_data_table(frame, currency, lang))
    out.append(f"<h3>{escape(t('weekly.section.lost_reasons', lang))}</h3>")
    out.append(_data_table(document["lost_reasons"], currency, lang))

    out.append(f"<h2>{escape(t('weekly.section.comparison', lang))}</h2>")
    out.extend(_p(line, "note") for line in comparison_text(document, lang))
    comparison = document["comparison"]
    if comparison is not None:
        ccy = comparison["currency"]
        out.append(_data_table(comparison["summary"], ccy, lang))
        steps = comparison["waterfall"]
        labels = [step_label(s, lang) for s in steps["step"]]
        texts = [format_amount(v, ccy, lang) for v in steps["value"]]
        out.append(waterfall_svg(steps, labels, texts, t("weekly.comparison.waterfall", lang)))
        out.append(f"<h3>{escape(t('weekly.comparison.deals', lang))}</h3>")
        for category in CATEGORIES:
            deals = comparison["deals"][category]
            if deals.empty:
                continue
            out.append(f"<h3>{escape(t(f'weekly.cat.{category}', lang))} ({len(deals)})</h3>")
            out.append(_data_table(deals, ccy, lang))

    out.append(f"<h2>{escape(t('weekly.section.definitions', lang))}</h2><dl>")
    out.extend(
        f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>"
        for term, text in definitions(document, lang)
    )
    out.append("</dl>")
    out.append(
        _p(
            t("weekly.generated", lang, dataset=meta["dataset"], dataset_id=meta["dataset_id"]),
            "note",
        )
    )
    out.append("</body></html>")
    return "\n".join(out)
