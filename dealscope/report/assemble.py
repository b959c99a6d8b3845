"""Assembles the weekly report document (dealscope/report/document.py) from a dataset."""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.kpis import main_currency
from dealscope.metrics.stall import DEFAULT_SILENCE_DAYS, compute_stage_intervals
from dealscope.model import Dataset
from dealscope.report.at_risk import model_risk_at, rank_at_risk
from dealscope.report.bottleneck import (
    compare_stage_conversion,
    find_bottleneck,
    funnel_stage_conversion_by_week,
)
from dealscope.report.document import (
    AtRiskSection,
    BottleneckSection,
    ComparisonSection,
    ReportMeta,
    SnapshotInfo,
    WeeklyReport,
)
from dealscope.report.movements import compute_movements, summarise_lost_reasons
from dealscope.report.snapshot_diff import (
    CATEGORIES,
    category_deals,
    category_summary,
    diff_snapshots,
    pipeline_waterfall,
    unpriced_count,
)
from dealscope.report.week import (
    TRAILING_WEEKS,
    WEEK,
    compute_kpi_table,
    compute_week_series,
    flags_at,
    intervals_as_of,
    resolve_week,
    week_label,
)

# Columns the movement and comparison deal lists keep in reports (the page shows the same).
COMPARISON_DEAL_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "old_stage",
    "new_stage",
    "old_amount",
    "new_amount",
    "old_expected_close_at",
    "new_expected_close_at",
    "value",
)


def build_weekly_report(
    dataset: Dataset,
    week: str | None = None,
    compare_to: Dataset | None = None,
    *,
    opportunities: pd.DataFrame | None = None,
    stage_events: pd.DataFrame | None = None,
    silence_days: float = DEFAULT_SILENCE_DAYS,
    risk_model: tuple | None = None,
    risk_status: str = "no_model",
) -> WeeklyReport:
    """The weekly report of `dataset` for ISO week `week` ('YYYY-Www'; default the last complete).

    `opportunities` / `stage_events` default to the whole dataset (the page passes its
    segment-filtered frames). `compare_to` adds the two-snapshot comparison. `risk_model` is the
    (estimator, card[, follow-up log]) the caller loaded for this dataset (None: rule signals only, and
    `risk_status` says why: no_model / unavailable / training). Raises WeekError for a
    malformed week or one outside the data.
    """
    opps = dataset.opportunities if opportunities is None else opportunities
    events = dataset.stage_events if stage_events is None else stage_events
    stages = dataset.stages
    as_of = dataset.as_of
    monday = resolve_week(week, opps, as_of)
    end = monday + WEEK
    currency = main_currency(opps)
    first_week = monday - TRAILING_WEEKS * WEEK
    weeks = [w for w in pd.date_range(first_week, monday, freq="7D")]
    # One pass over the events: the interval table at the as-of date (the trigger rate's stall
    # lines); the week's end and every earlier week end are derived from it.
    at_as_of = compute_stage_intervals(events, stages, as_of)
    intervals = intervals_as_of(at_as_of, end)
    series = compute_week_series(
        opps, events, stages, weeks, currency, silence_days, intervals, as_of, at_as_of
    )
    movements = compute_movements(opps, intervals, stages, monday, currency)
    has_history = not events.empty
    closed = opps["status"].ne("open")
    closes_dated = not closed.any() or bool(opps.loc[closed, "closed_at"].notna().any())

    return WeeklyReport(
        meta=ReportMeta(
            dataset=dataset.name,
            dataset_id=dataset.id,
            as_of=as_of,
            week=week_label(monday),
            week_start=monday,
            week_end=end - pd.Timedelta(days=1),
            currency=currency,
            has_history=has_history,
            has_activity=bool(opps["last_activity_at"].notna().any()),
            closes_dated=closes_dated,
            trailing_weeks=TRAILING_WEEKS,
            silence_days=silence_days,
            opportunities=len(opps),
            other_currency=int((opps["currency"].notna() & opps["currency"].ne(currency)).sum()),
        ),
        kpis=compute_kpi_table(series, monday, closes_dated),
        series=series,
        movements=movements,
        lost_reasons=summarise_lost_reasons(movements["lost"]),
        bottleneck=_bottleneck_section(opps, events, stages, weeks, monday),
        at_risk=_at_risk_section(
            dataset, opps, intervals, stages, end, silence_days, risk_model, risk_status
        ),
        comparison=_comparison_section(compare_to, dataset) if compare_to is not None else None,
    )


