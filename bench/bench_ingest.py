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
        counts = result.counts
        assert (
            counts["rows_in"]
            == counts["rows_loaded"] + counts["rows_rejected"] + counts["rows_excluded"]
        )
        total = parse_s + store_s
        print(
            f"{n:>9,} opportunities + {n_events:>9,} stage events ({size_mb:,.0f} MB CSV): "
            f"pyarrow raw read {raw_s:6.2f} s | ingest parse+validate {parse_s:6.2f} s "
            f"({parse_s / raw_s:4.1f}x) + store {store_s:6.2f} s = {total:6.2f} s ({total / raw_s:4.1f}x raw) | "
            f"loaded {counts['rows_loaded']:,} of {counts['rows_in']:,} rows | peak RSS {peak_rss_mb():,.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
