"""Top at-risk open deals of a week: rule signals (stalled, silent) and, when available, model risk.

Rule signals come from the shared stall module, evaluated at the week's end. Model risk comes
only from dealscope.risk's public scoring (score_open_deals, as of the week's end) of a model
already stored for this dataset: the report never trains one (training is a deliberate act on the Risk page or `risk train`), and says why
the risk column is missing when it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.i18n import LANGUAGES
from dealscope.model import Dataset
from dealscope.risk import registry, service
from dealscope.risk.score import score_open_deals

TOP_AT_RISK = 10
AT_RISK_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "stage",
    "amount",
    "days_in_stage",
    "stall_days",
    "days_silent",
    "stalled",
    "silent",
    "p_lost",
    "tier",
    *(f"reasons_{lang}" for lang in LANGUAGES),
)

# Reason codes (i18n keys weekly.risk.<code>) for the model column's state.
RISK_NO_MODEL = "no_model"
RISK_UNAVAILABLE = "unavailable"
RISK_OK = "model"


def load_model_risk(
    dataset: Dataset, moment: pd.Timestamp, model_dir: str | None = None
) -> tuple[pd.DataFrame | None, str]:
    """Model risk of the deals open at `moment`, from the model stored for `dataset`.

    Returns (frame, RISK_OK) with opportunity_id, p_lost, tier and reasons_<lang> for every
    language, or (None, reason code) when no model is stored for this exact data or the stored
    one cannot be used (then the Risk page says how to retrain).
    Scores use the dataset's whole frames (the model's features, e.g. an owner's win rate, are
    learnt on all deals); the caller keeps the deals of its view.
    """
    try:
        estimator, card = registry.load_model(dataset.id, service.dataset_hash(dataset), model_dir)
    except registry.ModelMissing:
        return None, RISK_NO_MODEL
    except registry.ModelUnavailable:
        return None, RISK_UNAVAILABLE
    frames = {
        lang: score_open_deals(
            estimator,
            card,
            dataset.opportunities,
            dataset.stage_events,
            dataset.stages,
            moment,
            lang,
        ).set_index("opportunity_id")
        for lang in LANGUAGES
    }
    first = frames[LANGUAGES[0]]
    out = first.loc[:, ["p_lost", "tier"]].copy()
    for lang, frame in frames.items():
        out[f"reasons_{lang}"] = frame["reasons"].reindex(out.index)
    return out.rename_axis("opportunity_id").reset_index(), RISK_OK


def rank_at_risk(
    flags: pd.DataFrame, model_risk: pd.DataFrame | None, top: int = TOP_AT_RISK
) -> pd.DataFrame:
    """The `top` open deals most at risk, with their evidence (AT_RISK_COLUMNS).

    Takes flag_open_deals' frame and optionally load_model_risk's frame.
    With a model: by p_lost, then the rule signals. Without: deals with at least one rule signal,
    by number of signals, then how far past the stall line (days_in_stage / stall_days), then
    days silent, then amount.
    """
    deals = flags.copy()
    if model_risk is not None:
        deals = deals.merge(model_risk, on="opportunity_id", how="left")
    missing = [c for c in AT_RISK_COLUMNS if c not in deals.columns]
    deals = deals.assign(**{c: np.nan for c in missing})
    signals = deals["stalled"].astype(int) + deals["silent"].astype(int)
    overdue = (deals["days_in_stage"] / deals["stall_days"]).fillna(0.0)
    deals = deals.assign(_signals=signals, _overdue=overdue, _silent=deals["days_silent"].fillna(0))
    if model_risk is None:
        deals = deals.loc[deals["_signals"] > 0]
    keys = ["p_lost"] if model_risk is not None else []
    keys += ["_signals", "_overdue", "_silent", "amount"]
    deals = deals.sort_values(keys, ascending=False, na_position="last", kind="stable")
    return deals.head(top).loc[:, list(AT_RISK_COLUMNS)].reset_index(drop=True)
