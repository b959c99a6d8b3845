"""Metric benchmarks at scale: prints figures and ratios to a DuckDB SQL baseline, never asserts.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_metrics.py              # 1M deals, every section
    .venv/bin/python bench/bench_metrics.py --n 100000 --sections funnel

Structure: `make_data` generates the demo pipeline once (dealscope.demo.generate_demo, the same
generator as the app and the tests); each section is a function `bench_<name>(data) -> list[Row]`
registered in SECTIONS, so a new metric adds one function and one entry. Each timing is the best of
`--repeat` runs, in this process, on the same frames.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dealscope.demo import generate_demo
from dealscope.filters import Filters, apply_segment_filters
from dealscope.metrics.cycle import close_outcomes, km_summary
from dealscope.metrics.funnel import compute_stage_funnel
from dealscope.metrics.funnel_compare import compare_periods, compare_segments
from dealscope.metrics.funnel_detail import DRILL_MAX_ROWS, compute_funnel_view, drill_deals
from dealscope.metrics.funnel_paths import (
    build_deal_paths,
    funnel_stages,
    funnel_summary,
    in_period,
)
from dealscope.metrics.kpis import infer_as_of
from dealscope.metrics.stage_times import time_in_stage_summary
from dealscope.model import (
    LOST,
    OPEN,
    WON,
    normalise_opportunities,
    normalise_stage_events,
)


@dataclass(frozen=True)
class Data:
    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    stages: pd.DataFrame
    as_of: pd.Timestamp


@dataclass(frozen=True)
class Row:
    label: str
    seconds: float
    baseline: str | None = None  # label of the row this one is compared with
    note: str = ""


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    """The fastest of `repeat` runs of `work` (seconds) and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def make_data(n: int) -> Data:
    """The demo pipeline with the dtypes the store hands the app (pandas string, datetime64)."""
    opportunities, stage_events, stages = generate_demo(n=n)
    opportunities = normalise_opportunities(opportunities)
    stage_events = normalise_stage_events(stage_events)
    return Data(opportunities, stage_events, stages, infer_as_of(opportunities, stage_events))


# --- funnel ----------------------------------------------------------------------------------

# The same figures as DealScope's history funnel (pass-through): per-stage counts and values, and
# the deals skipping / moving back / reopened, from the same pandas frames.
FUNNEL_SQL = """
WITH codes AS (SELECT * FROM stage_codes),
ev AS (
    SELECT e.opportunity_id, c.code, e.entered_at
    FROM stage_events e JOIN codes c ON e.stage = c.stage
    WHERE e.entered_at <= $as_of
),
moves AS (
    SELECT opportunity_id, code,
           lag(code) OVER (PARTITION BY opportunity_id ORDER BY entered_at) AS prev
    FROM ev
),
per_deal AS (
    SELECT opportunity_id,
           max(CASE WHEN code < $won THEN code END) AS furthest_open,
           bit_or(CASE WHEN code <= $won THEN 1::BIGINT << code ELSE 0 END) AS mask,
           count(*) FILTER (WHERE prev < $won AND code <= $won AND code > prev + 1) AS skips,
           count(*) FILTER (WHERE prev < $won AND code < prev) AS backward,
           count(*) FILTER (WHERE prev >= $won AND code < $won) AS reopens
    FROM moves GROUP BY opportunity_id
),
currency AS (SELECT mode(currency) AS main FROM opportunities),
paths AS (
    SELECT CASE WHEN o.closed_at > $as_of OR o.status IS NULL THEN 'open' ELSE o.status END
               AS status,
           CASE WHEN o.currency IS NULL OR o.currency = (SELECT main FROM currency)
               THEN o.amount END AS value,
           coalesce(p.mask, 0) AS mask, p.furthest_open,
           coalesce(p.skips, 0) AS skips, coalesce(p.backward, 0) AS backward,
           coalesce(p.reopens, 0) AS reopens
    FROM opportunities o LEFT JOIN per_deal p ON o.opportunity_id = p.opportunity_id
),
deals AS (
    SELECT *, CASE WHEN status = 'won' THEN $won ELSE coalesce(furthest_open, -1) END AS furthest
    FROM paths
)
SELECT c.code AS position,
       count(*) FILTER (WHERE (d.mask >> c.code) & 1 = 1) AS entered,
       count(*) FILTER (WHERE d.furthest >= c.code) AS reached,
       count(*) FILTER (WHERE d.furthest >= c.code + 1 AND c.code < $won) AS advanced,
       count(*) FILTER (WHERE d.furthest = c.code AND d.status = 'lost' AND c.code < $won) AS lost,
       count(*) FILTER (WHERE d.furthest = c.code AND d.status = 'open' AND c.code < $won) AS open,
       coalesce(sum(d.value) FILTER (
           WHERE d.furthest = c.code AND d.status = 'lost' AND c.code < $won), 0) AS lost_value,
       count(*) FILTER (WHERE c.code = 0 AND d.skips > 0) AS skipping,
       count(*) FILTER (WHERE c.code = 0 AND d.backward > 0) AS moving_back,
       count(*) FILTER (WHERE c.code = 0 AND d.reopens > 0) AS reopened
FROM deals d CROSS JOIN codes c
WHERE c.code <= $won
GROUP BY c.code ORDER BY c.code
"""


