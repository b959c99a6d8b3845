"""The stage funnel (DESIGN.md §4, METHODS.md §6.1): per-deal paths and per-stage counts.

Two steps so a filtered rerun stays cheap: `build_deal_paths` reduces the stage events once per
dataset to one row per deal (stages entered as a bitmask, furthest stage, status at the as-of
date, skip / backward / reopen counts); `compute_stage_funnel` collapses any selection of those rows
to a few hundred (furthest, status, entered) combinations and derives every stage figure from them.

Rules, stated once (docs/METRICS.md "Funnel"):
- Funnel stages are the open stages in order, then the won stage. Lost is an outcome, not a stage.
- Entered S: the deal has a stage event for S (up to the as-of date).
- Furthest stage: the highest open stage entered; the won stage when the deal is won at as-of.
- Reached S: pass-through rule = furthest ≥ S (a skipped stage counts as passed); strict rule =
  entered S and every earlier stage (a skipper leaves the strict funnel at the stage before the gap).
- Advanced from S = reached the next stage. Lost here / open here = reached S, not the next, the
  furthest stage is S, and the status at as-of is lost / open. Strict only: "left by skipping" =
  reached S, not the next (strictly), but went further.
- Stage conversion = advanced / (advanced + lost here): deals still open at S are not failures.
- Cumulative conversion to S = reached S / (reached S + lost before S), with open deals before S
  left out; for the won stage this is won / (won + lost), the win rate.
- Reopened deals (a won/lost deal that re-enters an open stage) are judged by their status at the
  as-of date; the stages they entered before reopening still count as entered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.funnel_paths import (
    STATUS_CODES,
    build_deal_paths,
    funnel_stages,
    stage_codes,
)
from dealscope.metrics.kpis import main_priced_amount, status_as_of
from dealscope.metrics.stats import wilson_interval
from dealscope.model import LOST, OPEN, WON

HISTORY, SNAPSHOT, COHORT = "history", "snapshot", "cohort"
BASES = (HISTORY, SNAPSHOT, COHORT)
PASS_THROUGH, STRICT = "pass", "strict"
RULES = (PASS_THROUGH, STRICT)
# Below this many resolved deals (advanced + lost) a stage shows counts, not a percentage
# (leak-finder's threshold; a Wilson interval on fewer is wider than ±20 points).
MIN_RESOLVED = 20
# The only per-deal columns the funnel figures need: work on these, not on the wide paths frame
# (copying a million rows of twenty columns costs more than the figures themselves).
FUNNEL_COLUMNS = ("furthest", "status", "entered_mask", "value")


def stage_flags(paths: pd.DataFrame, k: int, rule: str) -> dict[str, np.ndarray]:
    """Per-deal, per-stage booleans (n × k): entered, reached, advanced, lost, open, skipped_on, skipped."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    positions = np.arange(k)
    mask = paths["entered_mask"].to_numpy()
    furthest = paths["furthest"].to_numpy()[:, None]
    status = paths["status"].to_numpy()[:, None]
    entered = ((mask[:, None] >> positions) & 1).astype(bool)
    if rule == PASS_THROUGH:
        reached = furthest >= positions
    else:
        chain = entered.copy()
        chain[:, k - 1] = status[:, 0] == WON  # a won deal reached won, with or without an event
        reached = np.logical_and.accumulate(chain, axis=1)
    advanced = np.zeros_like(reached)
    advanced[:, :-1] = reached[:, 1:]
    stopped = reached & ~advanced
    stopped[:, k - 1] = False  # the won stage is the end: nothing is lost or open "at" won
    at = furthest == positions
    return {
        "entered": entered,
        "reached": reached,
        "advanced": advanced,
        "lost": stopped & at & (status == LOST),
        "open": stopped & at & (status == OPEN),
        "skipped_on": stopped & ~at,
        "skipped": (furthest >= positions) & ~entered,
    }


COUNT_FIELDS = ("entered", "reached", "advanced", "lost", "open", "skipped_on", "skipped")
VALUE_FIELDS = ("reached", "lost", "open")


