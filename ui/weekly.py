"""Weekly review page helpers: cached report, week and comparison pickers, sections, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope import store
from dealscope.charts.weekly import build_waterfall_chart, build_weekly_trend_chart
from dealscope.formatting import escape_markdown, format_count, format_delta
from dealscope.report.assemble import build_weekly_report
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
    format_value,
    translate_columns,
)
from dealscope.report.render_html import render_html
from dealscope.report.render_md import render_markdown
from dealscope.report.snapshot_diff import (
    CATEGORIES,
    ComparisonCandidates,
    comparison_candidates,
    id_sample,
)
from dealscope.report.week import available_weeks, parse_iso_week, week_label
from ui.context import VIEW_HASH_FUNCS, ViewContext
from ui.loaders import get_engine, load_dataset, load_dataset_list
from ui.render import (
    Kpi,
    render_chart,
    render_downloads,
    render_kpi_row,
    render_other_currency_warning,
    show_table,
)
from ui.risk import dataset_log, model_status
from ui.state import current_lang, tr

_WEEK_KEY = "weekly_week"
_COMPARE_KEY = "weekly_compare"
COMPARE_PARAM = "compare"


def select_week(view: ViewContext) -> str | None:
    """The week picker (newest first, default the last complete week), bound to ?week=."""
    weeks = [week_label(w) for w in available_weeks(view.opportunities, view.as_of)]
    if not weeks:
        return None
    if st.session_state.get(_WEEK_KEY) not in weeks:
        wanted = st.query_params.get("week")
        st.session_state[_WEEK_KEY] = wanted if wanted in weeks else weeks[0]
    # Labels resolved now: AppTest formats options outside the script run, without the session
    # language (a lambda calling tr() there answered in the default language).
    labels = {
        w: tr(
            "weekly.week_option",
            week=w,
            start=parse_iso_week(w).date(),
            end=(parse_iso_week(w) + pd.Timedelta(days=6)).date(),
        )
        for w in weeks
    }
    picked = st.selectbox(tr("weekly.week_picker"), weeks, key=_WEEK_KEY, format_func=labels.get)
    if st.query_params.get("week") != picked:
        st.query_params["week"] = picked
    return picked


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def load_shared_ids(url: str, dataset_id: int, others: tuple[int, ...]) -> dict[int, int]:
    """Per other stored dataset: how many of a sample of this dataset's ids it holds (short ttl,
    like the dataset list: uploads from other sessions appear)."""
    sample = id_sample(load_dataset(url, dataset_id).opportunities)
    return store.count_shared_ids(get_engine(url), sample, list(others))


def comparison_options(view: ViewContext) -> ComparisonCandidates:
    """The datasets worth comparing with this one: same name's versions, then ones sharing ids."""
    datasets = load_dataset_list(view.db_url)
    current = int(view.dataset.id)
    same_name = datasets["name"].eq(view.dataset.name)
    # Only datasets of another name need the id lookup: versions of one name are always offered.
    others = tuple(int(i) for i in datasets.loc[~same_name, "id"] if int(i) != current)
    shared = load_shared_ids(view.db_url, current, others) if others else {}
    return comparison_candidates(datasets, current, shared)


def select_comparison(view: ViewContext) -> int | None:
    """The comparison-snapshot picker, bound to ?compare=<dataset id>: only other versions of this
    dataset and datasets sharing deal ids with it are offered; a caption says how many others were
    left out and why. An invalid ?compare= is ignored and named."""
    candidates = comparison_options(view)
    options = [None, *candidates.offered]
    if _COMPARE_KEY not in st.session_state:
        wanted = st.query_params.get(COMPARE_PARAM)
        chosen = int(wanted) if wanted and wanted.isdigit() else None
        if wanted and chosen not in candidates.offered:
            st.warning(
                tr(
                    "app.sidebar.ignored_params",
                    params=escape_markdown(f"{COMPARE_PARAM}={wanted}"),
                )
            )
            chosen = None
        st.session_state[_COMPARE_KEY] = chosen
    elif st.session_state[_COMPARE_KEY] not in options:
        st.session_state[_COMPARE_KEY] = None
    labels = load_dataset_list(view.db_url).set_index("id")
    option_labels = {None: tr("weekly.compare_none")}
    for i in candidates.offered:
        name, version = labels.at[i, "name"], labels.at[i, "version"]
        option_labels[i] = (
            tr("weekly.compare_option", name=name, version=version, id=i)
            if i in candidates.same_name
            else tr(
                "fixes.compare.option_shared",
                name=name,
                version=version,
                id=i,
                shared=format_count(candidates.shared[i]),
            )
        )
    picked = st.selectbox(
        tr("weekly.compare_picker"),
        options,
        key=_COMPARE_KEY,
        format_func=option_labels.get,  # resolved now: AppTest formats outside the script run
    )
    if candidates.hidden:
        st.caption(tr("fixes.compare.hidden", count=format_count(candidates.hidden)))
    _sync_compare_param(picked)
    return picked


