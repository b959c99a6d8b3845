"""Cycle time: how long deals take (KM, censoring-aware), where they sit, which are stuck or silent.

The answer first (median time to close, silent deals), then the KPI row and the survival curve;
the statistics and the detailed lists follow in labelled expanders."""

import streamlit as st

from dealscope.metrics.headlines import cycle_headline
from dealscope.metrics.stall import current_stage_ages
from ui.activity import render_activity_silence
from ui.cycle import (
    current_silence_days,
    load_alert_rate,
    load_close_figures,
    load_flags,
    load_segment,
    load_stage_figures,
    segment_picker,
    silence_picker,
)
from ui.cycle_sections import (
    render_alert_rate,
    render_close_detail,
    render_current_stage_ages,
    render_cycle_definitions,
    render_history_notice,
    render_scope,
    render_segments,
    render_stall_penalty,
    render_time_in_stage,
    render_time_to_close,
    render_watchlists,
)
from ui.frame import require_frame
from ui.headline import cycle_sentences, render_headline
from ui.render import require_view
from ui.state import tr

require_frame()

st.header(tr("cycle.title"))
view = require_view(needs_dates="cycle.needs_dates")
if view is not None:
    has_history = not view.stage_events.empty
    close = load_close_figures(view)
    silence_days = current_silence_days()
    flags = load_flags(view, silence_days)
    headline = cycle_headline(close["summary"], flags, view.opportunities, silence_days)
    render_headline(cycle_sentences(headline))
    render_scope(view, close)
    if not has_history:
        render_history_notice(view.stage_events)
        if flags["days_in_stage"].notna().any():
            st.caption(tr("cycle_age.notice"))
    render_time_to_close(close)
    with st.expander(tr("headline.expander.watchlists")):
        st.subheader(tr("cycle.watch.title"))
        silence_days = silence_picker()
        render_watchlists(load_flags(view, silence_days), silence_days, has_history)
    with st.expander(tr("headline.expander.close_detail")):
        render_close_detail(close)
    with st.expander(tr("headline.expander.segments")):
        column = segment_picker()
        render_segments(load_segment(view, column), column)
    if has_history:
        with st.expander(tr("headline.expander.stages")):
            stages = load_stage_figures(view, column)
            render_time_in_stage(stages, column)
            render_stall_penalty(stages)
    elif flags["days_in_stage"].notna().any():  # a days-in-stage column dated the current stages
        with st.expander(tr("cycle_age.title")):
            render_current_stage_ages(current_stage_ages(flags, view.dataset.stages))
    with st.expander(tr("headline.expander.alert_rate")):
        render_alert_rate(load_alert_rate(view, silence_days), has_history)
    with st.expander(tr("headline.expander.activity")):
        render_activity_silence(view)
    render_cycle_definitions()
