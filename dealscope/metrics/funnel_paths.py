"""Per-deal funnel paths: the stage events of a dataset reduced once to one row per deal.

`build_deal_paths` maps every stage event to its deal's row and its stage code, then derives per
deal: the stages entered (a bitmask), the furthest stage, the status at the as-of date, and the
skip / backward / reopen counts; it also returns the consecutive moves for the transition matrix.
The funnel figures (dealscope.metrics.funnel) are all computed from these rows, so a filter
change never touches the five million events again.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from dealscope.metrics.kpis import main_priced_amount, status_as_of
from dealscope.model import LOST, OPEN, SEGMENT_COLUMNS, WON

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


def _objects(values: pd.Series) -> np.ndarray:
    """The values as a numpy object array, without a copy for pandas' string dtype: object-dtype
    hash lookups are several times faster than string-dtype ones at millions of rows."""
    return np.asarray(values.array, dtype=object)


def stage_codes(stages: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Code per stage name (`stages`: stage, position, kind): open stages 0..k-1, any won stage k, any lost stage k+1, unknown -1."""
    ordered = stages.sort_values("position", kind="stable")
    is_open = (ordered["kind"] == OPEN).to_numpy(dtype=bool)
    n_open = int(is_open.sum())
    codes = np.where(ordered["kind"] == WON, n_open, n_open + 1)
    codes[is_open] = np.arange(n_open)  # consecutive even if positions have gaps
    known = pd.Index(ordered["stage"].astype(str).tolist(), dtype=object)
    lookup = known.get_indexer(_objects(names))
    if not len(known):  # no stage table (an outcome-only export): every name is unknown
        return np.full(len(lookup), -1)
    return np.where(lookup >= 0, codes[lookup], -1)


def _positions(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in `values` of each of `keys` (-1 when absent; the first of duplicated values).

    A DuckDB hash join: on a million string ids it is ~2.5× faster than pandas' get_indexer
    (which also scans the target to infer its type) and it tolerates duplicated values.
    """
    # DuckDB cannot scan strided object arrays (e.g. a reversed view): make them contiguous.
    keys, values = np.ascontiguousarray(keys), np.ascontiguousarray(values)
    con = duckdb.connect()
    try:
        con.register("k", pd.DataFrame({"key": keys, "i": np.arange(len(keys))}, copy=False))
        con.register("v", pd.DataFrame({"key": values, "j": np.arange(len(values))}, copy=False))
        found = con.execute("SELECT k.i, v.j FROM k JOIN v ON k.key = v.key").fetchnumpy()
    finally:
        con.close()
    out = np.full(len(keys), len(values), dtype="int64")
    np.minimum.at(out, np.asarray(found["i"], dtype="int64"), np.asarray(found["j"], "int64"))
    return np.where(out < len(values), out, -1)


def _same_order(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two equally long id arrays are equal, checking a cheap prefix first: comparing a
    million scattered strings costs ~0.1 s, and a shuffled table fails in the first few."""
    return bool((a[:64] == b[:64]).all() and (a == b).all())


def _event_rows(opportunity_ids: pd.Series, event_ids: pd.Series) -> np.ndarray:
    """Row of each event's opportunity in `opportunity_ids` (-1 when unknown; first of duplicates).

    Events come grouped by deal (the stage_events contract), so only the first id of each run is
    looked up: a million hash lookups instead of five million.
    """
    ids = _objects(event_ids)
    if len(ids) == 0:
        return np.zeros(0, dtype="int64")
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    run_ids = ids[starts]
    deal_ids = _objects(opportunity_ids)
    if len(run_ids) == len(deal_ids) and _same_order(run_ids, deal_ids):
        # Both tables in the same deal order, every deal with history (the store's usual
        # output): the k-th run is the k-th deal, no hashing of a million ids needed.
        return np.repeat(np.arange(len(deal_ids)), np.diff(np.append(starts, len(ids))))
    run_rows = _positions(run_ids, deal_ids)
    return np.repeat(run_rows, np.diff(np.append(starts, len(ids))))


KIND_CODES = {kind: i for i, kind in enumerate(MOVE_KINDS)}


def build_deal_paths(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    event_rows: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-deal funnel paths and the deal-to-deal stage moves, from the canonical frames.

    Returns (paths, moves). paths: one row per opportunity (RangeIndex) with DEAL_COLUMNS,
    SEGMENT_COLUMNS, value (amount in the main currency), status (open/won/lost at as_of),
    has_history, entered_mask (bit j = entered funnel stage j), furthest (-1 = no open stage),
    n_skips, n_backward, reopened. moves: row, from_code, to_code, kind (one row per consecutive
    pair of events of a deal; codes as in `funnel_stages`, lost = len(funnel_stages)).
    `event_rows`: each event's row in `opportunities` when already known (the app's loader
    caches filters.event_deal_rows per dataset), which saves the id lookup.
    """
    opps = opportunities  # not reset_index(): that copies every column of a million rows
    n = len(opps)
    n_open = int((stages["kind"] == OPEN).sum())
    won_code = n_open
    if event_rows is None:
        row = _event_rows(opps["opportunity_id"], stage_events["opportunity_id"])
    else:
        row = np.asarray(event_rows, dtype="int64")
    code = stage_codes(stages, stage_events["stage"])
    when = stage_events["entered_at"].to_numpy()
    keep = (row >= 0) & (code >= 0) & (when <= np.datetime64(as_of))
    row, code, when = row[keep], code[keep], when[keep]
    # The contract sorts events by deal then time; re-sort only when that does not hold.
    same = row[1:] == row[:-1]
    runs = np.concatenate(([True], ~same)) if len(row) else np.zeros(0, dtype=bool)
    contiguous = not len(row) or np.bincount(row[runs]).max() == 1
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
    status = np.asarray(status_as_of(opps, as_of).array, dtype=object)
    is_won, is_lost = status == WON, status == LOST
    status_code = np.where(is_won, STATUS_CODES[WON], np.where(is_lost, STATUS_CODES[LOST], 0))
    furthest = np.where(is_won, won_code, furthest_open)

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
        [KIND_CODES[k] for k in ("repeat", "backward", "reopen", "skip", "close")],
        default=KIND_CODES["forward"],
    ).astype("int8")
    moves = pd.DataFrame(
        {
            "row": deal,
            "from_code": src,
            "to_code": dst,
            "kind": pd.Categorical.from_codes(kind, categories=list(MOVE_KINDS)),
        },
        copy=False,  # fresh arrays: consolidating them into one block would copy ~90 MB
    )
    # Label columns share `opportunities`' arrays, not copies (a million strings each).
    labels = [c for c in (*DEAL_COLUMNS, *SEGMENT_COLUMNS) if c in opps.columns]
    numbers = {
        **{c: opps[c].array for c in labels},
        "value": main_priced_amount(opps).to_numpy(),
        "status": pd.Categorical.from_codes(status_code, categories=list(STATUS_CODES)),
        "has_history": np.bincount(row, minlength=n) > 0,
        "entered_mask": mask,
        "furthest": furthest,
        "n_skips": np.bincount(deal[kind == KIND_CODES["skip"]], minlength=n),
        "n_backward": np.bincount(deal[kind == KIND_CODES["backward"]], minlength=n),
        "reopened": np.bincount(deal[kind == KIND_CODES["reopen"]], minlength=n) > 0,
    }
    return pd.DataFrame(numbers, copy=False), moves


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
    if keep.all():  # the whole range: no copy of a million wide rows
        return paths
    return paths.loc[keep.to_numpy()]


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
