"""RELIABILITY E10 and E11 measured in a fresh interpreter: a large-but-allowed CSV stays within the
stated memory budget (limits.INGEST_MEMORY_*), the row cap refuses politely and cheaply, and XLSX
zip bombs and billion laughs are refused before parsing within ≤ 2 s and < 200 MB of RSS growth.

Each case runs in its own subprocess (Linux /proc). The baseline is the child's RSS (VmRSS, ~120 MB
here) after it has imported DealScope and read the file's bytes, with the peak reset to it
(/proc/self/clear_refs); the figure asserted is the peak RSS (VmHWM) after the ingest minus that
baseline, so the interpreter and its imports are not counted and anything the ingest allocates,
even briefly, is. (ru_maxrss is not used: after a vfork-based spawn it can carry the parent's peak.)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dealscope.ingest import limits
from tests.unit.ingest_fixtures import csv_bytes, xlsx_bytes

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="RSS is read from Linux's /proc"
)
MEASURE = """
import json, sys, time
from dealscope.errors import DealScopeError
from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings

def status_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

path, name = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
try:  # reset the peak (VmHWM) to the current RSS: import-time peaks are not the ingest's
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
except OSError:
    pass  # then the peak includes the imports' transient peak: a stricter test
baseline = status_kb("VmRSS")
started = time.perf_counter()
try:
    result = ingest_files([SourceFile(name, data)], IngestSettings(now="2026-11-26T00:00:00"))
    outcome = {"loaded": result.counts["rows_loaded"]}
except DealScopeError as exc:
    chain, cause = [], exc
    while cause is not None:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    outcome = {"error": type(exc).__name__, "message": str(exc), "chain": chain}
seconds = time.perf_counter() - started
peak = status_kb("VmHWM")
print(json.dumps({**outcome, "seconds": seconds, "baseline_mb": baseline / 1024,
                  "growth_mb": (peak - baseline) / 1024, "file_mb": len(data) / 2**20}))
"""


def measure(path: Path, name: str | None = None) -> dict:
    """Ingest `path` in a fresh interpreter; its outcome, seconds and RSS growth in MB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), name or path.name],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def english_export(rows: int) -> bytes:
    """An ASCII-heavy opportunity export (the costlier kind per byte: short cells)."""
    stages = [
        "Prospecting",
        "Qualification",
        "Proposal",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    header = ["Opportunity ID", "Opportunity Name", "Account Name", "Opportunity Owner", "Region",
              "Amount", "Stage", "Created Date", "Close Date", "Lead Source"]  # fmt: skip
    body = [
        [f"{i:07d}", f"Deal {i}", f"Acme {i % 5000}", f"Rep {i % 80}", ("East", "West")[i % 2],
         str(1000 + i * 37 % 900_000), stages[i % 6], f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
         f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" if i % 6 >= 4 else "", "Web"]
        for i in range(rows)
    ]  # fmt: skip
    return csv_bytes([header, *body])


def test_e10_large_but_allowed_csv_stays_within_the_memory_budget(tmp_path):
    path = tmp_path / "large.csv"
    path.write_bytes(english_export(100_000))  # ~7.6 MB: large enough that the fixed part is small
    figures = measure(path)
    assert figures.get("loaded") == 100_000, figures
    budget_mb = (
        limits.INGEST_MEMORY_FIXED_BYTES + limits.INGEST_MEMORY_PER_FILE_BYTE * path.stat().st_size
    ) / limits.MB
    assert figures["growth_mb"] <= budget_mb, figures | {"budget_mb": budget_mb}


def test_e10_row_cap_refuses_politely_before_parsing(tmp_path):
    lines = limits.MAX_ROWS + limits.HEADER_SCAN_ROWS  # with the header: one over the real cap
    path = tmp_path / "tall.csv"
    path.write_bytes(b"id,stage\n" + b"1,W\n" * lines)  # ~24 MB: allowed by size
    assert path.stat().st_size < limits.MAX_UPLOAD_BYTES
    figures = measure(path)
    assert figures.get("error") == "LimitExceeded", figures
    assert figures["message"] == (
        f"tall.csv: The line count is {lines + 1:,} lines, above the limit of {limits.MAX_ROWS:,} "
        "lines. Split the export by date range."
    )
    assert figures["growth_mb"] < limits.REFUSAL_MAX_MEMORY_BYTES / limits.MB, figures


def _zip_bomb(path: Path, uncompressed: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\0" * (16 * limits.MB)
            for _ in range(uncompressed // len(chunk)):
                sheet.write(chunk)
    return path


def _billion_laughs(path: Path) -> Path:
    """A real workbook whose sharedStrings.xml holds the 10⁹-fold entity expansion (~3 GB)."""
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
    strings = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<!DOCTYPE lolz [<!ENTITY lol1 "lol">{entities}]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["id", "stage"], ["a", "Won"]])))
    with zipfile.ZipFile(path, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override)
            archive.writestr(info.filename, data)
        archive.writestr("xl/sharedStrings.xml", strings)
    return path


@pytest.mark.parametrize(
    ("kind", "error", "evidence"),
    [
        ("size", "LimitExceeded", "uncompressed size is 1,024 MB"),  # 1 GiB in a ~5 MB zip
        ("ratio", "LimitExceeded", "compression ratio"),  # 192 MB, below the size limit
        ("laughs", "FileTypeError", "EntitiesForbidden"),  # defusedxml refuses the DTD entities
    ],
)
def test_e11_bombs_refused_before_parsing_fast_and_small(tmp_path, kind, error, evidence):
    if kind == "laughs":
        path = _billion_laughs(tmp_path / "laughs.xlsx")
    else:
        size = 1024 * limits.MB if kind == "size" else 192 * limits.MB
        path = _zip_bomb(tmp_path / "bomb.xlsx", size)
    figures = measure(path)
    assert figures.get("error") == error, figures
    assert evidence in figures["message"] + " ".join(figures["chain"]), figures
    assert figures["seconds"] <= limits.REFUSAL_MAX_SECONDS, figures
    assert figures["growth_mb"] < limits.REFUSAL_MAX_MEMORY_BYTES / limits.MB, figures
