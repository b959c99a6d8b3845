"""Funnel: where deals drop off, on a named basis, by segment and over time, with intervals.

The answer first (the biggest drop), then the KPI row and the funnel charts; the stage table,
where lost deals drop out, the comparisons and the deal lists follow in labelled expanders."""

import streamlit as st

from dealscope.metrics.funnel import COHORT, SNAPSHOT
from ui.frame import require_frame
from ui.funnel import load_funnel, render_controls
from ui.funnel_sections import (
    render_cohorts,
    render_drill,
    render_funnel,
    render_funnel_definitions,
    render_funnel_table,
    render_lost,
    render_periods,
    render_segments,
    render_snapshot,
    render_summary,
    render_transitions,
)
from ui.headline import funnel_facts, funnel_sentences, render_headline
from ui.render import require_view
from ui.state import tr

require_frame()

st.header(tr("funnel.title"))
view = require_view()
if view is not None:
    has_history = view.dataset.has_history
    render_headline(funnel_sentences(funnel_facts(view)))
    if not has_history:
        st.warning(tr("funnel.no_history"))
    basis, rule = render_controls(has_history)
    st.text(tr(f"funnel.basis.shown.{basis}"))
    if basis == SNAPSHOT:
        render_snapshot(view, only_basis=not has_history)
    else:
        data = load_funnel(view, rule)
        if data["summary"]["deals"] == 0:
            st.info(tr("funnel.empty_period"))
        elif basis == COHORT:
            render_summary(data["summary"])
            render_cohorts(view, rule)
        else:
            render_summary(data["summary"])
            render_funnel(data, view)
            with st.expander(tr("headline.expander.funnel_table")):
                render_funnel_table(data, view)
            with st.expander(tr("headline.expander.lost")):
                render_lost(data, view)
            with st.expander(tr("headline.expander.funnel_segments")):
                render_segments(view, rule)
            with st.expander(tr("headline.expander.funnel_periods")):
                render_periods(view, rule)
            with st.expander(tr("headline.expander.moves")):
                render_transitions(data)
            with st.expander(tr("headline.expander.drill")):
                render_drill(data, view, rule)
    render_funnel_definitions()
