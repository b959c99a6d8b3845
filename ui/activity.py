"""Follow-up records (跟进记录) on the Cycle, Weekly and Reps pages: section renderers.

Each page calls one renderer with its view; the log is read once per dataset (cached) and every
figure is computed by dealscope.activity.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.activity import store as activity_store
from dealscope.activity.contacts import MIN_TOUCHES, WINDOW_DAYS, contact_changes
from dealscope.activity.model import ACTIVITY_TYPES
from dealscope.activity.reps import TOUCHED_WINDOW_DAYS, RepActivity, rep_activity
from dealscope.activity.rhythm import MIN_GAPS, SilenceResult, silence_table
from dealscope.charts.activity import build_weekly_touches_chart
from dealscope.formatting import format_count, format_pct
from dealscope.report.document import WeeklyReport
from ui.context import VIEW_HASH_FUNCS, ViewContext
from ui.loaders import get_engine
from ui.render import Kpi, render_chart, render_downloads, render_kpi_row, show_table
from ui.state import tr

RECENT_CHANGE_DAYS = 30
BASES = ("own", "stage", "all", "fixed")


@st.cache_resource(ttl=600, max_entries=4, show_spinner=False)
def load_activity_log(url: str, dataset_id: int, token: str) -> pd.DataFrame:
    """The dataset's follow-up log (shared, read-only); `token` (activity_store.log_token: the
    log's content hash) renews it when the log is replaced, whatever its length."""
    return activity_store.read_activities(get_engine(url), dataset_id)


def _log_token(view: ViewContext) -> str:
    return activity_store.log_token(get_engine(view.db_url), view.dataset.id)


def _log(view: ViewContext, token: str) -> pd.DataFrame:
    log = load_activity_log(view.db_url, view.dataset.id, token)
    return log.loc[log["opportunity_id"].isin(view.opportunities["opportunity_id"]).to_numpy()]


# The loaders take the log's token beside the view (hashed by its cache_key, VIEW_HASH_FUNCS):
# a reloaded log renews the derived figures.


