"""Top at-risk open deals of a week: rule signals (stalled, silent) and, when a model is passed
in, model risk.

Rule signals come from the shared stall module, evaluated at the week's end. Model risk comes from
dealscope.risk's public scoring (score_open_deals, as of the week's end) of a model the caller
loaded and passed in: the report never reads model files and never trains one. Scores are numbers
and reason codes; the presenters render their words in the report's language.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.model import Dataset
from dealscope.risk.score import RiskScores, score_open_deals

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
    "expected_lost_value",
    "tier",
)


def model_risk_at(
    dataset: Dataset, estimator, card, moment: pd.Timestamp, activities: pd.DataFrame | None = None
) -> RiskScores:
    """Scores of the deals open at `moment` by the passed-in model, on the dataset's whole frames
    (features such as a segment's lost rate are learnt on all deals); the caller keeps the deals
    of its view. `activities`: the dataset's follow-up log (when the model uses it)."""
    return score_open_deals(
        estimator,
        card,
        dataset.opportunities,
        dataset.stage_events,
        dataset.stages,
        moment,
        activities=activities,
    )


def rank_at_risk(
    flags: pd.DataFrame,
    model_risk: RiskScores | None,
    top: int = TOP_AT_RISK,
    order: str = "p_lost",
) -> pd.DataFrame:
    """The `top` open deals most at risk, with their evidence (AT_RISK_COLUMNS).

    Takes flag_open_deals' frame and optionally the model's scores. With a model: by `order`
    (p_lost or expected_lost_value), then the rule signals. Without: deals with at least one rule
    signal, by number of signals, then how far past the stall line, then days silent, then amount.
    """
    deals = flags.copy()
    if model_risk is not None:
        model = model_risk.deals.loc[:, ["opportunity_id", "p_lost", "expected_lost_value", "tier"]]
        deals = deals.merge(model, on="opportunity_id", how="left")
    missing = [c for c in AT_RISK_COLUMNS if c not in deals.columns]
    deals = deals.assign(**{c: np.nan for c in missing})
    signals = deals["stalled"].astype(int) + deals["silent"].astype(int)
    overdue = (deals["days_in_stage"] / deals["stall_days"]).fillna(0.0)
    deals = deals.assign(_signals=signals, _overdue=overdue, _silent=deals["days_silent"].fillna(0))
    if model_risk is None:
        deals = deals.loc[deals["_signals"] > 0]
    keys = [order, "p_lost"] if model_risk is not None else []
    keys += ["_signals", "_overdue", "_silent", "amount"]
    keys = list(dict.fromkeys(keys))
    deals = deals.sort_values(keys, ascending=False, na_position="last", kind="stable")
    return deals.head(top).loc[:, list(AT_RISK_COLUMNS)].reset_index(drop=True)
