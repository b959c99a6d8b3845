"""Overview: the KPI row against the previous period and the weekly created / won / lost chart."""

import pandas as pd
import streamlit as st

from dealscope.charts.overview import build_weekly_flow_chart
from dealscope.formatting import escape_markdown
from dealscope.metrics.headlines import overview_headline
from ui.frame import require_frame
from ui.headline import overview_sentences, render_headline
from ui.overview import build_kpis, load_overview, render_overview_definitions
from ui.render import render_chart, render_kpi_row, render_other_currency_warning, require_view
from ui.state import tr

require_frame()

st.header(tr("overview.title"))
view = require_view()
if view is not None:
    overview, flow = load_overview(view)
    render_headline(overview_sentences(overview_headline(overview)))
    start, end = view.period_bounds()
    last_day = end - pd.Timedelta(days=1)
    prev_start, prev_end = view.previous_bounds() or (start, start)
    st.caption(
        tr(
            "overview.caption" if overview.previous else "overview.caption_all_time",
            start=start.date(),
            end=last_day.date(),
            prev_start=prev_start.date(),
            prev_end=(prev_end - pd.Timedelta(days=1)).date(),
            currency=escape_markdown(overview.currency or "—"),
        )
    )
    render_kpi_row(build_kpis(overview))
    if overview.previous is None:
        st.caption(tr("overview.all_time"))
    elif overview.previous.total == 0:
        st.caption(tr("overview.no_previous"))
    if overview.current.undated and view.dataset.has_dates:
        st.warning(tr("overview.undated", count=overview.current.undated))
    render_other_currency_warning(overview.other_currency_count, overview.currency)
    st.subheader(tr("overview.weekly.title"))
    if not view.dataset.has_dates:
        st.info(tr("overview.weekly.no_dates"))
    elif flow.empty:
        st.info(tr("app.empty_filtered"))
    else:
        labels = {
            k: tr(f"overview.weekly.{k}")
            for k in ("created", "won", "lost", "week", "count", "series")
        } | {k: tr(f"period.week.{k}") for k in ("monday", "days")}
        render_chart(build_weekly_flow_chart(flow, labels))
    render_overview_definitions()
