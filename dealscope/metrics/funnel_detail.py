"""Funnel details: where lost deals die (with reasons), the stage transition matrix, drill-through."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.funnel import PASS_THROUGH, compute_stage_funnel, stage_flags
from dealscope.metrics.funnel_compare import segment_labels
from dealscope.metrics.funnel_paths import DEAL_COLUMNS, funnel_summary
from dealscope.model import LOST, SEGMENT_COLUMNS

NO_REASON = "(none)"
OUTCOMES = ("entered", "reached", "advanced", "lost", "open", "skipped_on", "skipped")
# The drill-through lists and downloads at most this many deals (the largest by value).
DRILL_MAX_ROWS = 10_000


def lost_by_stage(paths: pd.DataFrame, stage_names: list[str]) -> pd.DataFrame:
    """Lost deals by the furthest stage they reached and lost reason, from build_deal_paths rows.

    Returns stage, position, lost_reason, deals, value, share (of all lost deals), value_share,
    sorted by stage then deals. Lost deals that never entered an open stage are not listed.
    """
    chosen = paths["status"].eq(LOST).to_numpy() & paths["furthest"].ge(0).to_numpy()
    lost = paths.loc[chosen, ["furthest", "lost_reason", "value"]]
    reason = lost["lost_reason"].astype("string").fillna(NO_REASON).astype(str)
    table = (
        pd.DataFrame(
            {
                "position": lost["furthest"].to_numpy(),
                "lost_reason": reason.to_numpy(),
                "value": lost["value"].to_numpy(),
            }
        )
        .groupby(["position", "lost_reason"])
        .agg(deals=("value", "size"), value=("value", "sum"))
        .reset_index()
    )
    table["share"] = table["deals"] / max(len(lost), 1)
    total_value = table["value"].sum()
    table["value_share"] = table["value"] / total_value if total_value else np.nan
    table.insert(0, "stage", np.asarray(stage_names, dtype=object)[table["position"]])
    return table.sort_values(["position", "deals"], ascending=[True, False]).reset_index(drop=True)


def transition_matrix(
    moves: pd.DataFrame,
    stage_names: list[str],
    rows: np.ndarray | None = None,
    lost_name: str | None = None,
) -> pd.DataFrame:
    """Stage-to-stage moves (from build_deal_paths' moves), optionally only of deals in `rows`.

    Returns from_stage, to_stage, from_code, to_code, kind, moves, deals — one row per pair seen.
    """
    row = moves["row"].to_numpy()
    source, target = moves["from_code"].to_numpy(), moves["to_code"].to_numpy()
    kind = moves["kind"].cat.codes.to_numpy()
    if rows is not None:
        # A boolean lookup table instead of np.isin: one pass over millions of moves.
        size = int(max(row.max(initial=-1), np.max(rows, initial=-1))) + 1
        chosen = np.zeros(size, dtype=bool)
        chosen[rows] = True
        keep = chosen[row]
        row, source, target, kind = row[keep], source[keep], target[keep], kind[keep]
    names = np.asarray([*stage_names, lost_name or "lost"], dtype=object)
    # Integer keys and bincounts: a pair's kind is fixed by (from, to), deals = distinct rows.
    width = len(names)
    pair = source.astype("int64") * width + target
    counts = np.bincount(pair, minlength=width * width)
    seen = np.flatnonzero(counts)
    distinct = pd.unique(pair * (int(row.max(initial=0)) + 1) + row) // (
        int(row.max(initial=0)) + 1
    )
    deals = np.bincount(distinct, minlength=width * width)
    kinds = np.zeros(width * width, dtype="int64")
    kinds[pair] = kind
    table = pd.DataFrame(
        {
            "from_stage": names[seen // width],
            "to_stage": names[seen % width],
            "from_code": seen // width,
            "to_code": seen % width,
            "kind": pd.Categorical.from_codes(kinds[seen], categories=moves["kind"].cat.categories),
            "moves": counts[seen],
            "deals": deals[seen],
        }
    )
    return table


def drill_deals(
    paths: pd.DataFrame,
    stage_names: list[str],
    stage: str,
    outcome: str,
    rule: str = PASS_THROUGH,
    column: str | None = None,
    value: str | None = None,
) -> pd.DataFrame:
    """The deals behind one funnel number: build_deal_paths rows with `outcome` at `stage`
    (and `column` == `value` when given). Returns DEAL_COLUMNS, SEGMENT_COLUMNS, value, status,
    furthest_stage, n_skips, n_backward, reopened."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    flags = stage_flags(paths, len(stage_names), rule)
    keep = flags[outcome][:, stage_names.index(stage)]
    if column is not None and value is not None:
        # Match the labels the segment comparison shows (pooled OTHER / MISSING included).
        keep &= (segment_labels(paths, column) == value).to_numpy(dtype=bool)
    names = np.asarray(["—", *stage_names], dtype=object)
    columns = [c for c in (*DEAL_COLUMNS, *SEGMENT_COLUMNS) if c in paths.columns]
    extra = ["value", "status", "n_skips", "n_backward", "reopened", "furthest"]
    chosen = paths.loc[keep, [*columns, *extra]]
    out = chosen.drop(columns="furthest")
    out.insert(len(columns) + 2, "furthest_stage", names[chosen["furthest"].to_numpy() + 1])
    return out.reset_index(drop=True)


def compute_funnel_view(
    selection: pd.DataFrame,
    moves: pd.DataFrame,
    stage_names: list[str],
    rule: str = PASS_THROUGH,
    lost_name: str | None = None,
) -> dict:
    """Everything the Funnel page's history view shows for a selection of build_deal_paths rows
    (RangeIndex labels = rows of `moves`): keys stages, funnel, summary, lost, transitions."""
    return {
        "stages": stage_names,
        "funnel": compute_stage_funnel(selection, stage_names, rule),
        "summary": funnel_summary(selection),
        "lost": lost_by_stage(selection, stage_names),
        "transitions": transition_matrix(moves, stage_names, selection.index.to_numpy(), lost_name),
    }
