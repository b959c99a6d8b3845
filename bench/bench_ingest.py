"""Ingest speed at 100k and 1M opportunities (+ ~5 stage events each) from CSV files.

The files are written by the demo generator to a temp dir; the baseline is pyarrow's raw CSV read
of the same two files, measured in the same run. Prints seconds, peak RSS and the ratios; figures
only, never assertions. Run: `OMP_NUM_THREADS=1 .venv/bin/python bench/bench_ingest.py [N …]`.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from dealscope import store
from dealscope.demo import generate_demo
from dealscope.ingest import pipeline
from dealscope.ingest.persist import save_result
from dealscope.ingest.pipeline import SourceFile, ingest_files

SIZES = [int(s) for s in sys.argv[1:]] or [100_000, 1_000_000]
# The 1M-deal CSV is ~210 MB: above the browser-upload limit (200 MB), which guards the server, not
# a local file read by the CLI. Raised here so the whole pipeline is measured.
pipeline.MAX_UPLOAD_BYTES = 1 << 30


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_files(n: int, folder: Path) -> tuple[Path, Path, int]:
    opps, events, _ = generate_demo(n=n)
    deals = folder / "opportunities.csv"
    log = folder / "stage_events.csv"
    opps.drop(columns=["extra", "flags"], errors="ignore").to_csv(deals, index=False)
    events.to_csv(log, index=False)
    return deals, log, len(events)


def sqlite_floor(folder: Path, result) -> float:
    """SQLite's own cost for the same rows: the driver's executemany of ready-made row tuples into
    a fresh database with DealScope's schema (indexes included), no conversion, no validation."""
    engine = store.get_engine(f"sqlite:///{folder}/floor.db")
    rows = {}
    for table, frame in ((store.opportunities, result.opportunities),
                         (store.stage_events, result.stage_events)):  # fmt: skip
        columns = tuple(c.name for c in table.columns if c.name != "dataset_id")
        values = store._db_values(frame, columns, "sqlite")
        rows[table.name] = (columns, list(zip([1] * len(frame), *values.values(), strict=True)))
    connection = engine.raw_connection()
    try:
        connection.execute("INSERT INTO datasets VALUES (1, 'floor', 1, '2026-01-01', '[]', "
                           "NULL, NULL, 0, 0, 0, 0, 0, 0)")  # fmt: skip
        start = time.perf_counter()
        for name, (columns, tuples) in rows.items():
            marks = ", ".join("?" * (len(columns) + 1))
            connection.executemany(f"INSERT INTO {name} VALUES ({marks})", tuples)
        connection.commit()
        return time.perf_counter() - start
    finally:
        connection.close()
        engine.dispose()


def main() -> None:
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            deals, log, n_events = write_files(n, Path(tmp))
            size_mb = (deals.stat().st_size + log.stat().st_size) / 2**20
            start = time.perf_counter()
            pacsv.read_csv(deals)
            pacsv.read_csv(log)
            raw_s = time.perf_counter() - start
            sources = [SourceFile(p.name, p.read_bytes()) for p in (deals, log)]
            start = time.perf_counter()
            result = ingest_files(sources)
            parse_s = time.perf_counter() - start
            engine = store.get_engine(f"sqlite:///{tmp}/bench.db")
            start = time.perf_counter()
            save_result(engine, "bench", result)
            store_s = time.perf_counter() - start
            engine.dispose()
            floor_s = sqlite_floor(Path(tmp), result)
        counts = result.counts
        assert (
            counts["rows_in"]
            == counts["rows_loaded"] + counts["rows_rejected"] + counts["rows_excluded"]
        )
        total = parse_s + store_s
        print(
            f"{n:>9,} opportunities + {n_events:>9,} stage events ({size_mb:,.0f} MB CSV), "
            f"loaded {counts['rows_loaded']:,} of {counts['rows_in']:,} rows\n"
            f"  pyarrow raw read (baseline)      {raw_s:7.2f} s\n"
            f"  ingest parse + validate          {parse_s:7.2f} s  {parse_s / raw_s:5.1f}x raw\n"
            f"  ingest store (SQLite)            {store_s:7.2f} s  {store_s / raw_s:5.1f}x raw\n"
            f"  ingest total                     {total:7.2f} s  {total / raw_s:5.1f}x raw\n"
            f"  SQLite floor, same rows          {floor_s:7.2f} s  {floor_s / raw_s:5.1f}x raw "
            "(executemany of ready tuples)\n"
            f"  peak RSS {peak_rss_mb():,.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
