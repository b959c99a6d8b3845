"""Fixed per-call cost of the whole ingest pipeline on tiny tables (what property tests pay).

Run: .venv/bin/python bench/bench_ingest_overhead.py [--tables 200] [--repeats 3]  (from anywhere)
Prints milliseconds per `ingest_files` call (best of the repeats) for one fixed 3-row export and
for seeded random small tables like the Hypothesis properties draw (≤ 12 rows of awkward cells,
once as UTF-8 and once as UTF-16). Figures only, never asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from dealscope.errors import DealScopeError
from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings
from tests.unit.ingest_fixtures import csv_text, encode

HEADERS = ["商机编号", "阶段", "金额", "创建时间", "负责人", "备注"]
FIXED = [
    HEADERS,
    ["001", "赢单", "¥1,234.5", "2024/3/5", "张三", "x"],
    ["002", "需求确认", "12.5万", "2024年3月5日", "李四", ""],
    ["合计", "", "", "", "", ""],
]
CELLS = ["", " ", "合计", "Total", "赢单", "输单", "需求确认", "NA", "001", "¥1,234.5", "12.5万",
         "2024/3/5", "2024年3月5日", "45356", "03/05/2024", "=1+1", "a,b", "—", "é", "x"]  # fmt: skip


def random_tables(count: int, seed: int = 7) -> list[list[list[str]]]:
    """Small tables of the properties' kind: known awkward cells and random short text."""
    rng = random.Random(seed)

    def cell() -> str:
        if rng.random() < 0.7:
            return rng.choice(CELLS)
        return "".join(chr(rng.randint(32, 0x9FFF)) for _ in range(rng.randint(0, 6))).strip('"')

    return [
        [HEADERS, *([cell() for _ in HEADERS] for _ in range(rng.randint(1, 12)))]
        for _ in range(count)
    ]


def per_call(files: list[bytes], repeats: int) -> float:
    """Best-of-`repeats` milliseconds per whole-pipeline call over `files`."""
    settings = IngestSettings(now="2026-11-26T00:00:00")
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for data in files:
            with contextlib.suppress(DealScopeError):  # refusals cost time too: keep them
                ingest_files([SourceFile("t.csv", data)], settings)
        best = min(best, (time.perf_counter() - started) / len(files))
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    per_call([csv_text(FIXED).encode()], 1)  # warm up imports and caches
    fixed = per_call([csv_text(FIXED).encode()] * 50, args.repeats)
    tables = random_tables(args.tables)
    utf8 = per_call([csv_text(t).encode() for t in tables], args.repeats)
    utf16 = per_call([encode(csv_text(t), "utf-16") for t in tables], args.repeats)
    print(f"fixed 3-row export: {fixed:.1f} ms per call")
    print(
        f"{args.tables} random small tables: {utf8:.1f} ms per call (UTF-8), {utf16:.1f} ms (UTF-16)"
    )


if __name__ == "__main__":
    main()
