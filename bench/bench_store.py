"""Store write and first-load speed at 100k and 1M opportunities (+ ~4 stage events each).

The baseline is pyarrow's raw read of the same data as CSV files (written by the demo generator to
a temp dir), measured in the same run; the store figures are printed as ratios to it (targets:
write <= 2x, first load <= 2x). Figures only, never assertions.

Run: `OMP_NUM_THREADS=1 .venv/bin/python bench/bench_store.py [--db URL] [N …]` — without --db a
fresh SQLite file in the temp dir; with a PostgreSQL URL (e.g. under scripts/with_postgres.sh,
or `make bench-postgres`) the same figures for PostgreSQL.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from bench.baseline import parse_size_args, raw_read_seconds
from dealscope import store
from dealscope.demo import generate_demo
from dealscope.model import normalise_opportunities, normalise_stage_events, normalise_stages


def _driver_floor(engine, opps, events, stages) -> float:
    """Seconds for the database driver alone to take the rows the store writes (the same Arrow
    tables) into fresh tables without indexes, keys or a catalog row: what no store code can beat."""
    backend = store._arrow_backend(engine)
    tables = [
        (table, store._arrow_rows(table, frame, 0, backend))
        for table, frame in (
            (store.opportunities, opps),
            (store.stage_events, events),
            (store.stages, stages),
        )
    ]
    with store._arrow_connection(engine, writing=True) as conn, conn.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute("BEGIN")
        for table, rows in tables:
            cursor.adbc_ingest(f"floor_{table.name}", rows, mode="create")
        cursor.execute("COMMIT")
        elapsed = time.perf_counter() - start
        for table, _ in tables:
            cursor.execute(f"DROP TABLE floor_{table.name}")
    return elapsed


def main() -> None:
    args = parse_size_args(__doc__.splitlines()[0])
    for n in args.sizes:
        opps, events, stages = generate_demo(n=n)
        # Canonical frames, as the ingest pipeline hands them to the store (the demo generator's
        # lack `probability`, and the store would normalise them inside the timed write).
        opps = normalise_opportunities(opps)
        events, stages = normalise_stage_events(events), normalise_stages(stages)
        with tempfile.TemporaryDirectory() as tmp:
            deals, log = Path(tmp) / "opportunities.csv", Path(tmp) / "stage_events.csv"
            opps.to_csv(deals, index=False)
            events.to_csv(log, index=False)
            raw_s = raw_read_seconds(deals, log)
            url = args.db or f"sqlite:///{tmp}/bench.db"
            engine = store.get_engine(url)
            start = time.perf_counter()
            dataset_id = store.write_dataset(engine, "bench", opps, events, stages)
            write_s = time.perf_counter() - start
            floor_s = _driver_floor(engine, opps, events, stages)
            engine.dispose()
            engine = store.get_engine(url)  # a first load: new engine, nothing cached
            start = time.perf_counter()
            loaded = store.read_dataset(engine, dataset_id)
            read_s = time.perf_counter() - start
            engine.dispose()
        assert len(loaded.opportunities) == n and len(loaded.stage_events) == len(events)
        backend = store.sa.make_url(url).get_backend_name()
        print(
            f"{backend}: {n:,} opportunities + {len(events):,} stage events\n"
            f"  pyarrow raw read of the CSVs (baseline) {raw_s:6.2f} s\n"
            f"  store write                             {write_s:6.2f} s  {write_s / raw_s:4.1f}x raw\n"
            f"  driver floor: the same Arrow rows into  {floor_s:6.2f} s  {floor_s / raw_s:4.1f}x raw\n"
            f"    new tables without indexes or keys\n"
            f"  first load from the store               {read_s:6.2f} s  {read_s / raw_s:4.1f}x raw",
            flush=True,
        )


if __name__ == "__main__":
    main()
