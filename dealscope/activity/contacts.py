"""Main-contact changes within a deal (关键决策人变动).

- main contact at a touch t: among the deal's customer-facing touches that name a contact in the
  trailing window (t - WINDOW_DAYS, t], the contact with the most touches; ties go to the one
  touched last. It is *established* only with at least MIN_TOUCHES touches in that window and
  more than half of the window's named touches (a meeting or two with a new name, or a window
  split between people, is not yet a new decision maker).
- change: at a touch t whose established main contact differs from the deal's previous
  established main contact; dated t. Contact names are compared trimmed and case-folded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.activity.model import customer_touches

WINDOW_DAYS = 30
MIN_TOUCHES = 2
CHANGE_COLUMNS = ("opportunity_id", "changed_at", "previous_contact", "new_contact")


def _named_touches(activities: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    seen = activities if as_of is None else activities.loc[activities["occurred_at"] <= as_of]
    touches = customer_touches(seen)
    contact = touches["contact"].astype("string").str.strip()
    named = pd.DataFrame(
        {
            "opportunity_id": touches["opportunity_id"].astype(str).to_numpy(),
            "at": touches["occurred_at"].to_numpy(),
            "contact": contact.to_numpy(),
            "key": contact.str.casefold().to_numpy(),
        }
    )
    named = named.loc[named["key"].notna() & (named["key"] != "")]
    named = named.sort_values(["opportunity_id", "at"], kind="stable").reset_index(drop=True)
    named["touch"] = named.index
    return named


def main_contacts(
    activities: pd.DataFrame, as_of: pd.Timestamp | None = None, window_days: int = WINDOW_DAYS
) -> pd.DataFrame:
    """At each named touch: (opportunity_id, at, key, main contact, its touches in the window,
    named touches in the window)."""
    named = _named_touches(activities, as_of)
    deal_code = pd.factorize(named["opportunity_id"])[0].astype(np.int64)
    key_code, keys = pd.factorize(named["key"])
    seconds = named["at"].to_numpy("datetime64[s]").astype(np.int64)
    # Touches are sorted by (deal, time): one int64 key orders them, so the first touch inside
    # each touch's window is one searchsorted away, and the window's touches are a range.
    span = int(seconds.max() - seconds.min()) + 2 * window_days * 86_400 + 1 if len(named) else 1
    order_key = deal_code * span + (seconds - (seconds.min() if len(named) else 0))
    first = np.searchsorted(order_key, order_key - window_days * 86_400, side="right")
    sizes = np.arange(len(named)) - first + 1
    touch = np.repeat(np.arange(len(named)), sizes)
    seen = first[touch] + (np.arange(len(touch)) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    pairs = pd.DataFrame({"touch": touch, "contact": key_code[seen], "seen": seen})
    counts = pairs.groupby(["touch", "contact"], sort=False).agg(
        touches=("seen", "size"), last_seen=("seen", "max")
    )
    ranked = counts.reset_index().sort_values(
        ["touch", "touches", "last_seen"], ascending=[True, False, False], kind="stable"
    )
    top = ranked.drop_duplicates("touch").set_index("touch").reindex(np.arange(len(named)))
    out = named[["opportunity_id", "at"]].copy()
    out["key"] = np.asarray(keys, dtype=object)[top["contact"].to_numpy(dtype=np.int64)]
    out["contact"] = named["contact"].to_numpy()[top["last_seen"].to_numpy(dtype=np.int64)]
    out["touches"] = top["touches"].to_numpy(dtype=np.int64)
    out["window_touches"] = sizes
    return out.reset_index(drop=True)


def contact_changes(
    activities: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    window_days: int = WINDOW_DAYS,
    min_touches: int = MIN_TOUCHES,
) -> pd.DataFrame:
    """Every change of established main contact (CHANGE_COLUMNS), in deal and time order."""
    mains = main_contacts(activities, as_of, window_days)
    established = mains.loc[
        (mains["touches"] >= min_touches) & (2 * mains["touches"] > mains["window_touches"])
    ].reset_index(drop=True)
    previous_key = established.groupby("opportunity_id", sort=False)["key"].shift()
    previous_name = established.groupby("opportunity_id", sort=False)["contact"].shift()
    changed = previous_key.notna() & (established["key"] != previous_key)
    return pd.DataFrame(
        {
            "opportunity_id": established.loc[changed, "opportunity_id"].to_numpy(),
            "changed_at": established.loc[changed, "at"].to_numpy(),
            "previous_contact": previous_name[changed].to_numpy(),
            "new_contact": established.loc[changed, "contact"].to_numpy(),
        },
        columns=list(CHANGE_COLUMNS),
    )


def latest_change(changes: pd.DataFrame) -> pd.DataFrame:
    """The last change per deal (index opportunity_id)."""
    return changes.groupby("opportunity_id", sort=False).last()