def _sync_compare_param(picked: int | None) -> None:
    if picked is None:
        if COMPARE_PARAM in st.query_params:
            del st.query_params[COMPARE_PARAM]
    elif st.query_params.get(COMPARE_PARAM) != str(picked):
        st.query_params[COMPARE_PARAM] = str(picked)


def risk_model_token(view: ViewContext) -> tuple:
    """(cache key of the stored model or None, status): changes when the dataset's model is
    trained, so a cached weekly report picks it up (it never starts a training itself)."""
    found, status = model_status(view, start=False)
    return (found[2] if found is not None else None, status)


def _risk_model(view: ViewContext) -> tuple[tuple | None, str]:
    found, status = model_status(view, start=False)
    if found is None:
        return None, status
    return (found[0], found[1], dataset_log(view.db_url, view.dataset.id)), status


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_weekly_report(
    view: ViewContext, model_token: tuple, week: str, compare_id: int | None
) -> WeeklyReport:
    """The report document of the view's (segment-filtered) data for `week` [vs `compare_id`];
    `model_token` = risk_model_token(view), so a newly trained model invalidates the entry."""
    compare = load_dataset(view.db_url, compare_id) if compare_id is not None else None
    risk_model, risk_status = _risk_model(view)
    return build_weekly_report(
        view.dataset,
        week,
        compare,
        opportunities=view.opportunities,
        stage_events=view.stage_events,
        risk_model=risk_model,
        risk_status=risk_status,
    )


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_report_files(
    view: ViewContext,
    model_token: str | None,
    week: str,
    compare_id: int | None,
    lang: str,
    _document: WeeklyReport,
) -> tuple[str, str]:
    """The HTML and Markdown renderings of a cached document (same key as load_weekly_report)."""
    return render_html(_document, lang), render_markdown(_document, lang)


def render_caption(document: WeeklyReport) -> None:
    # The caption carries the dataset name (user data): plain text, never Markdown.
    st.text(caption(document, current_lang()))
    meta = document.meta
    render_other_currency_warning(meta.other_currency, meta.currency)
    if not meta.has_history:
        st.warning(tr("weekly.no_history"))
    if not meta.closes_dated:
        st.warning(tr("weekly.closes_undated"))


def render_weekly_kpis(document: WeeklyReport) -> None:
    """st.metric per KPI: this week, change vs the previous week, trailing average in the help."""
    lang, currency = current_lang(), document.meta.currency
    kpis = []
    for row in document.kpis.itertuples(index=False):  # 15 fixed KPI rows
        delta = None
        if pd.notna(row.this_week) and pd.notna(row.previous_week):
            change = float(row.this_week) - float(row.previous_week)
            delta = format_delta(change, row.kind, currency, lang)  # None: no change, no arrow
        kpis.append(
            Kpi(
                label=tr(f"weekly.kpi.{row.metric}"),
                value=format_value(row.this_week, row.kind, currency, lang),
                delta=delta,
                help=f"{tr('weekly.col.previous_week')}: "
                f"{format_value(row.previous_week, row.kind, currency, lang)} · "
                f"{tr('weekly.col.trailing_avg')}: "
                f"{format_value(row.trailing_avg, row.kind, currency, lang)}",
                inverse=row.metric
                in (
                    "lost_count",
                    "lost_value",
                    "regressions",
                    "newly_stalled",
                    "newly_silent",
                    "trigger_rate",
                ),
            )
        )
    render_kpi_row(kpis)
    st.caption(tr("weekly.note.silence"))


def render_trend(document: WeeklyReport) -> None:
    keys = ("new_count", "won_count", "lost_count", "series", "count")
    labels = {k: tr(f"weekly.trend.{k}") for k in keys} | {"week": tr("weekly.col.week")}
    st.subheader(tr("weekly.section.trend", weeks=len(document.series)))
    render_chart(build_weekly_trend_chart(document.series, labels))


def render_bottleneck(document: WeeklyReport) -> None:
    st.subheader(tr("weekly.section.bottleneck"))
    for line in bottleneck_text(document, current_lang()):
        st.text(line)
    table = document.bottleneck.table
    if table is not None:
        _show(table.loc[:, list(BOTTLENECK_TABLE_COLUMNS)], document)


def render_at_risk(document: WeeklyReport) -> None:
    st.subheader(tr("weekly.section.at_risk"))
    for line in at_risk_text(document, current_lang()):
        st.text(line)
    table = at_risk_table(document, current_lang())
    if table.empty:
        st.info(tr("weekly.at_risk.none"))
    else:
        _show(table, document)


