"""Risk page helpers: cached model loading and scoring, training with progress, the model card."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.charts.risk import build_reliability_chart, build_tier_chart, reliability_frame
from dealscope.errors import DealScopeError
from dealscope.metrics.stall import DEFAULT_SILENCE_DAYS
from dealscope.model import Dataset
from dealscope.risk import registry, service
from dealscope.risk.features import closed_deals
from dealscope.risk.score import TIERS, tier_counts
from dealscope.risk.train import MIN_CLOSED_PER_CLASS
from ui.auth import audit
from ui.context import ViewContext
from ui.render import Kpi, render_chart, render_downloads, render_kpi_row
from ui.state import current_lang, tr

TABLE_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "stage",
    "amount",
    "p_lost",
    "tag",
    "risk_up",
    "risk_down",
    "signals",
)
METRICS = ("auc", "pr_auc", "brier", "lift_top_decile", "base_rate")


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def load_data_hash(url: str, dataset_id: int, _dataset: Dataset) -> str:
    """The dataset's content hash (datasets are immutable: url + id is a complete key)."""
    return service.dataset_hash(_dataset)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def load_outcome_counts(url: str, dataset_id: int, _dataset: Dataset) -> tuple[int, int]:
    """(won, lost) closed deals usable for training."""
    deals = closed_deals(_dataset.opportunities, service.dataset_as_of(_dataset))
    lost = int(deals["lost"].sum())
    return len(deals) - lost, lost


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def load_risk_model(dataset_id: int, data_hash: str, directory: str, token: str):
    """(estimator, card) verified and loaded; `token` (the manifest hash) changes on retrain."""
    return registry.load_model(dataset_id, data_hash, directory)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def load_risk_scores(key: tuple, _dataset: Dataset, _estimator, _card: dict) -> pd.DataFrame:
    """Scores of every open deal of the dataset; `key` = (url, id, hash, token, lang)."""
    return service.score_dataset(_dataset, _estimator, _card, key[-1])


def _train(view: ViewContext, data_hash: str) -> bool:
    with st.status(tr("risk.training"), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, step: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=tr(f"risk.step.{step}"))

        audit("train risk model", data_hash=data_hash)
        try:
            service.train_and_save(view.dataset, progress=progress, data_hash=data_hash)
        except DealScopeError as exc:
            status.update(label=tr("risk.train_failed", error=str(exc)), state="error")
            return False
        bar.progress(1.0, text=tr("risk.trained"))
        status.update(label=tr("risk.trained"), state="complete", expanded=False)
    return True


def resolve_model(view: ViewContext) -> tuple[object, dict, tuple] | None:
    """The dataset's model, or None after explaining why not (too little data, none yet,
    unusable) with a train button. Returns (estimator, card, scores cache key)."""
    dataset = view.dataset
    won, lost = load_outcome_counts(view.db_url, dataset.id, dataset)
    if won < MIN_CLOSED_PER_CLASS or lost < MIN_CLOSED_PER_CLASS:
        st.info(tr("risk.insufficient", won=won, lost=lost, minimum=MIN_CLOSED_PER_CLASS))
        return None
    data_hash = load_data_hash(view.db_url, dataset.id, dataset)
    directory = str(registry.model_dir())
    token = registry.model_token(dataset.id, data_hash, directory)
    if token is None:
        st.info(tr("risk.no_model"))
        if not st.button(tr("risk.train"), key="risk_train", type="primary"):
            return None
        if _train(view, data_hash):
            st.rerun()  # redraw without the "no model yet" note and button
        return None
    if st.button(tr("risk.retrain"), key="risk_retrain") and not _train(view, data_hash):
        return None
    token = registry.model_token(dataset.id, data_hash, directory)
    try:
        estimator, card = load_risk_model(dataset.id, data_hash, directory, token)
    except DealScopeError as exc:
        st.warning(tr("risk.unavailable"))
        st.text(str(exc))  # the reason may quote file contents: plain text, never markdown
        if st.button(tr("risk.train"), key="risk_train_again", type="primary"):
            _train(view, data_hash)
            st.rerun()
        return None
    return estimator, card, (view.db_url, dataset.id, data_hash, token, current_lang())


