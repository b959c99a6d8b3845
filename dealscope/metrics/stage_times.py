"""Time in stage per stage straight from stage events, in numpy: the whole-dataset path (CLI, bench).

The same figures as `time_in_stage(compute_stage_intervals(...))` (a test checks they agree), without
building the interval frame. Canonical stage events are already sorted by deal and time
(model.normalise_stage_events), so a visit's exit is simply the next row when it belongs to the same
deal; sortedness is checked (two vectorised comparisons) and the events are sorted only when it
fails. One lexsort by (stage, days) then gives every stage's quantiles and KM median at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.cycle_stages import QUANTILES, TIME_IN_STAGE_COLUMNS
from dealscope.model import OPEN

NS_PER_DAY = 86_400 * 10**9
NAT = np.iinfo("int64").min  # NaT viewed as int64


def _visits(stage_events: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp):
    """(stage code, days, completed) per visit to an open stage; codes index `stages` rows."""
    when = stage_events["entered_at"].to_numpy("datetime64[ns]").view("int64")
    keep = (when != NAT) & (
        when <= as_of.value
    )  # no entry date: no visit, as in compute_stage_intervals
    ids = stage_events["opportunity_id"].to_numpy(dtype=object)[keep]
    names = stage_events["stage"].to_numpy(dtype=object)[keep]
    when = when[keep]
    same = np.zeros(len(ids), dtype=bool)
    np.equal(ids[1:], ids[:-1], out=same[:-1])
    in_order = bool(np.all(ids[1:] >= ids[:-1])) and bool(
        np.all((when[1:] >= when[:-1]) | ~same[:-1])
    )
    if not in_order:  # not canonical: sort as compute_stage_intervals does
        order = pd.DataFrame({"i": ids, "w": when}).sort_values(["i", "w"], kind="stable").index
        ids, when, names = ids[order], when[order], names[order]
        same[:] = False
        np.equal(ids[1:], ids[:-1], out=same[:-1])
    code = pd.Categorical(names, categories=stages["stage"].to_numpy(dtype=object)).codes
    exit_at = np.empty_like(when)
    exit_at[:-1], exit_at[-1:] = when[1:], 0
    days = (np.where(same, exit_at, as_of.value) - when) / NS_PER_DAY
    open_codes = np.flatnonzero(stages["kind"].to_numpy(dtype=object) == OPEN)
    visit = np.isin(code, open_codes)
    return code[visit], days[visit], same[visit]


def _quantiles(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Linear-interpolation quantiles (numpy's and pandas' default) of blocks of sorted `values`,
    block i holding counts[i] values; one row per block, NaN for empty blocks."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full((len(counts), len(QUANTILES)), np.nan)
    has = counts > 0
    for j, q in enumerate(QUANTILES.values()):  # three quantiles, each vectorised over stages
        pos = q * (counts[has] - 1)
        low = np.floor(pos).astype("int64")
        high = np.minimum(low + 1, counts[has] - 1)
        a, b = values[starts[has] + low], values[starts[has] + high]
        frac = pos - low
        # numpy's lerp: from the nearer end, so the result is exact at both ends.
        out[has, j] = np.where(frac >= 0.5, b - (b - a) * (1 - frac), a + (b - a) * frac)
    return out


def _km_medians(code: np.ndarray, days: np.ndarray, done: np.ndarray, n_codes: int) -> np.ndarray:
    """KM median per code (first time S ≤ 0.5) from visits sorted by (code, days), with S built
    exactly as survival.kaplan_meier_table builds it (same products in the same order)."""
    if code.size == 0:
        return np.full(n_codes, np.nan)
    new = np.ones(code.size, dtype=bool)
    new[1:] = (code[1:] != code[:-1]) | (days[1:] != days[:-1])
    first = np.flatnonzero(new)  # one row per distinct (code, time)
    events = np.add.reduceat(done.astype("int64"), first)
    group, time = code[first], days[first]
    group_end = np.cumsum(np.bincount(code, minlength=n_codes))[group]
    at_risk = group_end - first
    factor = pd.Series(1.0 - events / at_risk)
    survival = factor.groupby(group).cumprod().to_numpy()
    reached = survival <= 0.5
    first_reached = pd.Series(time[reached]).groupby(group[reached]).first()
    return first_reached.reindex(range(n_codes)).to_numpy()


def time_in_stage_summary(
    stage_events: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per open stage from stage_events (opportunity_id, stage, entered_at) and stages (stage,
    position, kind): stage, position, n_completed, n_current, median, p75, p90, km_median."""
    columns = ["stage", "position", *TIME_IN_STAGE_COLUMNS]
    code, days, done = _visits(stage_events, stages, as_of)
    if code.size == 0:
        return pd.DataFrame(columns=columns)
    n_codes = len(stages)
    order = np.lexsort((days, code))  # one sort serves the quantiles and the KM medians
    code, days, done = code[order], days[order], done[order]
    completed = np.bincount(code[done], minlength=n_codes)
    current = np.bincount(code[~done], minlength=n_codes)
    # Completed visits keep their (code, days) order when filtered: blocks of sorted values.
    quantiles = _quantiles(days[done], completed)
    table = pd.DataFrame(quantiles, columns=list(QUANTILES))
    table.insert(0, "n_current", current)
    table.insert(0, "n_completed", completed)
    table.insert(0, "position", stages["position"].to_numpy())
    table.insert(0, "stage", stages["stage"].to_numpy())
    table["km_median"] = _km_medians(code, days, done, n_codes)
    table = table.loc[(completed + current) > 0]
    return table.sort_values("position", kind="stable").loc[:, columns].reset_index(drop=True)
