"""Datasets a real export can be: no dates at all, and closed deals only (built in code)."""

from __future__ import annotations

from dealscope import store
from dealscope.ingest.persist import save_result
from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings
from tests.unit.ingest_fixtures import csv_bytes

# No dates: 6 deals, 3 won (10 + 20 + 30), 2 lost (40 + 0), 1 open; two owners, two regions.
UNDATED_ROWS = [
    ["Opportunity ID", "Owner", "Region", "Amount", "Stage"],
    ["U1", "Ann", "North", "10", "Closed Won"],
    ["U2", "Ann", "North", "20", "Closed Won"],
    ["U3", "Bob", "South", "30", "Closed Won"],
    ["U4", "Bob", "South", "40", "Closed Lost"],
    ["U5", "Ann", "South", "0", "Closed Lost"],
    ["U6", "Bob", "North", "50", "Prospecting"],
]
# Closed deals only, dated: 3 won (100, 200, 300), 1 lost (400); one deal closed before created.
CLOSED_ONLY_ROWS = [
    ["Opportunity ID", "Owner", "Amount", "Stage", "Created Date", "Close Date"],
    ["C1", "Ann", "100", "Closed Won", "2024-01-02", "2024-02-01"],
    ["C2", "Ann", "200", "Closed Won", "2024-01-10", "2024-03-01"],
    ["C3", "Bob", "300", "Closed Won", "2024-02-05", "2024-01-20"],
    ["C4", "Bob", "400", "Closed Lost", "2024-02-10", "2024-03-15"],
]


def write_rows(url: str, name: str, rows: list[list[str]]) -> int:
    """Ingest `rows` as one CSV file and store it as dataset `name`; returns its id."""
    settings = IngestSettings(now="2026-01-01T00:00:00")
    result = ingest_files([SourceFile(f"{name}.csv", csv_bytes(rows))], settings)
    engine = store.get_engine(url)
    try:
        return save_result(engine, name, result)
    finally:
        engine.dispose()
