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
    """Customer-facing touches that name a contact, in (deal, time) order, with integer codes:
    `deal` (per deal), `key` (per contact, compared trimmed and case-folded)."""
    seen = activities if as_of is None else activities.loc[activities["occurred_at"] <= as_of]
    touches = customer_touches(seen)
    deal_code, _ = pd.factorize(touches["opportunity_id"])
    contact_code, contacts = pd.factorize(touches["contact"])
    # Trim and fold once per distinct contact, not per row.
    folded = pd.Series(contacts, dtype="string").str.strip()
    key_of_contact, keys = pd.factorize(folded.str.casefold().mask(folded == ""))
    # A sentinel after the distinct values: code -1 (no contact) reads it, also when no touch
    # names any contact (a log without a contact column) and the distinct values are empty.
    key = np.append(key_of_contact, -1)[contact_code]
    named = pd.DataFrame(
        {
            "opportunity_id": touches["opportunity_id"].to_numpy(),
            "at": touches["occurred_at"].to_numpy(),
            "contact": np.append(folded.to_numpy(dtype=object), None)[contact_code],
            "deal": deal_code,
            "key": key,
        }
    ).loc[key >= 0]
    # Canonical logs are already in (deal, time) order; sort only when they are not.
    order = np.lexsort((named["at"].to_numpy(), named["deal"].to_numpy()))
    if not (order == np.arange(len(order))).all():
        named = named.iloc[order]
    named = named.reset_index(drop=True)
    named.attrs["keys"] = np.asarray(keys, dtype=object)
    return named


def main_contacts(
    activities: pd.DataFrame, as_of: pd.Timestamp | None = None, window_days: int = WINDOW_DAYS
) -> pd.DataFrame:
    """At each named touch: (opportunity_id, at, key, main contact, its touches in the window,
    named touches in the window)."""
    named = _named_touches(activities, as_of)
    n = len(named)
    deal = named["deal"].to_numpy(dtype=np.int64)
    key = named["key"].to_numpy(dtype=np.int64)
    seconds = named["at"].to_numpy("datetime64[s]").astype(np.int64)
    # Rows are in (deal, time) order: one int64 key orders them, so the first touch inside each
    # touch's window is one searchsorted away and the window's touches are a contiguous range.
    low = seconds.min() if n else 0
    span = int(seconds.max() - low) + 2 * window_days * 86_400 + 1 if n else 1
    order_key = deal * span + (seconds - low)
    first = np.searchsorted(order_key, order_key - window_days * 86_400, side="right")
    sizes = np.arange(n) - first + 1
    touch = np.repeat(np.arange(n), sizes)
    seen = first[touch] + (np.arange(len(touch)) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    # Count each (touch, contact) pair of the windows; keep the latest touch of each contact.
    contacts = int(key.max()) + 1 if n else 1
    pair = touch * contacts + key[seen]
    pair_codes, pairs = pd.factorize(pair, sort=False)
    counts = np.bincount(pair_codes)
    last_seen = np.full(len(pairs), -1, dtype=np.int64)
    np.maximum.at(last_seen, pair_codes, seen)
    pair_touch = pairs // contacts
    # Per touch: most touches, then the one touched last.
    rank = np.lexsort((-last_seen, -counts, pair_touch))
    top = rank[np.r_[True, pair_touch[rank][1:] != pair_touch[rank][:-1]]] if len(rank) else rank
    keys = named.attrs["keys"]
    out = named[["opportunity_id", "at"]].copy()
    out["key"] = keys[pairs[top] % contacts] if n else []
    out["contact"] = named["contact"].to_numpy()[last_seen[top]] if n else []
    out["touches"] = counts[top]
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
