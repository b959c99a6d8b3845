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

from dealscope.metrics.kpis import main_currency, priced_amount, status_as_of
from dealscope.metrics.stats import wilson_interval
from dealscope.model import LOST, OPEN, SEGMENT_COLUMNS, WON

HISTORY, SNAPSHOT, COHORT = "history", "snapshot", "cohort"
BASES = (HISTORY, SNAPSHOT, COHORT)
PASS_THROUGH, STRICT = "pass", "strict"
RULES = (PASS_THROUGH, STRICT)
# Below this many resolved deals (advanced + lost) a stage shows counts, not a percentage
# (leak-finder's threshold; a Wilson interval on fewer is wider than ±20 points).
MIN_RESOLVED = 20
STATUS_CODES = {OPEN: 0, WON: 1, LOST: 2}
# Columns of the per-deal table that the drill-through lists next to the funnel figures.
DEAL_COLUMNS = ("opportunity_id", "name", "account", "stage", "lost_reason", "created_at")
MOVE_KINDS = ("forward", "skip", "backward", "reopen", "close", "repeat")


def funnel_stages(stages: pd.DataFrame) -> list[str]:
    """The funnel's stage names from the `stages` table (stage, position, kind): open ones, then won."""
    ordered = stages.sort_values("position", kind="stable")
    open_ = ordered.loc[ordered["kind"] == OPEN, "stage"].tolist()
    won = ordered.loc[ordered["kind"] == WON, "stage"].tolist()
    return open_ + won[:1]