def duckdb_funnel(con: duckdb.DuckDBPyConnection, data: Data) -> pd.DataFrame:
    """The history funnel in DuckDB SQL over the same pandas frames (the baseline)."""
    names = funnel_stages(data.stages)
    lost = data.stages.loc[data.stages["kind"] == LOST, "stage"].tolist()
    stage_codes = pd.DataFrame(
        {"stage": names + lost, "code": list(range(len(names))) + [len(names)] * len(lost)}
    )
    con.register("stage_codes", stage_codes)
    con.register("stage_events", data.stage_events)
    con.register("opportunities", data.opportunities)
    params = {"as_of": data.as_of.to_pydatetime(), "won": len(names) - 1}
    return con.execute(FUNNEL_SQL, params).df()


def dealscope_funnel(data: Data) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """What the app does on a cold cache: per-deal paths and moves, the per-stage table and the
    skip / backward / reopen counts."""
    paths, moves = build_deal_paths(data.opportunities, data.stage_events, data.stages, data.as_of)
    table = compute_stage_funnel(paths, funnel_stages(data.stages))
    return paths, moves, table, funnel_summary(paths)


def same_figures(table: pd.DataFrame, summary: dict, expected: pd.DataFrame) -> bool:
    """Whether DealScope's and DuckDB's figures agree (counts exactly, values to a cent)."""
    columns = ["entered", "reached", "advanced", "lost", "open"]
    ours = table[columns].astype("int64").reset_index(drop=True)
    theirs = expected[columns].astype("int64").reset_index(drop=True)
    theirs.iloc[-1, 2:] = 0  # the won stage ends the funnel: both report nothing after it
    values = np.allclose(table["lost_value"], expected["lost_value"], atol=0.01)
    first = expected.iloc[0]
    counts = all(summary[k] == first[k] for k in ("skipping", "moving_back", "reopened"))
    return ours.equals(theirs) and values and counts


def page_rerun(paths: pd.DataFrame, moves: pd.DataFrame, data: Data, filters: Filters) -> dict:
    """The work of a Funnel page rerun after a filter change on the cached per-deal paths: what
    the default view computes through ui/funnel.py's loaders (selection, table, counts, lost
    reasons, transitions, the segment and period comparisons, the drill-through list)."""
    names = funnel_stages(data.stages)
    end = data.as_of.normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=180)
    filtered = apply_segment_filters(paths, filters) if filters.segments else paths
    selection = in_period(filtered, start, end)
    view = compute_funnel_view(selection, moves, names)
    view["segments"] = compare_segments(selection, names, "region")
    view["periods"] = compare_periods(filtered, names, start, end)
    drill = drill_deals(selection, names, names[0], "lost")
    view["drill"] = drill.sort_values("value", ascending=False).head(DRILL_MAX_ROWS)
    return view


