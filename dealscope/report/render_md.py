"""The weekly report as Markdown (for chat tools, wikis and e-mail), in either language.

Data text is escaped for Markdown: every character with a Markdown meaning gets a backslash, and
`<`/`>`/`&` become HTML entities (renderers that allow inline HTML would otherwise run `<img
onerror=…>`), so `[x](http://evil)` stays literal text and cannot become a link.
"""

from __future__ import annotations

import pandas as pd

from dealscope.formatting import escape_markdown as escape_md
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
    trend_text_table,
)
from dealscope.report.snapshot_diff import CATEGORIES


# Characters that start markup anywhere in a line in CommonMark / GFM: emphasis, code spans, link
# and image brackets, table cells, strikethrough. With `[` and `]` escaped no link or image can form,
# so `(`, `)` and `!` stay readable; `#`, `.`, `-`, `+` only matter at a line start, and every line
# here starts with our own text.
def _table(frame: pd.DataFrame, empty_text: str) -> str:
    if frame.empty:
        return f"_{escape_md(empty_text)}_\n"
    head = "| " + " | ".join(escape_md(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    # Short text tables (≤ REPORT_ROW_LIMIT rows): joining their cells is layout, not analysis.
    rows = [
        "| " + " | ".join(escape_md(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join([head, rule, *rows]) + "\n"


def _data_table(frame: pd.DataFrame, currency, lang: str) -> str:
    text = _table(text_table(frame, currency, lang), t("weekly.table.empty", lang))
    note = more_note(frame, lang)
    return text + (f"\n_{escape_md(note)}_\n" if note else "")


def render_markdown(document: dict, lang: str) -> str:
    """The whole report as a Markdown string in `lang` (zh-CN or en)."""
    meta = document["meta"]
    currency = meta["currency"]
    out = [
        f"# {escape_md(t('weekly.report_title', lang, dataset=meta['dataset'], week=meta['week']))}",
        escape_md(caption(document, lang)),
    ]
    if meta["other_currency"]:
        out.append(
            escape_md(
                t("weekly.other_currency", lang, count=meta["other_currency"], currency=currency)
            )
        )
    if not meta["has_history"]:
        out.append(escape_md(t("weekly.no_history", lang)))
    out.append(f"## {escape_md(t('weekly.section.kpis', lang))}")
    out.append(_table(kpi_text_table(document, lang), ""))
    out.append(f"_{escape_md(t('weekly.note.silence', lang))}_")
    out.append(f"### {escape_md(t('weekly.section.trend', lang, weeks=len(document['series'])))}")
    out.append(_table(trend_text_table(document, lang), ""))

    out.append(f"## {escape_md(t('weekly.section.bottleneck', lang))}")
    out.extend(escape_md(line) for line in bottleneck_text(document, lang))
    table = document["bottleneck"]["table"]
    if table is not None:
        out.append(_data_table(table.loc[:, list(BOTTLENECK_TABLE_COLUMNS)], currency, lang))

    out.append(f"## {escape_md(t('weekly.section.at_risk', lang))}")
    out.extend(escape_md(line) for line in at_risk_text(document, lang))
    out.append(
        _table(
            text_table(at_risk_table(document, lang), currency, lang),
            t("weekly.at_risk.none", lang),
        )
    )

    out.append(f"## {escape_md(t('weekly.section.movements', lang))}")
    for kind in MOVEMENT_KINDS:
        frame = document["movements"][kind]
        out.append(f"### {escape_md(t(f'weekly.movement.{kind}', lang))} ({len(frame)})")
        out.append(_data_table(frame, currency, lang))
    out.append(f"### {escape_md(t('weekly.section.lost_reasons', lang))}")
    out.append(_data_table(document["lost_reasons"], currency, lang))

    out.append(f"## {escape_md(t('weekly.section.comparison', lang))}")
    out.extend(escape_md(line) for line in comparison_text(document, lang))
    comparison = document["comparison"]
    if comparison is not None:
        ccy = comparison["currency"]
        out.append(_data_table(comparison["summary"], ccy, lang))
        out.append(f"### {escape_md(t('weekly.comparison.waterfall', lang))}")
        steps = comparison["waterfall"]
        waterfall = pd.DataFrame(
            {
                t("weekly.col.step", lang): [step_label(s, lang) for s in steps["step"]],
                t("weekly.col.count", lang): steps["count"].astype(str),
                t("weekly.step.value", lang): [format_amount(v, ccy, lang) for v in steps["value"]],
            }
        )
        out.append(_table(waterfall, ""))
        for category in CATEGORIES:
            deals = comparison["deals"][category]
            if deals.empty:
                continue
            out.append(f"### {escape_md(t(f'weekly.cat.{category}', lang))} ({len(deals)})")
            out.append(_data_table(deals, ccy, lang))

    out.append(f"## {escape_md(t('weekly.section.definitions', lang))}")
    out.extend(
        f"- **{escape_md(term)}**: {escape_md(text)}" for term, text in definitions(document, lang)
    )
    out.append(
        "\n"
        + escape_md(
            t("weekly.generated", lang, dataset=meta["dataset"], dataset_id=meta["dataset_id"])
        )
    )
    return "\n\n".join(out) + "\n"
