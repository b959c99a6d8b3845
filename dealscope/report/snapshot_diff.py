"""What changed between two exports (last week's and this week's), with no stage history needed.

Deals are matched by opportunity_id. Each deal's *status class* is exactly one of:

- new: only in the new snapshot; removed: only in the old one (deleted, merged or filtered out of
  the export — the data cannot say which, so it is reported, never guessed);
- won: won now and not won before; lost: lost now and not lost before; reopened: open now, closed
  before; open: open in both; unchanged_closed: closed in both with the same status.

Deals open in both can also be in any of stage_forward / stage_back (stage position, from the new
snapshot's stage table), amount_up / amount_down, close_pulled_in / close_pushed_out
(expected_close_at earlier / later). These six are not exclusive (one deal can move forward,
grow and slip in the same week), so the category table counts a deal in each that applies.

The waterfall runs from the old open pipeline value to the new one. Each deal's contribution is
exact: (its amount if open in the new snapshot, else 0) − (its amount if open in the old one,
else 0). The whole contribution goes to exactly one bar — its status class (new, reopened, won,
lost, removed), or for deals open in both to amount_up / amount_down — so
old pipeline + sum of bars = new pipeline, exactly. Stage and close-date moves do not change the
open pipeline value, so they are counted in the table but carry no waterfall bar.

Values are in the new snapshot's main currency; amounts in other currencies and missing amounts
count as 0 in values (they are counted, not priced: see `unpriced_count`, one per deal however
many of the two snapshots leave it unpriced).

Which stored datasets are worth comparing with (`comparison_candidates`): the other versions of
the same dataset name, then datasets that share deal ids with it (a comparison matches deals by
id: with no id in common every deal would read as "new" and "removed").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import main_currency, priced_amount, status_as_of
from dealscope.model import LOST, OPEN, WON

STATUS_CLASSES = ("new", "reopened", "won", "lost", "removed", "open", "unchanged_closed")
CHANGE_CATEGORIES = (
    "stage_forward",
    "stage_back",
    "amount_up",
    "amount_down",
    "close_pulled_in",
    "close_pushed_out",
)
CATEGORIES = ("new", "won", "lost", "reopened", "removed", *CHANGE_CATEGORIES)
# Waterfall bars between the start (old pipeline) and the end (new pipeline), in display order.
WATERFALL_BARS = ("new", "reopened", "amount_up", "amount_down", "won", "lost", "removed")

_SIDE_COLUMNS = ("name", "owner", "stage", "status", "amount", "expected_close_at")


def _side(opportunities: pd.DataFrame, currency: str | None, suffix: str) -> pd.DataFrame:
    frame = opportunities.loc[:, ["opportunity_id", *_SIDE_COLUMNS]].copy()
    frame["amount"] = priced_amount(opportunities, currency)
    frame = frame.drop_duplicates("opportunity_id", keep="last")
    return frame.set_index("opportunity_id").add_suffix(suffix)


def diff_snapshots(
    old: pd.DataFrame,
    new: pd.DataFrame,
    stages: pd.DataFrame,
    currency: str | None = None,
) -> pd.DataFrame:
    """One row per opportunity in either snapshot with its status class and change categories.

    Takes two canonical opportunities frames and the stage table (stage, position, kind). Returns
    opportunity_id, name, owner (new side, else old), old_/new_ stage, status, amount,
    expected_close_at, status_class, pipeline_change, bar (the waterfall bar it feeds), value
    (what the category table adds up for it: see category_summary) and one bool column per
    CHANGE_CATEGORIES entry. Duplicate ids within a snapshot keep their last row.
    """
    currency = currency if currency is not None else main_currency(new)
    merged = _side(old, currency, "_old").join(_side(new, currency, "_new"), how="outer")
    in_old = merged["status_old"].notna()
    in_new = merged["status_new"].notna()
    s_old, s_new = merged["status_old"], merged["status_new"]
    open_old = (in_old & s_old.eq(OPEN).fillna(False)).astype(bool)
    open_new = (in_new & s_new.eq(OPEN).fillna(False)).astype(bool)
    both_open = (open_old & open_new).astype(bool)

    conditions = [
        ~in_old,
        ~in_new,
        s_new.eq(WON).fillna(False) & s_old.ne(WON).fillna(True),
        s_new.eq(LOST).fillna(False) & s_old.ne(LOST).fillna(True),
        open_new & ~open_old,
        both_open,
    ]
    status_class = np.select(
        [c.to_numpy(dtype=bool) for c in conditions],
        ["new", "removed", "won", "lost", "reopened", "open"],
        default="unchanged_closed",
    )
    old_open_value = merged["amount_old"].fillna(0.0).where(open_old, 0.0)
    new_open_value = merged["amount_new"].fillna(0.0).where(open_new, 0.0)
    change = (new_open_value - old_open_value).astype("float64")

    position = stages.set_index("stage")["position"]
    pos_old = merged["stage_old"].map(position)
    pos_new = merged["stage_new"].map(position)
    amt_old, amt_new = merged["amount_old"], merged["amount_new"]
    close_old, close_new = merged["expected_close_at_old"], merged["expected_close_at_new"]

    def flag(condition: pd.Series) -> pd.Series:
        return (both_open & condition.fillna(False)).astype(bool)

    out = pd.DataFrame(
        {
            "name": merged["name_new"].fillna(merged["name_old"]),
            "owner": merged["owner_new"].fillna(merged["owner_old"]),
            "old_stage": merged["stage_old"],
            "new_stage": merged["stage_new"],
            "old_status": s_old,
            "new_status": s_new,
            "old_amount": amt_old,
            "new_amount": amt_new,
            "old_expected_close_at": close_old,
            "new_expected_close_at": close_new,
            "status_class": status_class,
            "pipeline_change": change,
            "stage_forward": flag(pos_new > pos_old),
            "stage_back": flag(pos_new < pos_old),
            "amount_up": flag(amt_new > amt_old),
            "amount_down": flag(amt_new < amt_old),
            "close_pulled_in": flag(close_new < close_old),
            "close_pushed_out": flag(close_new > close_old),
        },
        index=merged.index,
    )
    is_open = out["status_class"].eq("open").to_numpy()
    out["bar"] = np.select(
        [is_open & change.gt(0).to_numpy(), is_open & change.lt(0).to_numpy()],
        ["amount_up", "amount_down"],
        default=np.where(is_open, "", out["status_class"].to_numpy()),
    )
    # unchanged_closed deals never touch the pipeline; they feed no bar.
    out.loc[out["status_class"].eq("unchanged_closed"), "bar"] = ""
    return out.rename_axis("opportunity_id").reset_index()


def category_deals(diff: pd.DataFrame, category: str) -> pd.DataFrame:
    """The deals behind one category (CATEGORIES) of diff_snapshots' frame, largest value first.

    Adds `value`: the new amount for new / won / lost / reopened / stage and close-date moves, the
    old amount for removed, and the change (new − old) for amount_up / amount_down.
    """
    if category in CHANGE_CATEGORIES:
        picked = diff.loc[diff[category]]
    else:
        picked = diff.loc[diff["status_class"].eq(category)]
    if category in ("amount_up", "amount_down"):
        value = picked["new_amount"] - picked["old_amount"]
    elif category == "removed":
        value = picked["old_amount"]
    else:
        value = picked["new_amount"]
    picked = picked.assign(value=value)
    return picked.sort_values(
        ["value", "opportunity_id"],
        ascending=[category == "amount_down", True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)


def category_summary(diff: pd.DataFrame) -> pd.DataFrame:
    """Per category (CATEGORIES order): count and value (sum of category_deals' value)."""
    rows = []
    for category in CATEGORIES:
        deals = category_deals(diff, category)
        rows.append(
            {
                "category": category,
                "count": len(deals),
                "value": float(deals["value"].sum()),
            }
        )
    return pd.DataFrame(rows)


def pipeline_waterfall(diff: pd.DataFrame) -> pd.DataFrame:
    """The waterfall from the old open pipeline to the new one.

    Takes diff_snapshots' frame. Returns step ('start', WATERFALL_BARS…, 'end'), kind (total /
    delta), count, value (the bar's signed change; the total for start/end), low, high (the bar's
    extent for drawing). start + the deltas = end exactly (each deal feeds one bar).
    """
    start = float(
        diff.loc[diff["old_status"].eq(OPEN).fillna(False), "old_amount"].fillna(0.0).sum()
    )
    end = float(diff.loc[diff["new_status"].eq(OPEN).fillna(False), "new_amount"].fillna(0.0).sum())
    bars = diff.loc[diff["bar"].ne("")].groupby("bar")["pipeline_change"].agg(["size", "sum"])
    bars = bars.reindex(list(WATERFALL_BARS), fill_value=0)
    values = bars["sum"].astype("float64").to_numpy()
    running = start + np.concatenate([[0.0], np.cumsum(values)])
    steps = pd.DataFrame(
        {
            "step": ["start", *WATERFALL_BARS, "end"],
            "kind": ["total", *["delta"] * len(WATERFALL_BARS), "total"],
            "count": [
                int(diff["old_status"].eq(OPEN).fillna(False).sum()),
                *bars["size"].astype("int64").tolist(),
                int(diff["new_status"].eq(OPEN).fillna(False).sum()),
            ],
            "value": [start, *values.tolist(), end],
            "low": [0.0, *np.minimum(running[:-1], running[1:]).tolist(), 0.0],
            "high": [start, *np.maximum(running[:-1], running[1:]).tolist(), end],
        }
    )
    return steps


def unpriced_count(old: pd.DataFrame, new: pd.DataFrame, currency: str | None) -> int:
    """Deals (distinct ids) whose amount is missing or in another currency in either snapshot
    (valued at 0): a deal unpriced in both exports is one deal, not two rows."""
    unpriced_old = old.loc[priced_amount(old, currency).isna().to_numpy(), "opportunity_id"]
    unpriced_new = new.loc[priced_amount(new, currency).isna().to_numpy(), "opportunity_id"]
    return int(pd.concat([unpriced_old, unpriced_new]).nunique(dropna=False))


# Ids looked up per stored dataset when deciding whether it is the same pipeline: enough to find
# any real overlap (two weekly exports share most of their ids), few enough for one indexed query.
ID_SAMPLE_SIZE = 1_000


def id_sample(opportunities: pd.DataFrame, size: int = ID_SAMPLE_SIZE) -> list[str]:
    """Up to `size` distinct opportunity ids, spread evenly over the frame's order."""
    ids = pd.unique(opportunities["opportunity_id"].dropna().astype(str).to_numpy())
    if len(ids) > size:
        ids = ids[np.linspace(0, len(ids) - 1, size).astype("int64")]
    return [str(i) for i in ids]


@dataclass(frozen=True)
class ComparisonCandidates:
    """The stored datasets a snapshot comparison offers, in order, and how many it leaves out.

    offered: dataset ids — other versions of the same name (newest first), then other datasets
    sharing sampled ids (most shared first); shared: sampled ids each offered dataset also holds;
    same_name: the offered ids that are versions of the same name; hidden: datasets not offered
    (another name and no id in common)."""

    offered: tuple[int, ...]
    shared: dict[int, int]
    same_name: frozenset[int]
    hidden: int


def comparison_candidates(
    datasets: pd.DataFrame, current_id: int, shared: dict[int, int]
) -> ComparisonCandidates:
    """Order and filter `datasets` (store.list_datasets: id, name, version) for comparing with
    `current_id`, given `shared` = {dataset id: sampled ids of the current dataset it holds}."""
    frame = datasets.assign(id=datasets["id"].astype("int64"))
    frame = frame.loc[frame["id"].ne(int(current_id))]
    name = datasets.loc[datasets["id"].astype("int64").eq(int(current_id)), "name"]
    same = frame["name"].eq(name.iloc[0] if not name.empty else None).fillna(False)
    overlap = frame["id"].map({int(k): int(v) for k, v in shared.items()}).fillna(0)
    overlap = overlap.astype("int64")
    versions = frame.loc[same].sort_values(["version", "id"], ascending=False)
    related = frame.loc[~same & overlap.gt(0)].assign(overlap=overlap[~same & overlap.gt(0)])
    related = related.sort_values(["overlap", "id"], ascending=[False, False])
    offered = tuple(int(i) for i in [*versions["id"], *related["id"]])
    return ComparisonCandidates(
        offered=offered,
        shared={i: int(shared.get(i, 0)) for i in offered},
        same_name=frozenset(int(i) for i in versions["id"]),
        hidden=int(len(frame) - len(offered)),
    )


def snapshot_as_of(
    opportunities: pd.DataFrame, stage_events: pd.DataFrame, moment: pd.Timestamp
) -> pd.DataFrame:
    """What an export taken at `moment` would have held, rebuilt from stage history.

    Takes canonical opportunities and stage_events; returns the deals created by `moment` with
    stage = the last stage entered by then (the current stage when there is no event) and status
    as of then (status_as_of). Amount and expected close date have no history here, so they keep
    their current values: a rebuilt snapshot never shows amount or close-date changes; a last
    activity after `moment` is blanked (the activity before it is not stored).
    """
    existed = opportunities.loc[opportunities["created_at"].le(moment)].copy()
    known = stage_events.loc[stage_events["entered_at"].le(moment)]
    last_stage = known.groupby("opportunity_id", sort=False)["stage"].last()
    existed["stage"] = existed["opportunity_id"].map(last_stage).fillna(existed["stage"])
    existed["status"] = status_as_of(existed, moment)
    reopened = existed["status"].eq(OPEN)
    existed["closed_at"] = existed["closed_at"].where(~reopened)
    existed["lost_reason"] = existed["lost_reason"].where(~reopened)
    # Activity after `moment` was not in that export, and the one before it is unknown.
    existed["last_activity_at"] = existed["last_activity_at"].where(
        existed["last_activity_at"].le(moment)
    )
    return existed.reset_index(drop=True)