def _bottleneck_section(opps, events, stages, weeks, monday) -> BottleneckSection:
    if events.empty:
        return BottleneckSection(status="no_history", stage=None, table=None)
    conversion = funnel_stage_conversion_by_week(opps, events, stages, weeks)
    table = compare_stage_conversion(conversion, monday)
    found = find_bottleneck(table)
    return BottleneckSection(status="ok" if found else "none", stage=found, table=table)


def _at_risk_section(
    dataset, opps, intervals, stages, end, silence_days, risk_model, risk_status
) -> AtRiskSection:
    flags = flags_at(opps, intervals, stages, end, silence_days)
    model_risk = (
        model_risk_at(dataset, risk_model[0], risk_model[1], end, *risk_model[2:])
        if risk_model is not None
        else None
    )
    table = rank_at_risk(flags, model_risk)
    reasons = None
    if model_risk is not None:
        reasons = model_risk.reasons.loc[
            model_risk.reasons["opportunity_id"].isin(table["opportunity_id"])
        ].reset_index(drop=True)
    return AtRiskSection(
        moment=end,
        model=model_risk is not None,
        model_status="model" if model_risk is not None else risk_status,
        open_deals=len(flags),
        flagged=int((flags["stalled"] | flags["silent"]).sum()),
        table=table,
        reasons=reasons,
    )


def _snapshot_info(dataset: Dataset) -> SnapshotInfo:
    return SnapshotInfo(dataset=dataset.name, dataset_id=dataset.id, as_of=dataset.as_of)


def _comparison_section(compare_to: Dataset, dataset: Dataset) -> ComparisonSection:
    """The two-snapshot diff; the older snapshot (by as-of date) is always the 'old' side."""
    old, new = compare_to, dataset
    swapped = _snapshot_info(old).as_of > _snapshot_info(new).as_of
    if swapped:
        old, new = new, old
    currency = main_currency(new.opportunities)
    # Positions from the new snapshot's stage table; stages only the old one knows keep theirs.
    stages = pd.concat(
        [new.stages, old.stages.loc[~old.stages["stage"].isin(new.stages["stage"])]],
        ignore_index=True,
    )
    diff = diff_snapshots(old.opportunities, new.opportunities, stages, currency)
    return ComparisonSection(
        old=_snapshot_info(old),
        new=_snapshot_info(new),
        swapped=swapped,
        currency=currency,
        unpriced=unpriced_count(old.opportunities, new.opportunities, currency),
        summary=category_summary(diff),
        waterfall=pipeline_waterfall(diff),
        deals={
            c: category_deals(diff, c).loc[:, list(COMPARISON_DEAL_COLUMNS)] for c in CATEGORIES
        },
    )


def key_figures(document: WeeklyReport) -> dict:
    """The headline numbers of a report (week, new, won, lost, win rate, pipeline, bottleneck):
    what the CLI prints and the tests compare between page and CLI."""
    kpis = document.kpis.set_index("metric")["this_week"]
    bottleneck = document.bottleneck.stage
    return {
        "dataset": document.meta.dataset,
        "week": document.meta.week,
        "currency": document.meta.currency,
        **{metric: _plain(kpis[metric]) for metric in kpis.index},
        "bottleneck_stage": bottleneck["stage"] if bottleneck else None,
        "at_risk_listed": len(document.at_risk.table),
    }


def _plain(value):
    if pd.isna(value):
        return None
    as_float = float(value)
    return int(as_float) if as_float.is_integer() and abs(as_float) < 2**53 else as_float
