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


def lost_by_stage(paths: pd.DataFrame, stage_names: list[str]) -> pd.DataFrame:
    """Lost deals by the furthest stage they reached and lost reason, from build_deal_paths rows.

    Returns stage, position, lost_reason, deals, value, share (of all lost deals), value_share,
    sorted by stage then deals. Lost deals that never entered an open stage are not listed.
    """
    lost = paths.loc[paths["status"].eq(LOST).to_numpy() & paths["furthest"].ge(0).to_numpy()]
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
    if rows is not None:
        # A boolean lookup table instead of np.isin: one pass over millions of moves.
        move_rows = moves["row"].to_numpy()
        size = int(max(move_rows.max(initial=-1), np.max(rows, initial=-1))) + 1
        chosen = np.zeros(size, dtype=bool)
        chosen[rows] = True
        moves = moves.loc[chosen[move_rows]]
    names = np.asarray([*stage_names, lost_name or "lost"], dtype=object)
    table = (
        moves.groupby(["from_code", "to_code", "kind"], observed=True)
        .agg(moves=("row", "size"), deals=("row", "nunique"))
        .reset_index()
    )
    table.insert(0, "to_stage", names[table["to_code"]])
    table.insert(0, "from_stage", names[table["from_code"]])
    return table.sort_values(["from_code", "to_code"]).reset_index(drop=True)


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
    chosen = paths.loc[keep]
    names = np.asarray(["—", *stage_names], dtype=object)
    columns = [c for c in (*DEAL_COLUMNS, *SEGMENT_COLUMNS) if c in chosen.columns]
    out = chosen.loc[:, [*columns, "value", "status", "n_skips", "n_backward", "reopened"]]
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
