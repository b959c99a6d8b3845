"""Risk page helpers: the dataset's model (trained in the background when missing), cached
scoring, the scored table with words from the presenter, and the model card."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.activity import store as activity_store
from dealscope.charts.risk import build_reliability_chart, build_tier_chart, reliability_frame
from dealscope.errors import DealScopeError
from dealscope.metrics.stall import DEFAULT_SILENCE_DAYS
from dealscope.model import Dataset
from dealscope.report.risk_present import scores_table, tier_labels
from dealscope.risk import registry, service
from dealscope.risk.card import BACKTEST, ModelCard
from dealscope.risk.features import closed_deals
from dealscope.risk.score import ORDERS, TIERS, RiskScores, order_deals, tier_counts
from dealscope.risk.train import MIN_CLOSED_PER_CLASS
from ui.activity import load_activity_log
from ui.context import ViewContext
from ui.loaders import get_engine
from ui.render import Kpi, render_chart, render_downloads, render_kpi_row, show_table
from ui.state import current_lang, error_message, tr
from ui.training import DONE, FAILED, INSUFFICIENT, RUNNING, start_training, training_registry

TABLE_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "stage",
    "amount",
    "p_lost",
    "expected_lost_value",
    "tag",
    "risk_up",
    "risk_down",
    "signals",
)
METRICS = ("auc", "pr_auc", "brier", "lift_top_decile", "base_rate")
POLL_SECONDS = 1.0


def dataset_log(url: str, dataset_id: int) -> pd.DataFrame:
    """The dataset's follow-up log (cached by ui.activity; empty without one): the model reads it."""
    token = activity_store.log_token(get_engine(url), dataset_id)
    return load_activity_log(url, dataset_id, token)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def load_data_hash(url: str, dataset_id: int, log_token: str, _dataset: Dataset) -> str:
    """The content hash of the dataset and its follow-up log (datasets are immutable; a log is
    replaced whole, so url + id + the log's token — its content hash — is the key)."""
    return service.dataset_hash(_dataset, dataset_log(url, dataset_id))


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def load_outcome_counts(
    url: str, dataset_id: int, _dataset: Dataset, as_of: pd.Timestamp | None = None
) -> tuple[int, int]:
    """(won, lost) closed deals usable for training as of `as_of` (Dataset.as_of)."""
    deals = closed_deals(_dataset.opportunities, service.dataset_as_of(_dataset))
    lost = int(deals["lost"].sum())
    return len(deals) - lost, lost


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def load_risk_model(dataset_id: int, data_hash: str, directory: str, token: str):
    """(estimator, card) verified and loaded; `token` (the manifest hash) changes on retrain."""
    return registry.load_model(dataset_id, data_hash, directory)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def load_risk_scores(key: tuple, _dataset: Dataset, _estimator, _card: ModelCard) -> RiskScores:
    """Scores of every open deal as of the chosen date (numbers and codes, any language);
    `key` = (url, id, hash, token, as_of)."""
    return service.score_dataset(
        _dataset, _estimator, _card, key[-1], activities=dataset_log(*key[:2])
    )


def stored_model(view: ViewContext) -> tuple[object, ModelCard, tuple] | None:
    """The stored, usable model of the view's dataset and its cache key, else None."""
    dataset = view.dataset
    log_token = activity_store.log_token(get_engine(view.db_url), dataset.id)
    data_hash = load_data_hash(view.db_url, dataset.id, log_token, dataset)
    directory = str(registry.model_dir())
    token = registry.model_token(dataset.id, data_hash, directory)
    if token is None:
        return None
    try:
        estimator, card = load_risk_model(dataset.id, data_hash, directory, token)
    except DealScopeError:
        return None
    # The as-of date is in the key: scores are computed as of the date chosen in the sidebar.
    return estimator, card, (view.db_url, dataset.id, data_hash, token, view.as_of)


def model_status(view: ViewContext, start: bool = True) -> tuple[tuple | None, str]:
    """((estimator, card, key) or None, status): 'model', 'training', 'failed', 'insufficient',
    'no_model' (only when `start` is False).

    With `start`, starts background training when the dataset has enough outcomes and no usable
    model (the Risk page); the Weekly page only reads (a save or the Risk page trains)."""
    found = stored_model(view)
    if found is not None:
        return found, "model"
    won, lost = load_outcome_counts(view.db_url, view.dataset.id, view.dataset, view.as_of)
    if won < MIN_CLOSED_PER_CLASS or lost < MIN_CLOSED_PER_CLASS:
        return None, INSUFFICIENT
    jobs = training_registry()
    job = jobs.get(view.db_url, view.dataset.id)
    if job is not None and job.state == DONE:
        jobs.forget(view.db_url, view.dataset.id)  # done, yet nothing usable stored: again
        job = None
    if job is None:
        if not start:
            return None, "no_model"
        job = start_training(view.db_url, view.dataset.id)
    return None, job.state if job.state != RUNNING else "training"