def render_movements(document: WeeklyReport) -> None:
    st.subheader(tr("weekly.section.movements"))
    movements = document.movements
    tabs = st.tabs([f"{tr(f'weekly.movement.{k}')} ({len(movements[k])})" for k in MOVEMENT_KINDS])
    for tab, kind in zip(tabs, MOVEMENT_KINDS, strict=True):
        with tab:
            _table(movements[kind], document)
    st.subheader(tr("weekly.section.lost_reasons"))
    _table(document.lost_reasons, document)


def _show(frame: pd.DataFrame, document: WeeklyReport) -> None:
    """A report table with translated headers and every figure formatted (dataset currency)."""
    show_table(frame, rename=lambda c: tr(f"weekly.col.{c}"), currency=document.meta.currency)


def _table(frame: pd.DataFrame, document: WeeklyReport) -> None:
    if frame.empty:
        st.caption(tr("weekly.table.empty"))
    else:
        _show(frame, document)


def render_comparison(document: WeeklyReport) -> None:
    st.subheader(tr("weekly.section.comparison"))
    for line in comparison_text(document, current_lang()):
        st.text(line)
    section = document.comparison
    if section is None:
        return
    summary = section.summary.assign(
        category=section.summary["category"].map(lambda c: tr(f"weekly.cat.{c}"))
    )
    _show(summary, document)
    steps = section.waterfall
    labels = {
        s: tr(f"weekly.step.{s}") if s in ("start", "end") else tr(f"weekly.cat.{s}")
        for s in steps["step"]
    }
    labels |= {
        "step": tr("weekly.col.step"),
        "value": tr("weekly.step.value"),
        "count": tr("weekly.col.count"),
    }
    st.markdown(f"**{tr('weekly.comparison.waterfall')}**")
    render_chart(build_waterfall_chart(steps, labels))
    names = {c: f"{tr(f'weekly.cat.{c}')} ({len(section.deals[c])})" for c in CATEGORIES}
    category = st.selectbox(
        tr("weekly.comparison.deals"), CATEGORIES, format_func=names.get, key="weekly_category"
    )
    if section.deals[category].empty:  # a comparison of two exports, not of a week
        st.caption(
            tr(
                "fixes.compare.none_between",
                old_as_of=section.old.as_of.strftime("%Y-%m-%d"),
                new_as_of=section.new.as_of.strftime("%Y-%m-%d"),
            )
        )
    else:
        _table(section.deals[category], document)


def download_tables(document: WeeklyReport) -> dict[str, tuple[str, pd.DataFrame]]:
    """Every table of the page: code -> (display name, frame with translated headers)."""
    lang = current_lang()
    tables = {k: (tr(f"weekly.movement.{k}"), document.movements[k]) for k in MOVEMENT_KINDS}
    tables["lost_reasons"] = (tr("weekly.section.lost_reasons"), document.lost_reasons)
    tables["at_risk"] = (tr("weekly.section.at_risk"), at_risk_table(document, lang))
    if document.comparison is not None:
        for c in CATEGORIES:
            tables[f"diff_{c}"] = (tr(f"weekly.cat.{c}"), document.comparison.deals[c])
    return {code: (name, translate_columns(frame, lang)) for code, (name, frame) in tables.items()}


def render_report_downloads(document: WeeklyReport, html: str, markdown: str) -> None:
    """HTML / Markdown report buttons, then CSV / Excel of a chosen table (formula-safe)."""
    st.subheader(tr("weekly.section.downloads"))
    stem = f"weekly-{document.meta.dataset_id}-{document.meta.week}"
    left, right = st.columns(2)
    left.download_button(
        tr("weekly.download.html"),
        html.encode("utf-8"),
        file_name=f"{stem}.html",
        mime="text/html",
        key="weekly_html",
        on_click="ignore",
    )
    right.download_button(
        tr("weekly.download.md"),
        markdown.encode("utf-8"),
        file_name=f"{stem}.md",
        mime="text/markdown",
        key="weekly_md",
        on_click="ignore",
    )
    tables = download_tables(document)
    code = st.selectbox(
        tr("weekly.download.table_pick"),
        list(tables),
        format_func=lambda c: f"{tables[c][0]} ({len(tables[c][1])})",
        key="weekly_table_pick",
    )
    render_downloads(tables[code][1], f"{stem}-{code}", key="weekly_table")


def render_weekly_definitions(document: WeeklyReport) -> None:
    with st.expander(tr("weekly.section.definitions")):
        for term, text in definitions(document, current_lang()):
            st.text(f"{term}: {text}")
