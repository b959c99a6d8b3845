"""Issue 16 item 3: one session uploading hostile files does not stall the others. Other sessions
(AppTest instances) rerun the Overview while a session in another thread keeps uploading the
hostile probes on the Data page; each rerun's time is compared with the same rerun on an idle app.

The ratio is printed (the figure to report); only a generous bound is asserted, since two shared
cores make timings noisy: the requirement is 3× (RELIABILITY: "a few seconds" at most).
"""

from __future__ import annotations

import io
import statistics
import threading
import time

import openpyxl
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, APP_TIMEOUT
from tests.unit.ingest_fixtures import csv_bytes

RERUNS = 6
GENEROUS_BOUND = 10.0
# An idle rerun of a cached page takes 0.03–0.2 s here, so a ratio alone is noise-dominated: the
# bound also admits "a few seconds" of absolute delay, the issue's own words.
FEW_SECONDS = 3.0


def _xlsx(cells: dict[str, str]) -> bytes:
    book = openpyxl.Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HOSTILE = [
    ("far.xlsx", _xlsx({"A1": "id", "B1": "stage", "XFD1048576": "x"})),
    ("tall.xlsx", _xlsx({"A1": "id", "B1": "stage", "A1048576": "x"})),
    ("header.csv", csv_bytes([["id", "N" * 1_100_000], *[[str(i), "x"] for i in range(6000)]])),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _open(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
    at.query_params["lang"] = "en"
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _rerun_times(at: AppTest) -> list[float]:
    times = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, [e.value for e in at.exception]
    return times


def test_hostile_uploads_do_not_stall_other_sessions(demo_db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DEALSCOPE_DB_URL", demo_db_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    viewer = _open()
    _rerun_times(viewer)  # caches and imports warm
    idle = statistics.median(_rerun_times(viewer))

    stop, uploads, errors = threading.Event(), [], []

    def hostile_session() -> None:
        try:
            uploader = _open("pages/data.py")
            while not stop.is_set():
                for name, data in HOSTILE:
                    kind = XLSX if name.endswith("xlsx") else "text/csv"
                    uploader.file_uploader(key="ingest_upload").set_value([(name, data, kind)])
                    uploader.run()
                    shown = " ".join(e.value for e in uploader.error)
                    uploads.append((name, "limit" in shown.lower() or "column" in shown.lower()))
        except Exception as exc:  # reported in the main thread
            errors.append(exc)

    worker = threading.Thread(target=hostile_session, daemon=True)
    worker.start()
    while not uploads and worker.is_alive():
        time.sleep(0.05)
    before = len(uploads)
    busy_times = _rerun_times(viewer)
    during = len(uploads) - before
    stop.set()
    worker.join(timeout=120)
    assert not errors, errors
    assert uploads and all(refused for _, refused in uploads), uploads
    ratio = max(busy_times) / idle
    print(f"\nidle rerun median {idle:.3f} s; during {during} hostile uploads: "
          f"{', '.join(f'{t:.3f}' for t in busy_times)} s; median ratio "
          f"{statistics.median(busy_times) / idle:.2f}x, worst {ratio:.2f}x")  # fmt: skip
    assert max(busy_times) < max(GENEROUS_BOUND * idle, idle + FEW_SECONDS), busy_times
