"""Risk: every open deal's calibrated chance of ending lost, with reasons, rule signals and the
model card (backtest figures beside a stage-only baseline). The model trains in the background.

The answer first (expected lost value of the top at-risk deals), then the tier KPIs and the
scored list; the model card in a labelled expander."""

import streamlit as st

from ui.frame import require_frame
from ui.headline import render_headline, risk_facts, risk_sentences
from ui.render import require_view
from ui.risk import (
    load_risk_scores,
    render_model_card,
    render_risk_definitions,
    render_scores,
    resolve_model,
)
from ui.state import tr

require_frame()

st.header(tr("risk.title"))
view = require_view()
if view is not None:
    st.caption(tr("risk.caption", as_of=view.as_of.strftime("%Y-%m-%d %H:%M")))
    resolved = resolve_model(view)
    if resolved is not None:
        estimator, card, key = resolved
        scores = load_risk_scores(key, view.dataset, estimator, card)
        render_headline(risk_sentences(risk_facts(view, scores.deals)))
        if card.mode == "dated":
            st.warning(tr("risk.fallback"))
        elif card.mode == "undated":
            st.warning(tr("risk.card.cross_validation", folds=card.validation.folds))
        if not card.beats_baseline:
            st.warning(tr("risk.no_skill"))
        render_scores(view, scores, card)
        with st.expander(tr("headline.expander.risk_card")):
            render_model_card(card)
        render_risk_definitions()
