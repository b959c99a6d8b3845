"""Store write/read speed at 100k and 1M opportunities (+ their stage events), SQLite on disk.

Prints seconds and rows per second, with the driver-level baseline (sqlite3 executemany of the same
rows) measured in the same run; figures only, never assertions. Run: `.venv/bin/python bench/bench_store.py`.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from dealscope import store
from dealscope.demo import generate_demo
from dealscope.model import OPPORTUNITY_COLUMNS, normalise_opportunities

SIZES = [int(s) for s in sys.argv[1:]] or [100_000, 1_000_000]


def raw_sqlite_baseline(path: Path, opps) -> float:
    """Plain sqlite3 executemany of the same opportunity rows into a bare table."""
    conn = sqlite3.connect(path)
    columns = ", ".join(OPPORTUNITY_COLUMNS)
    conn.execute(f"CREATE TABLE raw ({columns})")
    values = store._db_values(normalise_opportunities(opps), OPPORTUNITY_COLUMNS, "sqlite")
    rows = list(zip(*(values[c] for c in OPPORTUNITY_COLUMNS), strict=True))
    placeholders = ", ".join("?" * len(OPPORTUNITY_COLUMNS))
    start = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO raw VALUES ({placeholders})", rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    for n in SIZES:
        opps, events, stages = generate_demo(n=n)
        with tempfile.TemporaryDirectory() as tmp:
            engine = store.get_engine(f"sqlite:///{tmp}/bench.db")
            start = time.perf_counter()
            dataset_id = store.write_dataset(engine, "bench", opps, events, stages)
            write_s = time.perf_counter() - start
            start = time.perf_counter()
            loaded = store.read_dataset(engine, dataset_id)
            read_s = time.perf_counter() - start
            baseline_s = raw_sqlite_baseline(Path(tmp) / "raw.db", opps)
        assert len(loaded.opportunities) == n
        rows = n + len(events)
        print(
            f"{n:>9,} opportunities + {len(events):>9,} stage events: "
            f"write {write_s:6.2f} s ({rows / write_s:,.0f} rows/s), read {read_s:6.2f} s; "
            f"raw sqlite3 executemany of the opportunities alone {baseline_s:6.2f} s"
        )


if __name__ == "__main__":
    main()