def bench_funnel(data: Data, repeat: int) -> list[Row]:
    con = duckdb.connect()
    sql_seconds, expected = best_of(repeat, lambda: duckdb_funnel(con, data))
    ours_seconds, (paths, moves, table, summary) = best_of(repeat, lambda: dealscope_funnel(data))
    agree = same_figures(table, summary, expected)
    # The general case of the id lookup: opportunities in random order (both sides).
    shuffled = Data(
        data.opportunities.sample(frac=1.0, random_state=1),
        data.stage_events,
        data.stages,
        data.as_of,
    )
    sql_shuffled, _ = best_of(repeat, lambda: duckdb_funnel(con, shuffled))
    ours_shuffled, _ = best_of(repeat, lambda: dealscope_funnel(shuffled))
    filters = [
        Filters(segments={"region": ("华东",)}),
        Filters(segments={"region": ("华北", "华南"), "source": ("展会",)}),
        Filters(segments={"industry": ("金融",)}),
    ]
    rerun_seconds = max(
        best_of(repeat, lambda f=f: page_rerun(paths, moves, data, f))[0] for f in filters
    )
    sql, sql_random = "funnel: DuckDB SQL (baseline)", "funnel: DuckDB SQL, deals in random order"
    return [
        Row(sql, sql_seconds),
        Row(
            "funnel: DealScope (paths + table + counts)",
            ours_seconds,
            sql,
            "same figures" if agree else "FIGURES DIFFER",
        ),
        Row(sql_random, sql_shuffled),
        Row("funnel: DealScope, deals in random order", ours_shuffled, sql_random),
        Row("funnel: page rerun after a filter change (worst of 3 filters)", rerun_seconds),
    ]


def bench_cycle_times(data: Data, repeat: int) -> list[Row]:
    """KM time to close and time in stage vs the same in DuckDB SQL (bench_cycle.py has the
    detailed version, with DuckDB on Arrow tables as its best case)."""
    from bench_cycle import KM_SQL, STAGE_SQL  # bench/ is on sys.path when run as a script

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name, frame in (
        ("opps", data.opportunities),
        ("events", data.stage_events),
        ("stages", data.stages),
    ):
        con.register(name, frame)
    as_of = data.as_of.to_pydatetime()
    km_sql, _ = best_of(
        repeat, lambda: con.execute(KM_SQL, {"as_of": as_of, "horizon": 365.0}).fetchone()
    )
    km_ours, _ = best_of(repeat, lambda: km_summary(close_outcomes(data.opportunities, data.as_of)))
    stage_sql, _ = best_of(repeat, lambda: con.execute(STAGE_SQL, {"as_of": as_of}).df())
    stage_ours, _ = best_of(
        repeat, lambda: time_in_stage_summary(data.stage_events, data.stages, data.as_of)
    )
    km_base, stage_base = "cycle: KM, DuckDB SQL (baseline)", "cycle: time in stage, DuckDB SQL"
    return [
        Row(km_base, km_sql),
        Row("cycle: KM median + CI + restricted mean, DealScope", km_ours, km_base),
        Row(stage_base, stage_sql),
        Row("cycle: time in stage median/P75/P90/KM, DealScope", stage_ours, stage_base),
    ]


SECTIONS: dict[str, Callable[[Data, int], list[Row]]] = {
    "funnel": bench_funnel,
    "cycle": bench_cycle_times,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="opportunities (default 1M)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing (best is kept)")
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=list(SECTIONS))
    args = parser.parse_args(argv)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, cores={os.cpu_count()}")
    start = time.perf_counter()
    data = make_data(args.n)
    won = int(data.opportunities["status"].eq(WON).sum())
    still_open = int(data.opportunities["status"].eq(OPEN).sum())
    print(
        f"data: {len(data.opportunities):,} opportunities ({won:,} won, {still_open:,} open), "
        f"{len(data.stage_events):,} stage events, generated in {time.perf_counter() - start:.1f} s"
    )
    for name in args.sections:
        rows = SECTIONS[name](data, args.repeat)
        seconds = {row.label: row.seconds for row in rows}
        for row in rows:
            ratio = f"  ratio {row.seconds / seconds[row.baseline]:.2f}" if row.baseline else ""
            note = f"  ({row.note})" if row.note else ""
            print(f"{row.label:<66} {row.seconds:8.3f} s{ratio}{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