@st.fragment(run_every=POLL_SECONDS)
def render_training(view: ViewContext) -> None:
    """'Training…' with progress; reruns the page once the model is ready."""
    job = training_registry().get(view.db_url, view.dataset.id)
    if job is None or job.state == DONE:
        st.rerun(scope="app")
        return
    if job.state == FAILED:
        failure = job.failure if job.failure is not None else (job.error or "")
        st.warning(tr("risk.training_failed_bg", error=error_message(failure)))
        return
    if job.state == INSUFFICIENT:
        won, lost = load_outcome_counts(view.db_url, view.dataset.id, view.dataset, view.as_of)
        st.info(tr("risk.insufficient", won=won, lost=lost, minimum=MIN_CLOSED_PER_CLASS))
        return
    st.info(
        tr("risk.training_bg", step=tr(f"risk.step.{job.step}"), percent=round(job.fraction * 100))
    )
    st.progress(job.fraction)


def resolve_model(view: ViewContext) -> tuple[object, ModelCard, tuple] | None:
    """The dataset's model, or None after showing why not (too little data, training…)."""
    found, status = model_status(view)
    if found is not None:
        return found
    if status == INSUFFICIENT:
        won, lost = load_outcome_counts(view.db_url, view.dataset.id, view.dataset, view.as_of)
        st.info(tr("risk.insufficient", won=won, lost=lost, minimum=MIN_CLOSED_PER_CLASS))
        return None
    render_training(view)
    return None


def render_scores(view: ViewContext, scores: RiskScores, card: ModelCard) -> None:
    """KPIs per tier, the tier filter and order, the scored table with reasons, downloads."""
    lang = current_lang()
    table = scores_table(scores, lang)
    shown = table.loc[table["opportunity_id"].isin(view.opportunities["opportunity_id"])]
    counts = tier_counts(shown).set_index("tier")["count"]
    flagged = shown["stalled"] | shown["silent"] | shown["decision_maker_changed"].fillna(False)
    st.subheader(tr("risk.scores.title"))
    st.caption(
        tr(
            "risk.scores.caption",
            count=len(shown),
            as_of=scores.moment.strftime("%Y-%m-%d"),
            high=card.thresholds.high,
            low=card.thresholds.low,
        )
    )
    kpis = [Kpi(tr("risk.kpi.scored"), f"{len(shown):,}")]
    kpis += [Kpi(tr(f"risk.kpi.{tier}"), f"{int(counts[tier]):,}") for tier in TIERS]
    kpis.append(Kpi(tr("risk.kpi.flagged"), f"{int(flagged.sum()):,}"))
    render_kpi_row(kpis)
    if shown.empty:
        st.info(tr("risk.scores.empty"))
        return
    labels = tier_labels(lang)
    left, right = st.columns(2)
    with left:
        picked = st.segmented_control(
            tr("risk.filter_tier"),
            list(TIERS),
            selection_mode="multi",
            default=list(TIERS),
            format_func=labels.get,
            key="risk_tiers",
        )
    with right:
        order = st.radio(
            tr("risk.order"),
            list(ORDERS),
            format_func={o: tr(f"risk.order.{o}") for o in ORDERS}.__getitem__,
            horizontal=True,
            key="risk_order",
        )
    table = order_deals(shown.loc[shown["tier"].isin(picked or [])], order)
    listed = show_table(
        table.loc[:, list(TABLE_COLUMNS)],
        {"p_lost": "pct"},
        rename=lambda c: tr(f"risk.col.{c}"),
    )
    # The download is the table as shown: headers and tier names in the page's language.
    render_downloads(listed, "risk_scores", "risk")
    chart_labels = dict(labels)
    chart_labels |= {"tier": tr("risk.tiers_chart.tier"), "count": tr("risk.tiers_chart.count")}
    render_chart(build_tier_chart(tier_counts(shown), chart_labels))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_validation(card: ModelCard) -> None:
    """How the headline figures were obtained: the backtest (or cross-validation)."""
    v = card.validation
    if v.kind == BACKTEST:
        st.text(
            tr(
                "risk.card.backtest",
                cutoffs=len(v.cutoffs),
                first=v.cutoffs[-1].cutoff[:10],
                last=v.cutoffs[0].cutoff[:10],
                scored=card.metrics.n,
                unresolved=v.unresolved,
                share=f"{(v.unresolved_share or 0) * 100:.1f}%",
                horizon=round(v.horizon_days or 0),
            )
        )
    else:
        st.text(tr("risk.card.cross_validation", folds=v.folds))
    if card.closed_split is not None:
        st.text(
            tr(
                "risk.card.closed_split",
                auc=_fmt(card.closed_split.auc),
                brier=_fmt(card.closed_split.brier),
            )
        )


