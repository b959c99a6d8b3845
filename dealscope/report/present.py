"""Turn the report document into translated, formatted text tables and sentences.

Shared by the HTML and Markdown renderers (which only escape and lay out) so both say exactly the
same thing. Returned strings are raw data text: escaping is the renderer's job.
"""

from __future__ import annotations

import pandas as pd

from dealscope.formatting import (
    MISSING,
    format_amount,
    format_count,
    format_days,
    format_delta,
    format_pct,
)
from dealscope.i18n import t
from dealscope.report.bottleneck import MIN_RESOLVED_TRAILING, MIN_RESOLVED_WEEK
from dealscope.report.document import WeeklyReport
from dealscope.report.week import week_label

# Report tables show at most this many rows each; the page offers the full lists as downloads.
REPORT_ROW_LIMIT = 20
AMOUNT_COLUMNS = {"amount", "value", "old_amount", "new_amount", "expected_lost_value"}
DATE_COLUMNS = {
    "moved_at",
    "closed_at",
    "created_at",
    "old_expected_close_at",
    "new_expected_close_at",
}
DAY_COLUMNS = {"days_in_stage", "stall_days", "days_silent"}
PCT_COLUMNS = {"rate", "ci_low", "ci_high", "trailing_rate", "p_lost"}
BOOL_COLUMNS = {"stalled", "silent"}


def format_value(value, kind: str, currency: str | None, lang: str) -> str:
    """One KPI value as text by kind (count / amount / pct)."""
    if kind == "amount":
        return format_amount(None if pd.isna(value) else float(value), currency, lang)
    if kind == "pct":
        return format_pct(None if pd.isna(value) else float(value))
    if pd.isna(value):
        return "—"
    return f"{float(value):,.1f}" if not float(value).is_integer() else format_count(value)


def _change(now, before, kind: str, currency: str | None, lang: str) -> str:
    """The change as the page's card shows it ('+2.6 pp' / '+2.6 个百分点'); '0' when none."""
    if pd.isna(now) or pd.isna(before):
        return MISSING
    return format_delta(float(now) - float(before), kind, currency, lang) or "0"


def kpi_text_table(document: WeeklyReport, lang: str) -> pd.DataFrame:
    """The KPI table as text: metric, this week, previous week, change, trailing average."""
    currency = document.meta.currency
    kpis = document.kpis
    rows = []
    for row in kpis.itertuples(index=False):  # 15 fixed rows, not data rows
        rows.append(
            {
                t("weekly.col.metric", lang): t(f"weekly.kpi.{row.metric}", lang),
                t("weekly.col.this_week", lang): format_value(
                    row.this_week, row.kind, currency, lang
                ),
                t("weekly.col.previous_week", lang): format_value(
                    row.previous_week, row.kind, currency, lang
                ),
                t("weekly.col.change", lang): _change(
                    row.this_week, row.previous_week, row.kind, currency, lang
                ),
                t("weekly.col.trailing_avg", lang): format_value(
                    row.trailing_avg, row.kind, currency, lang
                ),
            }
        )
    return pd.DataFrame(rows)


def trend_text_table(document: WeeklyReport, lang: str) -> pd.DataFrame:
    """The weekly series as text: week, created, won, lost (the HTML report draws it instead)."""
    series = document.series
    columns = ("new_count", "won_count", "lost_count")
    out = pd.DataFrame({t("weekly.col.week", lang): series["week"].map(week_label)})
    for column in columns:
        out[t(f"weekly.trend.{column}", lang)] = series[column].astype("int64").astype(str)
    return out


def translate_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """`frame` with its column names translated (weekly.col.<name>), values untouched."""
    return frame.rename(columns={c: t(f"weekly.col.{c}", lang) for c in frame.columns})


def text_table(
    frame: pd.DataFrame, currency: str | None, lang: str, limit: int | None = REPORT_ROW_LIMIT
) -> pd.DataFrame:
    """A data table as text (amounts, dates, days, percentages, yes/no) with translated headers.

    Formatted per column; the element-wise formatting runs over at most `limit` rows (reports
    show short tables). Cells stay raw data text: the renderer escapes them.
    """
    shown = frame.head(limit) if limit is not None else frame
    out = pd.DataFrame(index=shown.index)
    yes, no = t("weekly.yes", lang), t("weekly.no", lang)
    for column in shown.columns:
        values = shown[column]
        if column in AMOUNT_COLUMNS:
            text = values.map(
                lambda v: format_amount(None if pd.isna(v) else float(v), currency, lang)
            )
        elif column in DATE_COLUMNS:
            text = pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("—")
        elif column in DAY_COLUMNS:
            text = values.map(lambda v: format_days(None if pd.isna(v) else float(v), lang))
        elif column in PCT_COLUMNS:
            text = values.map(lambda v: format_pct(None if pd.isna(v) else float(v)))
        elif column in BOOL_COLUMNS:
            text = values.map({True: yes, False: no}).fillna("—")
        elif column == "category":
            text = values.map(lambda c: t(f"weekly.cat.{c}", lang))
        else:
            text = values.astype("string").fillna("—")
        out[column] = text.astype(str)
    return translate_columns(out, lang).reset_index(drop=True)


def more_note(frame: pd.DataFrame, lang: str, limit: int = REPORT_ROW_LIMIT) -> str | None:
    """'Showing 20 of 74 …' when a table was cut for the report, else None."""
    if len(frame) <= limit:
        return None
    return t("weekly.table.more", lang, shown=limit, total=len(frame))