def render_scores(view: ViewContext, scores: pd.DataFrame, card: dict) -> None:
    """KPIs per tier, the tier filter, the scored table with reasons and signals, downloads."""
    shown = scores.loc[scores["opportunity_id"].isin(view.opportunities["opportunity_id"])]
    counts = tier_counts(shown).set_index("tier")["count"]
    flagged = shown["stalled"] | shown["silent"] | shown["decision_maker_changed"].fillna(False)
    st.subheader(tr("risk.scores.title"))
    thresholds = card["thresholds"]
    st.caption(
        tr(
            "risk.scores.caption",
            count=len(shown),
            as_of=view.as_of.strftime("%Y-%m-%d"),
            high=thresholds["high"],
            low=thresholds["low"],
        )
    )
    kpis = [Kpi(tr("risk.kpi.scored"), f"{len(shown):,}")]
    kpis += [Kpi(tr(f"risk.kpi.{tier}"), f"{int(counts[tier]):,}") for tier in TIERS]
    kpis.append(Kpi(tr("risk.kpi.flagged"), f"{int(flagged.sum()):,}"))
    render_kpi_row(kpis)
    if shown.empty:
        st.info(tr("risk.scores.empty"))
        return
    picked = st.segmented_control(
        tr("risk.filter_tier"),
        list(TIERS),
        selection_mode="multi",
        default=list(TIERS),
        format_func=lambda tier: tr(f"risk.tier.{tier}"),
        key="risk_tiers",
    )
    table = shown.loc[shown["tier"].isin(picked or [])]
    display = table.loc[:, list(TABLE_COLUMNS)].assign(p_lost=table["p_lost"] * 100)
    st.dataframe(
        display.rename(columns={c: tr(f"risk.col.{c}") for c in TABLE_COLUMNS}),
        hide_index=True,
        column_config={tr("risk.col.p_lost"): st.column_config.NumberColumn(format="%.1f%%")},
    )
    render_downloads(table, "risk_scores", "risk")
    labels = {tier: tr(f"risk.tier.{tier}") for tier in TIERS}
    labels |= {"tier": tr("risk.tiers_chart.tier"), "count": tr("risk.tiers_chart.count")}
    render_chart(build_tier_chart(tier_counts(shown), labels))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_model_card(card: dict) -> None:
    """The model card: figures beside the baseline, reliability, choice, feature availability."""
    lang = current_lang()
    metrics, baseline, rows = card["metrics"], card["baseline"], card["rows"]
    validation = card["validation"]
    st.subheader(tr("risk.card.title"))
    st.caption(
        tr(
            "risk.card.caption",
            test_from=validation["test_closed_from"][:10],
            test_to=validation["test_closed_to"][:10],
            deals_test=rows["deals_test"],
        )
    )
    kpis = []
    for name, inverse in (("auc", False), ("pr_auc", False), ("brier", True)):
        model_value, base_value = metrics[name], baseline[name]
        delta = None
        if model_value is not None and base_value is not None:
            delta = tr("risk.metric.baseline_delta", delta=f"{model_value - base_value:+.3f}")
        kpis.append(
            Kpi(
                tr(f"risk.metric.{name}"),
                _fmt(model_value),
                delta,
                tr("risk.metrics.help"),
                inverse,
            )
        )
    lift = metrics["lift_top_decile"]
    kpis.append(
        Kpi(tr("risk.metric.lift_top_decile"), _fmt(lift, 2), None, tr("risk.metrics.help"))
    )
    render_kpi_row(kpis, per_row=4)
    candidates = card["candidates"]
    st.text(
        tr(
            "risk.card.chosen",
            model=tr(f"risk.card.model.{card['chosen']}"),
            hgb=_fmt(candidates["hgb"]["calibration_auc"]),
            logistic=_fmt(candidates["logistic"]["calibration_auc"]),
        )
    )
    st.text(tr("risk.card.thresholds", **card["thresholds"]))
    st.markdown(f"**{tr('risk.card.metrics')}**")
    table = pd.DataFrame(
        {
            tr("risk.metrics.metric"): [tr(f"risk.metric.{m}") for m in METRICS],
            tr("risk.metrics.model"): [_fmt(metrics[m]) for m in METRICS],
            tr("risk.metrics.baseline"): [_fmt(baseline[m]) for m in METRICS],
        }
    )
    st.dataframe(table, hide_index=True)
    st.markdown(f"**{tr('risk.card.reliability')}**")
    labels = {
        "metrics": tr("risk.metrics.model"),
        "baseline": tr("risk.metrics.baseline"),
        "predicted": tr("risk.reliability.predicted"),
        "observed": tr("risk.reliability.observed"),
        "series": tr("risk.reliability.series"),
        "weight": tr("risk.reliability.weight"),
    }
    render_chart(build_reliability_chart(reliability_frame(card, labels), labels))
    st.markdown(f"**{tr('risk.card.candidates')}**")
    st.dataframe(
        pd.DataFrame(
            {
                tr("risk.metrics.model"): [tr(f"risk.card.model.{n}") for n in candidates],
                **{
                    tr(f"risk.metric.{m}"): [_fmt(c["test"][m]) for c in candidates.values()]
                    for m in ("auc", "pr_auc", "brier", "lift_top_decile")
                },
            }
        ),
        hide_index=True,
    )
    st.markdown(f"**{tr('risk.card.availability')}**")
    availability = pd.DataFrame(card["feature_availability"])
    st.dataframe(
        pd.DataFrame(
            {
                tr("risk.avail.feature"): availability["feature"],
                tr("risk.avail.used"): availability["used"],
                tr("risk.avail.why"): availability["why"].map(lambda why: why[lang]),
            }
        ),
        hide_index=True,
    )
    dataset = card["dataset"]
    st.text(
        tr(
            "risk.card.meta",
            dataset=dataset.get("name", "—"),
            id=dataset.get("id", "—"),
            hash=str(dataset.get("data_hash", ""))[:16],
            won=rows["closed_won"],
            lost=rows["closed_lost"],
            trained_at=card["trained_at"],
            sklearn=card["sklearn_version"],
        )
    )
    with st.expander(tr("app.definitions")):
        for term in ("model", "stalled", "silent"):
            text = tr(f"risk.definitions.{term}_text", days=DEFAULT_SILENCE_DAYS)
            st.text(f"{tr(f'risk.definitions.{term}')}: {text}")
