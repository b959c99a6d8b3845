"""Words for risk scores (the presenter): tiers, reasons and rule signals in either language.

Scoring (dealscope.risk.score) returns numbers and reason codes once; this module renders them
for the Risk page, the weekly report and the CLI export. A reason reads like
"customer type Renewal: lost 93% of 1,292 closed (odds ×2.1)": the model's exact contribution
(as a factor on the odds of ending lost) beside that segment's historic lost rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.i18n import t
from dealscope.risk.score import TIERS, RiskScores

NUMBER_FEATURES = {
    "age_days": "{:.0f}",
    "days_in_stage": "{:.0f}",
    "stage_changes": "{:.0f}",
    "regressions": "{:.0f}",
    "age_ratio": "{:.1f}",
    "stage_time_ratio": "{:.1f}",
    "touches_7d": "{:.0f}",
    "touches_30d": "{:.0f}",
    "days_since_touch": "{:.0f}",
    "gap_ratio": "{:.1f}",
}
# Follow-up-log features whose missing value has words of its own (risk.reason.<feature>_missing).
MISSING_PHRASES = ("days_since_touch", "gap_ratio")
EXPORT_COLUMNS = (
    "opportunity_id",
    "p_lost",
    "expected_lost_value",
    "tier",
    "tag",
    "reasons",
    "signals",
)


def tier_labels(lang: str) -> dict[str, str]:
    """Tier code → its name in `lang` (易流失 / 需跟进 / 高意向; At risk / Follow up / Likely to win)."""
    return {tier: t(f"risk.tier.{tier}", lang) for tier in TIERS}


def _fill(template: str, **columns: pd.Series) -> pd.Series:
    """Vectorised str.format of one template over aligned string columns."""
    import re

    pieces = re.split(r"\{(\w+)\}", template)
    index = next(iter(columns.values())).index
    out = pd.Series("", index=index, dtype="string")
    for i, piece in enumerate(pieces):
        out = out + (columns[piece].astype("string") if i % 2 else piece)
    return out


def reason_phrases(reasons: pd.DataFrame, lang: str) -> pd.Series:
    """One phrase per reason row (index as `reasons`), with its odds factor."""
    out = pd.Series("", index=reasons.index, dtype="string")
    for feature, rows in reasons.groupby("feature", sort=False):
        feature = str(feature)
        value = rows["value"]
        if feature.startswith("te_"):
            segment = feature[3:]
            level = rows["level"].astype("string").fillna(t("risk.reason.missing_level", lang))
            closed = rows["segment_closed"].fillna(0).astype(int)
            rate = (rows["segment_lost_rate"] * 100).round().astype("Int64").astype("string")
            phrase = _fill(
                t("risk.reason.segment", lang),
                segment=pd.Series(t(f"risk.segment.{segment}", lang), index=rows.index),
                level=level,
                rate=rate.fillna("—"),
                closed=closed.map("{:,}".format),
            )
        elif feature == "log_amount":
            number = pd.to_numeric(value, errors="coerce")
            amount = np.expm1(number).round(-2).map("{:,.0f}".format, na_action="ignore")
            phrase = _fill(t("risk.reason.log_amount", lang), value=amount.astype("string"))
            phrase = phrase.where(number.notna(), t("risk.reason.amount_missing", lang))
        elif feature == "stage":
            phrase = _fill(t("risk.reason.stage", lang), value=value.astype("string"))
        elif feature == "contact_changed":
            changed = pd.to_numeric(value, errors="coerce").eq(1)
            phrase = pd.Series(
                np.where(
                    changed,
                    t("risk.reason.contact_changed", lang),
                    t("risk.reason.contact_unchanged", lang),
                ),
                index=rows.index,
                dtype="string",
            )
        else:
            number = pd.to_numeric(value, errors="coerce")
            text = number.map(NUMBER_FEATURES.get(feature, "{:.2f}").format, na_action="ignore")
            phrase = _fill(
                t(f"risk.reason.{feature}", lang), value=text.astype("string").fillna("—")
            )
            if feature in MISSING_PHRASES:
                phrase = phrase.where(number.notna(), t(f"risk.reason.{feature}_missing", lang))
        factor = np.exp(rows["log_odds"].astype(float)).map("{:.2f}".format)
        out.loc[rows.index] = phrase + _fill(t("risk.reason.effect", lang), factor=factor)
    return out


def reasons_by_deal(reasons: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per deal: risk_up, risk_down and reasons (both, labelled) in `lang`."""
    if reasons.empty:
        return pd.DataFrame(columns=["opportunity_id", "risk_up", "risk_down", "reasons"])
    phrased = reasons.assign(text=reason_phrases(reasons, lang)).sort_values(
        ["opportunity_id", "rank"], key=lambda s: s.abs() if s.name == "rank" else s, kind="stable"
    )
    sep = t("risk.reason.sep", lang)
    up = phrased.loc[phrased["rank"] > 0].groupby("opportunity_id")["text"].agg(sep.join)
    down = phrased.loc[phrased["rank"] < 0].groupby("opportunity_id")["text"].agg(sep.join)
    out = pd.DataFrame({"risk_up": up, "risk_down": down}).fillna("")
    up_label, down_label = t("risk.reason.up", lang), t("risk.reason.down", lang)
    both = (out["risk_up"] != "") & (out["risk_down"] != "")
    out["reasons"] = (
        np.where(out["risk_up"] != "", up_label + out["risk_up"], "")
        + np.where(both, " | ", "")
        + np.where(out["risk_down"] != "", down_label + out["risk_down"], "")
    )
    return out.rename_axis("opportunity_id").reset_index()


def signals_text(deals: pd.DataFrame, lang: str) -> pd.Series:
    """Evidence of each rule signal in words, e.g. "stalled: 40 days in stage (line 21)"."""
    days = deals["days_in_stage"].round().astype("Int64").astype("string").fillna("—")
    line = deals["stall_days"].round().astype("Int64").astype("string").fillna("—")
    silent = deals["days_silent"].round().astype("Int64").astype("string").fillna("—")
    empty = pd.Series("", index=deals.index, dtype="string")
    parts = [
        _fill(t("risk.signal.stalled_text", lang), days=days, line=line).where(
            deals["stalled"], ""
        ),
        _fill(t("risk.signal.silent_text", lang), days=silent).where(deals["silent"], ""),
        (empty + t("risk.signal.dm_text", lang)).where(
            deals["decision_maker_changed"].fillna(False).astype(bool), ""
        ),
    ]
    sep = t("risk.reason.sep", lang)
    out = parts[0]
    for p in parts[1:]:
        out = out.where(p.eq(""), out.where(out.eq(""), out + sep) + p)
    return out


def scores_table(scores: RiskScores, lang: str) -> pd.DataFrame:
    """The scored deals with words: tag (tier name), risk_up, risk_down, reasons, signals."""
    deals = scores.deals
    words = reasons_by_deal(scores.reasons, lang).set_index("opportunity_id")
    out = deals.copy()
    out["tag"] = deals["tier"].map(tier_labels(lang))
    for column in ("risk_up", "risk_down", "reasons"):
        out[column] = deals["opportunity_id"].map(words[column]).fillna("")
    out["signals"] = signals_text(deals, lang)
    return out
