"""The weekly report's sections, in order, written once for every output format.

`write_report` walks the document and hands each block to a `ReportWriter`; the HTML and Markdown
renderers are writers that only escape and lay the blocks out, so both formats always carry the
same sections, sentences and tables. Strings passed to a writer are raw data text.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from dealscope.i18n import t
from dealscope.report.document import WeeklyReport
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
    text_table,
)
from dealscope.report.snapshot_diff import CATEGORIES


class ReportWriter(Protocol):
    """One output format. Text arguments are unescaped; tables are text frames."""

    def title(self, text: str) -> None: ...
    def heading(self, text: str, level: int) -> None: ...
    def paragraph(self, text: str) -> None: ...
    def remark(self, text: str) -> None:
        """A secondary sentence (data caveats, empty-state explanations)."""

    def footnote(self, text: str) -> None:
        """A note on the table just written."""

    def table(self, frame: pd.DataFrame, empty_text: str, note: str | None = None) -> None: ...
    def trend(self, document: WeeklyReport, title: str) -> None: ...
    def waterfall(self, steps: pd.DataFrame, currency: str | None, title: str) -> None: ...
    def deals_heading(self, text: str) -> None:
        """The heading above the per-category deal lists of the comparison (a format may omit it)."""

    def definitions(self, title: str, terms: list[tuple[str, str]]) -> None: ...
    def footer(self, text: str) -> None: ...


def write_report(document: WeeklyReport, lang: str, writer: ReportWriter) -> None:
    """Write every section of the weekly report `document` in `lang` to `writer`."""
    meta = document.meta
    currency = meta.currency
    writer.title(t("weekly.report_title", lang, dataset=meta.dataset, week=meta.week))
    writer.paragraph(caption(document, lang))
    if meta.other_currency:
        writer.remark(t("app.other_currency", lang, count=meta.other_currency, currency=currency))
    if not meta.has_history:
        writer.remark(t("weekly.no_history", lang))

    writer.heading(t("weekly.section.kpis", lang), 2)
    writer.table(kpi_text_table(document, lang), "")
    writer.footnote(t("weekly.note.silence", lang))
    writer.trend(document, t("weekly.section.trend", lang, weeks=len(document.series)))

    writer.heading(t("weekly.section.bottleneck", lang), 2)
    for line in bottleneck_text(document, lang):
        writer.paragraph(line)
    table = document.bottleneck.table
    if table is not None:
        _data_table(writer, table.loc[:, list(BOTTLENECK_TABLE_COLUMNS)], currency, lang)

    writer.heading(t("weekly.section.at_risk", lang), 2)
    for line in at_risk_text(document, lang):
        writer.remark(line)
    writer.table(
        text_table(at_risk_table(document, lang), currency, lang), t("weekly.at_risk.none", lang)
    )

    writer.heading(t("weekly.section.movements", lang), 2)
    for kind in MOVEMENT_KINDS:
        frame = document.movements[kind]
        writer.heading(f"{t(f'weekly.movement.{kind}', lang)} ({len(frame)})", 3)
        _data_table(writer, frame, currency, lang)
    writer.heading(t("weekly.section.lost_reasons", lang), 3)
    _data_table(writer, document.lost_reasons, currency, lang)

    writer.heading(t("weekly.section.comparison", lang), 2)
    for line in comparison_text(document, lang):
        writer.remark(line)
    comparison = document.comparison
    if comparison is not None:
        ccy = comparison.currency
        _data_table(writer, comparison.summary, ccy, lang)
        writer.waterfall(comparison.waterfall, ccy, t("weekly.comparison.waterfall", lang))
        writer.deals_heading(t("weekly.comparison.deals", lang))
        for category in CATEGORIES:
            deals = comparison.deals[category]
            if not deals.empty:
                writer.heading(f"{t(f'weekly.cat.{category}', lang)} ({len(deals)})", 3)
                _data_table(writer, deals, ccy, lang)

    writer.definitions(t("weekly.section.definitions", lang), definitions(document, lang))
    writer.footer(t("weekly.generated", lang, dataset=meta.dataset, dataset_id=meta.dataset_id))


def _data_table(writer: ReportWriter, frame: pd.DataFrame, currency, lang: str) -> None:
    """A data table as text (at most REPORT_ROW_LIMIT rows) with its 'n more' note."""
    writer.table(
        text_table(frame, currency, lang), t("weekly.table.empty", lang), more_note(frame, lang)
    )
