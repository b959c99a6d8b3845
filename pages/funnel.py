"""Funnel: where deals drop off, on a named basis, by segment and over time, with intervals."""

import streamlit as st

from dealscope.metrics.funnel import COHORT, SNAPSHOT
from ui.frame import require_frame
from ui.funnel import load_funnel, render_controls
from ui.funnel_sections import (
    render_cohorts,
    render_drill,
    render_funnel,
    render_funnel_definitions,
    render_lost,
    render_periods,
    render_segments,
    render_snapshot,
    render_summary,
    render_transitions,
)
from ui.render import require_view
from ui.state import tr

require_frame()

st.header(tr("funnel.title"))
view = require_view()
if view is not None:
    has_history = view.dataset.has_history
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
            tabs = st.tabs(
                [tr(f"funnel.tab.{t}") for t in ("lost", "segments", "periods", "moves", "drill")]
            )
            with tabs[0]:
                render_lost(data, view)
            with tabs[1]:
                render_segments(view, rule)
            with tabs[2]:
                render_periods(view, rule)
            with tabs[3]:
                render_transitions(data)
            with tabs[4]:
                render_drill(data, view, rule)
    render_funnel_definitions()