def caption(document: WeeklyReport, lang: str) -> str:
    """The report's opening sentence: week, dates, dataset, as-of date, currency."""
    meta = document.meta
    return t(
        "weekly.caption",
        lang,
        week=meta.week,
        start=meta.week_start.date(),
        end=meta.week_end.date(),
        dataset=meta.dataset,
        as_of=meta.as_of.strftime("%Y-%m-%d %H:%M"),
        trailing=meta.trailing_weeks,
        currency=meta.currency or "—",
    )


def bottleneck_text(document: WeeklyReport, lang: str) -> list[str]:
    """Sentences describing the bottleneck stage (or why there is none)."""
    section = document.bottleneck
    if section.status == "no_history":
        return [t("weekly.bottleneck.no_history", lang)]
    found = section.stage
    if found is None:
        return [t("weekly.bottleneck.none", lang)]
    return [
        t(
            "weekly.bottleneck.found",
            lang,
            stage=found["stage"],
            rate=format_pct(found["rate"]),
            advanced=found["advanced"],
            resolved=found["resolved"],
            low=format_pct(found["ci_low"]),
            high=format_pct(found["ci_high"]),
            trailing=format_pct(found["trailing_rate"]),
            weeks=document.meta.trailing_weeks,
            change=f"{found['change'] * 100:+.1f}",
        ),
        t(
            "weekly.bottleneck.outside"
            if found["outside_interval"]
            else "weekly.bottleneck.inside",
            lang,
        ),
    ]


BOTTLENECK_TABLE_COLUMNS = (
    "stage",
    "advanced",
    "resolved",
    "rate",
    "ci_low",
    "ci_high",
    "trailing_rate",
    "trailing_resolved",
)


def at_risk_text(document: WeeklyReport, lang: str) -> list[str]:
    """The at-risk section's caption and the model note."""
    section = document.at_risk
    meta = document.meta
    if not (meta.has_history or meta.has_activity):
        return [
            t("weekly.at_risk.no_signals", lang),
            t(f"weekly.risk.{section.model_status}", lang),
        ]
    return [
        t(
            "weekly.at_risk.caption",
            lang,
            moment=(section.moment - pd.Timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M"),
            flagged=section.flagged,
            open=section.open_deals,
        ),
        t(f"weekly.risk.{section.model_status}", lang),
    ]


def at_risk_table(document: WeeklyReport, lang: str) -> pd.DataFrame:
    """The at-risk table for `lang`: model columns (p_lost, expected lost value, tier, reasons
    rendered in `lang`) only when a model scored the deals; tier names as on the Risk page."""
    from dealscope.report.risk_present import reasons_by_deal, tier_labels

    table = document.at_risk.table
    model_only = ["p_lost", "expected_lost_value", "tier"]
    if not document.at_risk.model:
        return table.drop(columns=model_only)
    out = table.copy()
    words = reasons_by_deal(document.at_risk.reasons, lang).set_index("opportunity_id")
    out["reasons"] = out["opportunity_id"].map(words["reasons"]).fillna("")
    out["tier"] = table["tier"].map(tier_labels(lang))
    return out


def comparison_text(document: WeeklyReport, lang: str) -> list[str]:
    """The comparison section's caption lines (snapshots, swap note, unpriced note)."""
    section = document.comparison
    if section is None:
        return [t("weekly.comparison.none", lang)]
    lines = [
        t(
            "weekly.comparison.caption",
            lang,
            old=section.old.dataset,
            old_id=section.old.dataset_id,
            old_as_of=section.old.as_of.strftime("%Y-%m-%d %H:%M"),
            new=section.new.dataset,
            new_id=section.new.dataset_id,
            new_as_of=section.new.as_of.strftime("%Y-%m-%d %H:%M"),
        )
    ]
    if section.swapped:
        lines.append(t("weekly.comparison.swapped", lang))
    if section.unpriced:
        lines.append(t("weekly.comparison.unpriced", lang, count=section.unpriced))
    return lines


def step_label(step: str, lang: str) -> str:
    """A waterfall step's label: start / end, or a change category."""
    return (
        t(f"weekly.step.{step}", lang)
        if step in ("start", "end")
        else t(f"weekly.cat.{step}", lang)
    )


def definitions(document: WeeklyReport, lang: str) -> list[tuple[str, str]]:
    """(term, definition) pairs for the report's footnotes."""
    weeks = document.meta.trailing_weeks
    pairs = [
        (t("weekly.kpi.new_count", lang), t("weekly.def.new_count", lang)),
        (t("weekly.kpi.won_count", lang), t("weekly.def.won_count", lang)),
        (t("weekly.kpi.win_rate", lang), t("weekly.def.win_rate", lang)),
        (t("weekly.kpi.pipeline_value", lang), t("weekly.def.pipeline_value", lang)),
        (t("weekly.kpi.advances", lang), t("weekly.def.advances", lang)),
        (t("weekly.kpi.newly_stalled", lang), t("weekly.def.newly_stalled", lang)),
        (
            t("weekly.kpi.newly_silent", lang),
            t("weekly.def.newly_silent", lang, days=document.meta.silence_days),
        ),
        (
            t("weekly.kpi.trigger_rate", lang),
            t("weekly.def.trigger_rate", lang),
        ),
        (t("weekly.col.trailing_avg", lang), t("weekly.def.trailing", lang, weeks=weeks)),
        (
            t("weekly.section.bottleneck", lang),
            t(
                "weekly.def.bottleneck",
                lang,
                weeks=weeks,
                min_week=MIN_RESOLVED_WEEK,
                min_trailing=MIN_RESOLVED_TRAILING,
            ),
        ),
        (t("weekly.section.comparison", lang), t("weekly.def.comparison", lang)),
    ]
    return pairs