@st.cache_data(ttl=600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_silence(view: ViewContext, token: str, as_of: pd.Timestamp) -> SilenceResult:
    """Silence of the open deals at `as_of`."""
    return silence_table(view.opportunities, _log(view, token), view.stage_events, as_of)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_contact_changes(view: ViewContext, token: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Main-contact changes known at `as_of`."""
    return contact_changes(_log(view, token), as_of)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_rep_activity(view: ViewContext, token: str) -> RepActivity:
    start, end = view.period_bounds()  # end is exclusive: the period's last moment, or as-of
    until = min(end - pd.Timedelta(microseconds=1), view.as_of)
    return rep_activity(view.opportunities, _log(view, token), start, until)


def _header(column: str) -> str:
    """The translated header; `per_week_<type>` columns read "<type> per week"."""
    if column.startswith("per_week_"):
        kind = tr(f"activity.type.{column.removeprefix('per_week_')}")
        return tr("activity.col.per_week", type=kind)
    return tr(f"activity.col.{column}")


# Figures of the follow-up tables by kind (dealscope.formatting): gaps and silences in days.
ACTIVITY_KINDS = {
    **dict.fromkeys(
        ("days_silent", "own_median_gap", "stage_gap", "rhythm_gap", "median_gap"), "days"
    ),
    "ratio": "decimal",
    "touched_share": "pct",
    "touches_per_week": "decimal",
}


def _show(frame: pd.DataFrame) -> pd.DataFrame:
    """Show a follow-up table with translated headers and formatted figures; return it shown."""
    return show_table(frame, ACTIVITY_KINDS, rename=_header)


def _rule_caption(result: SilenceResult) -> str:
    if not result.has_log:
        return tr("activity.rule.fixed", days=result.fixed_days)
    m = result.multiple
    source = tr(
        f"activity.rule.source.{m.source}", quantile=round(m.quantile * 100), gaps=m.won_gaps
    )
    return tr("activity.rule.rhythm", multiple=m.value, min_gaps=MIN_GAPS, source=source)


def _open_changes(view: ViewContext, token: str, silence: SilenceResult) -> pd.DataFrame:
    changes = load_contact_changes(view, token, silence.as_of)
    recent = changes.loc[
        changes["opportunity_id"].isin(silence.table["opportunity_id"])
        & (changes["changed_at"] > silence.as_of - pd.Timedelta(days=RECENT_CHANGE_DAYS))
    ]
    names = silence.table.set_index("opportunity_id")[["name", "owner"]]
    return recent.join(names, on="opportunity_id")[
        ["opportunity_id", "name", "owner", "changed_at", "previous_contact", "new_contact"]
    ].sort_values("changed_at", ascending=False)


def render_activity_silence(
    view: ViewContext,
    key: str = "cycle",
    limit: int | None = None,
    as_of: pd.Timestamp | None = None,
) -> None:
    """Suddenly silent deals (own rhythm, or the fixed rule without a log) and contact changes,
    as of `as_of` (default: the view's)."""
    st.subheader(tr("activity.silence.title"))
    token = _log_token(view)  # one count query per render, shared by the loaders below
    silence = load_silence(view, token, view.as_of if as_of is None else as_of)
    st.caption(_rule_caption(silence))
    table = silence.table
    flagged = table.loc[table["suddenly_silent"]]
    kpis = [
        Kpi(tr("activity.kpi.open"), format_count(len(table)), help=tr("activity.kpi.open.help")),
        Kpi(
            tr("activity.kpi.silent"),
            format_count(len(flagged)),
            help=tr("activity.kpi.silent.help"),
        ),
    ]
    changes = _open_changes(view, token, silence) if silence.has_log else pd.DataFrame()
    if silence.has_log:
        kpis.append(
            Kpi(
                tr("activity.kpi.changes", days=RECENT_CHANGE_DAYS),
                format_count(len(changes)),
                help=tr("activity.contact.rule", window=WINDOW_DAYS, min_touches=MIN_TOUCHES),
            )
        )
    render_kpi_row(kpis, per_row=3)
    if flagged.empty:
        st.info(tr("activity.silence.none"))
    else:
        shown = flagged.drop(columns="suddenly_silent").round(1)
        shown = shown.assign(
            basis=shown["basis"].map({b: tr(f"activity.basis.{b}") for b in BASES})
        )
        shown = _show(shown.head(limit) if limit else shown)
        if limit is None:  # the full list only (the Weekly page has its report downloads)
            render_downloads(shown, "dealscope_suddenly_silent", key=f"{key}_activity_silent")
    if not silence.has_log:
        return
    st.text(tr("activity.contact.title", days=RECENT_CHANGE_DAYS))
    st.caption(tr("activity.contact.rule", window=WINDOW_DAYS, min_touches=MIN_TOUCHES))
    if changes.empty:
        st.info(tr("activity.contact.none"))
    else:
        _show(changes.head(limit) if limit else changes)


def render_rep_activity(view: ViewContext) -> None:
    """Rep activity beside win rate, and one owner's weekly touches by type."""
    st.subheader(tr("activity.reps.title"))
    result = load_rep_activity(view, _log_token(view))
    if result.weekly.empty and result.table["touches_per_week"].sum() == 0:
        st.info(tr("activity.reps.no_log"))
        return
    st.caption(tr("activity.reps.caption", weeks=round(result.weeks, 1), days=TOUCHED_WINDOW_DAYS))
    table = result.table.round(
        {c: 2 for c in result.table.columns if c.startswith(("per_week_", "touches_per"))}
        | {"median_gap": 1, "touched_share": 3, "win_rate": 3}
    )
    _show(table)
    owners = result.table["owner"].dropna().astype(str).tolist()
    owner = st.selectbox(tr("activity.reps.owner"), owners, key="activity_owner")
    if owner is None:
        return
    row = result.table.loc[result.table["owner"] == owner].iloc[0]
    render_kpi_row(
        [
            Kpi(tr("activity.kpi.touches_per_week"), f"{row['touches_per_week']:.1f}"),
            Kpi(tr("activity.kpi.touched_share"), format_pct(row["touched_share"])),
            Kpi(tr("activity.kpi.median_gap"), _num(row["median_gap"])),
            Kpi(tr("activity.kpi.win_rate"), format_pct(row["win_rate"])),
        ],
        per_row=4,
    )
    weekly = result.weekly.loc[result.weekly["owner"] == owner]
    weekly = weekly.assign(
        type=weekly["activity_type"].map({t: tr(f"activity.type.{t}") for t in ACTIVITY_TYPES})
    )
    labels = {k: tr(f"activity.chart.{k}") for k in ("week", "touches", "type")}
    render_chart(build_weekly_touches_chart(weekly[["week", "type", "touches"]], labels))


def _num(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1f}"


def render_weekly_follow_up(view: ViewContext, document: WeeklyReport) -> None:
    """The week's at-risk deals with their follow-up signals at the week's end, then the week's
    suddenly silent deals and contact changes (the report's own at-risk ranking is unchanged)."""
    moment = min(document.at_risk.moment, view.as_of)  # the current week: not beyond data
    at_risk = document.at_risk.table
    token = _log_token(view)  # one count query per render, shared by the loaders below
    silence = load_silence(view, token, moment)
    if silence.has_log and not at_risk.empty:
        st.text(tr("activity.weekly.at_risk", date=moment.strftime("%Y-%m-%d %H:%M")))
        changes = load_contact_changes(view, token, moment)
        last_change = changes.groupby("opportunity_id", sort=False)[
            ["changed_at", "new_contact"]
        ].last()
        signals = silence.table.set_index("opportunity_id")[
            ["days_silent", "rhythm_gap", "ratio", "suddenly_silent"]
        ]
        shown = at_risk[["opportunity_id", "name", "owner"]].join(signals, on="opportunity_id")
        shown = shown.join(last_change, on="opportunity_id").round(1)
        _show(shown)
    render_activity_silence(view, key="weekly", limit=10, as_of=moment)