def render_model_card(card: ModelCard) -> None:
    """The model card: backtest figures beside the baseline, reliability, cut-offs, features."""
    metrics, baseline = card.metrics, card.baseline
    st.subheader(tr("risk.card.title"))
    render_validation(card)
    kpis = []
    for name, inverse in (("auc", False), ("pr_auc", False), ("brier", True)):
        model_value, base_value = getattr(metrics, name), getattr(baseline, name)
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
    kpis.append(
        Kpi(
            tr("risk.metric.lift_top_decile"),
            _fmt(metrics.lift_top_decile, 2),
            None,
            tr("risk.metrics.help"),
        )
    )
    render_kpi_row(kpis, per_row=4)
    st.text(tr("risk.card.method"))
    st.text(tr("risk.card.thresholds", high=card.thresholds.high, low=card.thresholds.low))
    st.markdown(f"**{tr('risk.card.metrics')}**")
    st.dataframe(
        pd.DataFrame(
            {
                tr("risk.metrics.metric"): [tr(f"risk.metric.{m}") for m in METRICS],
                tr("risk.metrics.model"): [_fmt(getattr(metrics, m)) for m in METRICS],
                tr("risk.metrics.baseline"): [_fmt(getattr(baseline, m)) for m in METRICS],
            }
        ),
        hide_index=True,
    )
    st.markdown(f"**{tr('risk.card.reliability')}**")
    labels = {
        "metrics": tr("risk.metrics.model"),
        "baseline": tr("risk.metrics.baseline"),
        "predicted": tr("risk.reliability.predicted"),
        "observed": tr("risk.reliability.observed"),
        "series": tr("risk.reliability.series"),
        "weight": tr("risk.reliability.weight"),
    }
    render_chart(build_reliability_chart(reliability_frame(card.to_json(), labels), labels))
    if card.validation.cutoffs:
        st.markdown(f"**{tr('risk.card.cutoffs')}**")
        cutoffs = pd.DataFrame([vars(c) for c in card.validation.cutoffs])
        cutoffs["cutoff"] = cutoffs["cutoff"].str[:10]
        cols = ("cutoff", "open_deals", "resolved", "unresolved", "training_rows", "auc", "brier")
        show_table(
            cutoffs.loc[:, list(cols)],
            {"auc": "decimal3", "brier": "decimal3"},
            rename=lambda c: tr(
                f"risk.metric.{c}" if c in ("auc", "brier") else f"risk.card.col.{c}"
            ),
        )
    st.markdown(f"**{tr('risk.card.availability')}**")
    st.dataframe(
        pd.DataFrame(
            {
                tr("risk.avail.feature"): [r.feature for r in card.feature_availability],
                tr("risk.avail.used"): [r.used for r in card.feature_availability],
                tr("risk.avail.why"): [
                    tr("risk.avail.te" if r.code.startswith("te_") else f"risk.avail.{r.code}")
                    for r in card.feature_availability
                ],
            }
        ),
        hide_index=True,
    )
    dataset = card.dataset
    st.text(
        tr(
            "risk.card.meta",
            dataset=dataset.name or "—",
            id=dataset.id if dataset.id is not None else "—",
            hash=str(dataset.data_hash or "")[:16],
            won=card.rows.get("closed_won", 0),
            lost=card.rows.get("closed_lost", 0),
            trained_at=card.trained_at,
            sklearn=card.sklearn_version,
        )
    )


def render_risk_definitions() -> None:
    """The model and the rule signals in plain words (its own expander: expanders do not nest,
    and the model card is drawn inside one)."""
    with st.expander(tr("app.definitions")):
        for term in ("model", "stalled", "silent"):
            text = tr(f"risk.definitions.{term}_text", days=DEFAULT_SILENCE_DAYS, prior=20)
            st.text(f"{tr(f'risk.definitions.{term}')}: {text}")
