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
from dealscope.report.document import WeeklyReport
from dealscope.report.outline import write_report
from dealscope.report.present import step_label, trend_text_table


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


class _MarkdownWriter:
    """outline.ReportWriter for Markdown: headings by '#', tables as GFM pipes, notes in italics."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.out: list[str] = []

    def title(self, text: str) -> None:
        self.heading(text, 1)

    def heading(self, text: str, level: int) -> None:
        self.out.append(f"{'#' * level} {escape_md(text)}")

    def paragraph(self, text: str) -> None:
        self.out.append(escape_md(text))

    remark = paragraph

    def footnote(self, text: str) -> None:
        self.out.append(f"_{escape_md(text)}_")

    def table(self, frame: pd.DataFrame, empty_text: str, note: str | None = None) -> None:
        self.out.append(_table(frame, empty_text) + (f"\n_{escape_md(note)}_\n" if note else ""))

    def trend(self, document: WeeklyReport, title: str) -> None:
        self.heading(title, 3)
        self.table(trend_text_table(document, self.lang), "")

    def waterfall(self, steps: pd.DataFrame, currency: str | None, title: str) -> None:
        lang = self.lang
        self.heading(title, 3)
        rows = pd.DataFrame(
            {
                t("weekly.col.step", lang): [step_label(s, lang) for s in steps["step"]],
                t("weekly.col.count", lang): steps["count"].astype(str),
                t("weekly.step.value", lang): [
                    format_amount(v, currency, lang) for v in steps["value"]
                ],
            }
        )
        self.table(rows, "")

    def deals_heading(self, text: str) -> None:
        """Markdown goes straight to the per-category headings below the waterfall table."""

    def definitions(self, title: str, terms: list[tuple[str, str]]) -> None:
        self.heading(title, 2)
        self.out.extend(f"- **{escape_md(term)}**: {escape_md(text)}" for term, text in terms)

    def footer(self, text: str) -> None:
        self.out.append("\n" + escape_md(text))


def render_markdown(document: WeeklyReport, lang: str) -> str:
    """The whole report as a Markdown string in `lang` (zh-CN or en)."""
    writer = _MarkdownWriter(lang)
    write_report(document, lang, writer)
    return "\n\n".join(writer.out) + "\n"
