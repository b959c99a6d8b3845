"""What the store and ingest benchmarks share: their arguments and the baseline they divide by."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pyarrow.csv as pacsv


def parse_size_args(description: str) -> argparse.Namespace:
    """`sizes` (deal counts, default 100k and 1M) and `--db`; prints the load average, which says
    how quiet the machine was."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 shared cores)", flush=True)
    return args


def raw_read_seconds(*paths: Path) -> float:
    """The baseline: seconds for pyarrow's raw read of the CSV files, nothing parsed further."""
    start = time.perf_counter()
    for path in paths:
        pacsv.read_csv(path)
    return time.perf_counter() - start
