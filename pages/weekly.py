"""Weekly review (每周复盘): the week's KPIs, bottleneck, at-risk deals, movement, snapshot diff, report.

The answer first (what changed this week), then the KPI row and the trend; every section after
that in a labelled expander."""

import streamlit as st

from dealscope.metrics.headlines import weekly_headline
from ui.activity import render_weekly_follow_up
from ui.frame import require_frame
from ui.headline import render_headline, weekly_sentences
from ui.render import require_view
from ui.state import current_lang, tr
from ui.weekly import (
    load_report_files,
    load_weekly_report,
    render_at_risk,
    render_bottleneck,
    render_caption,
    render_comparison,
    render_movements,
    render_report_downloads,
    render_trend,
    render_weekly_definitions,
    render_weekly_kpis,
    risk_model_token,
    select_comparison,
    select_week,
)

require_frame()

st.header(tr("weekly.title"))
view = require_view(needs_dates="weekly.needs_dates")
if view is not None:
    left, right = st.columns(2)
    with left:
        week = select_week(view)
    with right:
        compare_id = select_comparison(view)
    if week is None:
        st.info(tr("weekly.no_weeks"))
    else:
        model_token = risk_model_token(view)
        with st.spinner():
            document = load_weekly_report(view, model_token, week, compare_id)
        headline = weekly_headline(document.kpis, document.meta.week)
        render_headline(weekly_sentences(headline, document.meta.currency))
        render_caption(document)
        st.caption(tr("weekly.filtered"))
        st.subheader(tr("weekly.section.kpis"))
        render_weekly_kpis(document)
        render_trend(document)
        with st.expander(tr("headline.expander.bottleneck")):
            render_bottleneck(document)
        with st.expander(tr("headline.expander.at_risk")):
            render_at_risk(document)
        with st.expander(tr("headline.expander.follow_up")):
            render_weekly_follow_up(view, document)
        with st.expander(tr("headline.expander.movements")):
            render_movements(document)
        with st.expander(tr("headline.expander.comparison")):
            render_comparison(document)
        with st.expander(tr("headline.expander.downloads")):
            html, markdown = load_report_files(
                view, model_token, week, compare_id, current_lang(), document
            )
            render_report_downloads(document, html, markdown)
        render_weekly_definitions(document)