def _status_codes(status: pd.Series) -> np.ndarray:
    """0 = open, 1 = won, 2 = lost (anything else counts as open)."""
    if isinstance(status.dtype, pd.CategoricalDtype) and list(status.cat.categories) == list(
        STATUS_CODES
    ):
        return status.cat.codes.to_numpy().astype("int64").clip(0)
    return pd.Categorical(status, categories=list(STATUS_CODES)).codes.astype("int64").clip(0)


def _collapse(paths: pd.DataFrame, k: int, by: str | None) -> pd.DataFrame:
    """Deals and value per (group, furthest, status, entered_mask): every funnel figure depends
    only on these, so a million deals become a few hundred weighted rows (one integer key and a
    bincount, which is what keeps a filtered rerun fast). Columns: group, furthest, status,
    entered_mask, deals, value."""
    furthest = paths["furthest"].to_numpy().astype("int64") + 1  # 0 = no open stage
    status = _status_codes(paths["status"])
    mask = paths["entered_mask"].to_numpy().astype("int64")
    span = (k + 1) * 3 << k
    key = ((furthest * 3 + status) << k) | mask
    if by:
        group_codes, group_values = pd.factorize(paths[by], use_na_sentinel=False)
        key = group_codes.astype("int64") * span + key
    else:
        group_values = np.zeros(1, dtype="int64")
    values = paths["value"].fillna(0.0).to_numpy(dtype="float64")
    if len(key) and key.max() < 8_000_000:  # dense keys: count without sorting
        deals = np.bincount(key, minlength=0)
        present = np.flatnonzero(deals)
        value = np.bincount(key, weights=values)[present]
        deals = deals[present]
    else:
        present, inverse = np.unique(key, return_inverse=True)
        deals = np.bincount(inverse)
        value = np.bincount(inverse, weights=values)
    rest = present % span
    status_names = np.asarray(list(STATUS_CODES), dtype=object)
    return pd.DataFrame(
        {
            "group": pd.Index(group_values).take(present // span).to_numpy(),
            "furthest": (rest >> k) // 3 - 1,
            "status": status_names[(rest >> k) % 3],
            "entered_mask": rest & ((1 << k) - 1),
            "deals": deals,
            "value": value,
        }
    )


def compute_stage_funnel(
    paths: pd.DataFrame, stage_names: list[str], rule: str = PASS_THROUGH, by: str | None = None
) -> pd.DataFrame:
    """Per stage (and per `by` group): counts, values, conversions and Wilson intervals.

    Takes build_deal_paths rows; returns [by,] stage, position, entered, reached, advanced, lost,
    open, skipped_on, skipped, reached_value, lost_value, open_value, resolved, conversion, ci_low,
    ci_high, cumulative, cum_low, cum_high, enough (resolved ≥ MIN_RESOLVED), lost_share,
    lost_value_share. Conversion columns of the won stage are the cumulative ones only.
    """
    k = len(stage_names)
    collapsed = _collapse(paths, k, by)
    flags = stage_flags(collapsed, k, rule)
    weights = collapsed["deals"].to_numpy()[:, None]
    values = collapsed["value"].fillna(0.0).to_numpy()[:, None]
    parts = {f: flags[f] * weights for f in COUNT_FIELDS}
    parts.update({f"{f}_value": flags[f] * values for f in VALUE_FIELDS})
    # Sum every (combination × stage) matrix per group in one pass: fields × stages columns.
    names = list(parts)
    cube = np.stack([parts[name] for name in names], axis=1).reshape(len(collapsed), len(names) * k)
    codes, groups = pd.factorize(collapsed["group"], use_na_sentinel=False)
    if len(groups) == 0:  # no deals: every stage with zeros, so nothing downstream divides by 0
        codes, groups = np.zeros(0, dtype="int64"), pd.Index([0])
    sums = np.zeros((len(groups), cube.shape[1]))
    np.add.at(sums, codes, cube)
    long = sums.reshape(len(groups), len(names), k).transpose(0, 2, 1).reshape(-1, len(names))
    table = pd.DataFrame(long, columns=names)
    table.insert(0, "position", np.tile(np.arange(k), len(groups)))
    table.insert(0, "group", np.repeat(pd.Index(groups).to_numpy(), k))
    table = _add_rates(table, stage_names)
    if by:
        return table.rename(columns={"group": by})
    return table.drop(columns="group")


def _add_rates(table: pd.DataFrame, stage_names: list[str]) -> pd.DataFrame:
    k = len(stage_names)
    table = table.sort_values(["group", "position"], kind="stable").reset_index(drop=True)
    counts = [*COUNT_FIELDS, *(f"{f}_value" for f in VALUE_FIELDS)]
    table[counts] = table[counts].astype("float64")
    table[list(COUNT_FIELDS)] = table[list(COUNT_FIELDS)].astype("int64")
    is_won = table["position"].eq(k - 1)
    table["resolved"] = (table["advanced"] + table["lost"]).where(~is_won, 0)
    low, high = wilson_interval(table["advanced"], table["resolved"])
    table["conversion"] = (table["advanced"] / table["resolved"].replace(0, np.nan)).astype(float)
    table["ci_low"], table["ci_high"] = low, high
    lost_before = table.groupby("group")["lost"].cumsum() - table["lost"]
    base = table["reached"] + lost_before
    table["cumulative"] = (table["reached"] / base.replace(0, np.nan)).astype(float)
    table["cum_low"], table["cum_high"] = wilson_interval(table["reached"], base)
    table["enough"] = table["resolved"].ge(MIN_RESOLVED).where(~is_won, base.ge(MIN_RESOLVED))
    total_lost = table.groupby("group")["lost"].transform("sum")
    total_lost_value = table.groupby("group")["lost_value"].transform("sum")
    table["lost_share"] = table["lost"] / total_lost.replace(0, np.nan)
    table["lost_value_share"] = table["lost_value"] / total_lost_value.replace(0, np.nan)
    table.insert(1, "stage", np.asarray(stage_names, dtype=object)[table["position"]])
    return table


def compute_snapshot_funnel(
    opportunities: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Current-stage counts (the snapshot approximation): stage, position, kind, deals, value,
    at_or_beyond (open deals now at this stage or a later one, plus won deals).

    Conversion cannot be computed from a snapshot: lost deals no longer say where they stopped.
    """
    ordered = stages.sort_values("position", kind="stable").reset_index(drop=True)
    status = status_as_of(opportunities, as_of)
    value = main_priced_amount(opportunities)
    current = opportunities["stage"].astype(str)
    counts = current.value_counts()
    sums = value.groupby(current).sum()
    table = ordered.assign(
        deals=ordered["stage"].astype(str).map(counts).fillna(0).astype("int64"),
        value=ordered["stage"].astype(str).map(sums).fillna(0.0),
    )
    code = stage_codes(ordered, current)
    n_open = int((ordered["kind"] == OPEN).sum())
    live = np.where(status.eq(WON).to_numpy(), n_open, np.where(status.eq(OPEN), code, -1))
    live = live[live >= 0]
    beyond = np.cumsum(np.bincount(live, minlength=n_open + 1)[::-1])[::-1]
    table["at_or_beyond"] = pd.Series(
        np.where(
            table["kind"].eq(LOST).to_numpy(),
            0,
            beyond[np.minimum(stage_codes(ordered, ordered["stage"]), n_open)],
        )
    ).astype("int64")
    return table


def funnel_document(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
) -> list[dict]:
    """The CLI's `funnel` key (history basis, pass-through, every deal): one dict per funnel stage
    with stage, entered, reached, advanced, lost, open, conversion, ci_low, ci_high; [] without
    stage history. The won stage has null advanced/lost/open/conversion (it ends the funnel)."""
    if stage_events.empty:
        return []
    paths, _ = build_deal_paths(opportunities, stage_events, stages, as_of)
    table = compute_stage_funnel(paths, funnel_stages(stages), PASS_THROUGH)
    is_won = table["position"].eq(table["position"].max())
    rows = []
    for record, won in zip(table.to_dict("records"), is_won, strict=True):  # a handful of stages
        counts = {k: int(record[k]) for k in ("entered", "reached", "advanced", "lost", "open")}
        if won:
            counts.update(advanced=None, lost=None, open=None)
        rates = {
            k: None if pd.isna(record[k]) else float(record[k])
            for k in ("conversion", "ci_low", "ci_high")
        }
        rows.append({"stage": str(record["stage"]), **counts, **rates})
    return rows
