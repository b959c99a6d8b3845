"""Reps: fair comparisons of owners, teams and regions, and one owner's drill-down."""

import pandas as pd
import streamlit as st

from dealscope.formatting import escape_markdown
from dealscope.metrics.reps import MIN_CLOSED_FOR_RANKING
from ui.activity import render_rep_activity
from ui.frame import require_frame
from ui.render import require_view
from ui.reps import (
    leaderboard_styler,
    load_owner_detail,
    load_reps,
    render_owner_detail,
    render_prior,
    render_reps_definitions,
    render_scatter,
    select_level,
    select_owner,
)
from ui.state import tr

require_frame()

st.header(tr("reps.title"))
view = require_view()
if view is not None:
    reps = load_reps(view)
    start, end = view.period_bounds()
    st.caption(
        tr(
            "reps.caption" if view.filters.start is not None else "reps.caption_all_time",
            start=start.date(),
            end=(end - pd.Timedelta(days=1)).date(),
            cutoff=reps.cutoff.strftime("%Y-%m-%d %H:%M"),
            currency=escape_markdown(reps.currency) if reps.currency else "—",
            min_closed=MIN_CLOSED_FOR_RANKING,
        )
    )
    st.subheader(tr("reps.leaderboard.title"))
    level = select_level()
    table = reps.tables[level]
    if table["closed"].sum() == 0:
        st.info(tr("reps.no_closed"))
    render_prior(reps, level)
    st.dataframe(leaderboard_styler(table, level, reps.currency), hide_index=True)
    st.caption(tr("reps.activity_note"))
    if table["closed"].sum() > 0:
        st.subheader(tr("reps.scatter.title"))
        render_scatter(reps, level)
    st.subheader(tr("reps.drill.title"))
    owner = select_owner(reps)
    if owner is not None:
        detail = load_owner_detail(view, owner)
        render_owner_detail(detail, reps.has_history, reps.currency)
    render_rep_activity(view)
    render_reps_definitions()
