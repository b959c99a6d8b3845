"""The weekly report document: what build_weekly_report assembles and the page, the HTML and the
Markdown writers read. Language-neutral: numbers, codes, timestamps and DataFrames, never
translated text, so the page and `python -m dealscope report` show the same figures in either
language.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ReportMeta:
    """What the report covers and what the data allows."""

    dataset: str  # the dataset's name (user text: escape before rendering)
    dataset_id: int
    as_of: pd.Timestamp  # the latest timestamp of the whole dataset
    week: str  # ISO label, "2026-W46"
    week_start: pd.Timestamp  # the week's Monday
    week_end: pd.Timestamp  # its Sunday (inclusive)
    currency: str | None  # value figures count only amounts in it
    has_history: bool  # stage history present (bottleneck, stage movements)
    has_activity: bool  # last-activity dates present (silent deals)
    trailing_weeks: int  # weeks averaged for the "usual" comparison
    silence_days: float  # days without activity that make an open deal silent
    opportunities: int  # deals in the (segment-filtered) data
    other_currency: int  # deals in another currency, left out of the value figures
    closes_dated: bool = True  # False: closed deals but no close date, so weekly won / lost unknown


@dataclass(frozen=True)
class BottleneckSection:
    """The stage whose conversion fell furthest below its trailing average, if any."""

    status: str  # "ok" (found), "none" (no stage stands out) or "no_history"
    stage: dict | None  # find_bottleneck's row for the stage, None unless status is "ok"
    table: pd.DataFrame | None  # compare_stage_conversion's table; None without history


@dataclass(frozen=True)
class AtRiskSection:
    """Open deals at the week's end, ranked by model risk and stall / silence flags."""

    moment: pd.Timestamp  # the week's end (exclusive): deals open then are listed
    model: bool  # a usable risk model scored the deals
    model_status: str  # "model", or why there is no model score (risk.service's status codes)
    open_deals: int
    flagged: int  # open deals stalled or silent
    table: pd.DataFrame  # rank_at_risk's table
    reasons: pd.DataFrame | None = None  # the model's reason codes of the listed deals


@dataclass(frozen=True)
class SnapshotInfo:
    """One side of a two-snapshot comparison."""

    dataset: str
    dataset_id: int
    as_of: pd.Timestamp


@dataclass(frozen=True)
class ComparisonSection:
    """What changed between two stored snapshots (the older one is always `old`)."""

    old: SnapshotInfo
    new: SnapshotInfo
    swapped: bool  # the snapshot picked as "compare to" was the newer one
    currency: str | None
    unpriced: int  # deals whose value could not be compared (another currency)
    summary: pd.DataFrame  # category_summary
    waterfall: pd.DataFrame  # pipeline_waterfall
    deals: dict[str, pd.DataFrame]  # per snapshot_diff category code: its deals


@dataclass(frozen=True)
class WeeklyReport:
    """The whole weekly report of one dataset and ISO week."""

    meta: ReportMeta
    kpis: pd.DataFrame  # compute_kpi_table: metric, this_week, last_week, trailing average …
    series: pd.DataFrame  # compute_week_series: one row per week of the trend
    movements: dict[str, pd.DataFrame]  # per movement kind code (MOVEMENT_KINDS): its deals
    lost_reasons: pd.DataFrame
    bottleneck: BottleneckSection
    at_risk: AtRiskSection
    comparison: ComparisonSection | None  # only when a second snapshot was given
