"""Reps: fair comparisons of owners, teams and regions, and one owner's drill-down.

The answer first (who leads, by how much, and whether that is more than chance), then the
leaderboard and the scatter; the method, the drill-down and the activity in labelled expanders."""

import pandas as pd
import streamlit as st

from dealscope.formatting import escape_markdown
from dealscope.metrics.headlines import reps_headline
from dealscope.metrics.reps import MIN_CLOSED_FOR_RANKING
from ui.activity import render_rep_activity
from ui.frame import require_frame
from ui.headline import render_headline, reps_sentences
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
    render_headline(reps_sentences(reps_headline(reps.tables["owner"])))
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
    st.dataframe(leaderboard_styler(table, level, reps.currency), hide_index=True)
    st.caption(tr("reps.activity_note"))
    if table["closed"].sum() > 0:
        st.subheader(tr("reps.scatter.title"))
        render_scatter(reps, level)
    with st.expander(tr("headline.expander.reps_method")):
        render_prior(reps, level)
    with st.expander(tr("headline.expander.drill_owner")):
        st.subheader(tr("reps.drill.title"))
        owner = select_owner(reps)
        if owner is not None:
            detail = load_owner_detail(view, owner)
            render_owner_detail(detail, reps.has_history, reps.currency)
    with st.expander(tr("headline.expander.rep_activity")):
        render_rep_activity(view)
    render_reps_definitions()
