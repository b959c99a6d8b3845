"""Per-deal reasons: which features raise and which lower each deal's risk, in plain words.

Method ("replace with the typical value"): a feature's effect on a deal is the deal's calibrated
probability minus the probability with that one feature set to its typical training value
(median, or most common level). It works the same for the tree and the logistic model, is exact
in the sense of "what if this deal were ordinary in this respect", and costs one vectorised
predict per feature over all deals at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from dealscope.i18n import t
from dealscope.risk.features import FeatureSpec

# Effects smaller than this (1 percentage point) are not worth a reason.
MIN_EFFECT = 0.01
TOP_RAISING, TOP_LOWERING = 2, 2
INTEGER_FEATURES = ("age_days", "days_in_stage", "stage_changes", "regressions", "owner_closed")


def _value_text(column: str, values: pd.Series) -> pd.Series:
    """Display text of one feature's values (days and counts as integers, rates as %)."""
    if column in INTEGER_FEATURES:
        numbers = values.astype("float64").round()
        text = numbers.astype("Int64").astype("string")
    elif column == "owner_win_rate":
        text = (values.astype("float64") * 100).round().astype("Int64").astype("string") + "%"
    elif column == "log_amount":
        amount = np.expm1(values.astype("float64")).round(-2)
        text = amount.map("{:,.0f}".format, na_action="ignore").astype("string")
    else:
        text = values.astype("string")
    return text.fillna("—")


def _phrases(column: str, values: pd.Series, lang: str) -> np.ndarray:
    head, _, tail = t(f"risk.reason.{column}", lang).partition("{value}")
    return (head + _value_text(column, values) + tail).to_numpy(dtype=object)


def _join(parts: list[np.ndarray], sep: str) -> np.ndarray:
    out = parts[0]
    for part in parts[1:]:
        out = np.where(part == "", out, np.where(out == "", part, out + sep + part))
    return out


def contributions(
    estimator: ClassifierMixin, X: pd.DataFrame, spec: FeatureSpec, typical: dict
) -> np.ndarray:
    """Matrix (deals × spec.columns): p(deal) − p(deal with that feature at its typical value)."""
    p = estimator.predict_proba(X)[:, 1]
    effects = np.zeros((len(X), len(spec.columns)))
    for j, column in enumerate(spec.columns):  # one vectorised predict per feature
        if typical.get(column) is None:
            continue
        replaced = X.copy()
        replaced[column] = typical[column]
        effects[:, j] = p - estimator.predict_proba(replaced)[:, 1]
    return effects


def explain(
    estimator: ClassifierMixin, X: pd.DataFrame, spec: FeatureSpec, typical: dict, lang: str
) -> pd.DataFrame:
    """Reasons per deal (rows of X, the model matrix): risk_up and risk_down texts, e.g.
    "42 days in the current stage (+12 pts)", the strongest first; index as X."""
    effects = contributions(estimator, X, spec, typical)
    n = len(X)
    if n == 0:
        return pd.DataFrame({"risk_up": [], "risk_down": []}, index=X.index)
    phrases = np.column_stack([_phrases(c, X[c], lang) for c in spec.columns])
    points = np.char.mod("%+d", np.rint(effects * 100).astype(int)).astype(object)
    texts = (
        phrases + t("risk.reason.effect_open", lang) + points + t("risk.reason.effect_close", lang)
    )
    rows = np.arange(n)[:, None]
    up_idx = np.argsort(-effects, axis=1, kind="stable")[:, :TOP_RAISING]
    down_idx = np.argsort(effects, axis=1, kind="stable")[:, :TOP_LOWERING]
    up = np.where(effects[rows, up_idx] >= MIN_EFFECT, texts[rows, up_idx], "")
    down = np.where(effects[rows, down_idx] <= -MIN_EFFECT, texts[rows, down_idx], "")
    sep = t("risk.reason.sep", lang)
    return pd.DataFrame(
        {
            "risk_up": _join(list(up.T), sep),
            "risk_down": _join(list(down.T), sep),
        },
        index=X.index,
    )