def _stage_codes(stages: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Code per stage name: open stages 0..k-1, any won stage k, any lost stage k+1, unknown -1."""
    ordered = stages.sort_values("position", kind="stable")
    n_open = int((ordered["kind"] == OPEN).sum())
    kind_code = np.where(ordered["kind"] == WON, n_open, n_open + 1)
    codes = np.where(ordered["kind"] == OPEN, np.arange(len(ordered)), kind_code)
    # Open stages get consecutive codes in position order even if positions have gaps.
    codes[(ordered["kind"] == OPEN).to_numpy()] = np.arange(n_open)
    lookup = pd.Index(ordered["stage"].astype(str)).get_indexer(names.astype(str))
    return np.where(lookup >= 0, codes[lookup], -1)


def _row_positions(opportunity_ids: pd.Series, event_ids: pd.Series) -> np.ndarray:
    """Row of each event's opportunity in `opportunity_ids` (-1 when unknown; first of duplicates)."""
    duplicated = opportunity_ids.duplicated().to_numpy()
    firsts = np.flatnonzero(~duplicated)
    found = pd.Index(opportunity_ids[~duplicated]).get_indexer(event_ids)
    return np.where(found >= 0, firsts[np.maximum(found, 0)], -1)


def build_deal_paths(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-deal funnel paths and the deal-to-deal stage moves, from the canonical frames.

    Returns (paths, moves). paths: one row per opportunity (RangeIndex) with DEAL_COLUMNS,
    SEGMENT_COLUMNS, value (amount in the main currency), status (at as_of), has_history,
    entered_mask (bit j = entered funnel stage j), furthest (-1 = no open stage), n_skips,
    n_backward, reopened. moves: row, from_code, to_code, kind (one row per consecutive pair of
    events of a deal; codes as in `funnel_stages`, lost = len(funnel_stages)).
    """
    opps = opportunities.reset_index(drop=True)
    n = len(opps)
    n_open = int((stages["kind"] == OPEN).sum())
    won_code = n_open
    events = stage_events.loc[stage_events["entered_at"] <= as_of]
    row = _row_positions(opps["opportunity_id"], events["opportunity_id"])
    code = _stage_codes(stages, events["stage"])
    when = events["entered_at"].to_numpy()
    keep = (row >= 0) & (code >= 0)
    row, code, when = row[keep], code[keep], when[keep]
    # The contract sorts events by deal then time; re-sort only when that does not hold.
    same = row[1:] == row[:-1]
    contiguous = np.count_nonzero(~same) + (1 if len(row) else 0) == len(np.unique(row))
    if not (contiguous and np.all((when[1:] >= when[:-1]) | ~same)):
        order = np.lexsort((when, row))
        row, code = row[order], code[order]
        same = row[1:] == row[:-1]

    mask = np.zeros(n, dtype="int64")
    furthest_open = np.full(n, -1, dtype="int64")
    for j in range(n_open + 1):  # a handful of stages, each a vectorised pass
        hit = np.bincount(row[code == j], minlength=n) > 0
        mask |= hit.astype("int64") << j
        if j < n_open:
            furthest_open = np.where(hit, j, furthest_open)
    status = status_as_of(opps, as_of).fillna(OPEN).to_numpy()
    furthest = np.where(status == WON, won_code, furthest_open)

    src, dst, deal = code[:-1][same], code[1:][same], row[1:][same]
    to_open = dst < n_open
    kind = np.select(
        [
            src == dst,
            (src < n_open) & to_open & (dst < src),
            (src >= n_open) & to_open,
            (src < n_open) & (dst <= won_code) & (dst > src + 1),
            dst >= won_code,
        ],
        ["repeat", "backward", "reopen", "skip", "close"],
        default="forward",
    )
    moves = pd.DataFrame({"row": deal, "from_code": src, "to_code": dst, "kind": kind})

    paths = opps.loc[:, [c for c in (*DEAL_COLUMNS, *SEGMENT_COLUMNS) if c in opps.columns]]
    paths = paths.assign(
        value=priced_amount(opps, main_currency(opps)).to_numpy(),
        status=status,
        has_history=np.bincount(row, minlength=n) > 0,
        entered_mask=mask,
        furthest=furthest,
        n_skips=np.bincount(deal[kind == "skip"], minlength=n),
        n_backward=np.bincount(deal[kind == "backward"], minlength=n),
        reopened=np.bincount(deal[kind == "reopen"], minlength=n) > 0,
    )
    return paths, moves


def in_period(
    paths: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows of `paths` (needs created_at) created in [start, end); deals without a date are left out."""
    created = paths["created_at"]
    keep = created.notna()
    if start is not None:
        keep &= created >= start
    if end is not None:
        keep &= created < end
    return paths.loc[keep.to_numpy()]


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
    keys = ["furthest", "status", "entered_mask"] + ([by] if by else [])
    # Collapse first: every figure depends only on these keys, so a million deals become a
    # few hundred weighted rows (this is what keeps a filtered rerun fast).
    collapsed = (
        paths.loc[:, [*keys, "value"]]
        .assign(deals=1)
        .groupby(keys, observed=True, sort=False, dropna=False)
        .agg(deals=("deals", "sum"), value=("value", "sum"))
        .reset_index()
    )
    flags = stage_flags(collapsed, k, rule)
    weights = collapsed["deals"].to_numpy()[:, None]
    values = collapsed["value"].fillna(0.0).to_numpy()[:, None]
    parts = {f: flags[f] * weights for f in COUNT_FIELDS}
    parts.update({f"{f}_value": flags[f] * values for f in VALUE_FIELDS})
    groups = collapsed[by].to_numpy() if by else np.zeros(len(collapsed), dtype="int64")
    frames = []
    for name, matrix in parts.items():  # ten small matrices, one groupby each
        wide = pd.DataFrame(matrix, columns=range(k)).groupby(groups, sort=True, dropna=False).sum()
        frames.append(wide.stack(future_stack=True).rename(name))
    table = pd.concat(frames, axis=1).reset_index(names=["group", "position"])
    if table.empty:  # no deals: every stage with zeros, so nothing downstream divides by nothing
        table = pd.DataFrame({"group": 0, "position": range(k)}).assign(**{c: 0 for c in parts})
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


def funnel_summary(paths: pd.DataFrame) -> dict[str, int]:
    """Counts shown above the funnel, from build_deal_paths rows: deals, with history, without,
    outside the funnel (history but no open stage and not won), skipping, moving back, reopened."""
    has = paths["has_history"]
    return {
        "deals": len(paths),
        "with_history": int(has.sum()),
        "without_history": int((~has).sum()),
        "outside_funnel": int((has & paths["furthest"].lt(0)).sum()),
        "skipping": int(paths["n_skips"].gt(0).sum()),
        "skips": int(paths["n_skips"].sum()),
        "moving_back": int(paths["n_backward"].gt(0).sum()),
        "backward_moves": int(paths["n_backward"].sum()),
        "reopened": int(paths["reopened"].sum()),
    }


def compute_snapshot_funnel(
    opportunities: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Current-stage counts (the snapshot approximation): stage, position, kind, deals, value,
    at_or_beyond (open deals now at this stage or a later one, plus won deals).

    Conversion cannot be computed from a snapshot: lost deals no longer say where they stopped.
    """
    ordered = stages.sort_values("position", kind="stable").reset_index(drop=True)
    status = status_as_of(opportunities, as_of)
    value = priced_amount(opportunities, main_currency(opportunities))
    current = opportunities["stage"].astype(str)
    counts = current.value_counts()
    sums = value.groupby(current).sum()
    table = ordered.assign(
        deals=ordered["stage"].astype(str).map(counts).fillna(0).astype("int64"),
        value=ordered["stage"].astype(str).map(sums).fillna(0.0),
    )
    code = _stage_codes(ordered, current)
    n_open = int((ordered["kind"] == OPEN).sum())
    live = np.where(status.eq(WON).to_numpy(), n_open, np.where(status.eq(OPEN), code, -1))
    live = live[live >= 0]
    beyond = np.cumsum(np.bincount(live, minlength=n_open + 1)[::-1])[::-1]
    table["at_or_beyond"] = pd.Series(
        np.where(
            table["kind"].eq(LOST).to_numpy(),
            0,
            beyond[np.minimum(_stage_codes(ordered, ordered["stage"]), n_open)],
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
