"""Uploads are parsed in a worker process (ui/ingest_worker.py): results, errors and progress come
back as if the parse ran here, and a worker that dies gives a one-line error, not a hung page."""

from __future__ import annotations

import os

import pytest

from dealscope.ingest.errors import LimitExceeded, UploadError
from dealscope.ingest.pipeline import SourceFile, ingest_files, read_source
from dealscope.ingest.settings import IngestSettings
from tests.unit.ingest_fixtures import NOW, csv_bytes
from ui.ingest_worker import run_in_worker

DEALS = [["opportunity_id", "stage", "amount"], ["A1", "Won", "10"], ["A2", "Lost", "5"]]


def _fail_with_limit(name: str) -> None:
    raise LimitExceeded(f"{name}: too big")


def _die() -> None:
    os._exit(3)  # the OS killing a worker (out of memory) looks like this to the pool


def test_the_worker_returns_what_the_parse_returns_here():
    source = SourceFile("deals.csv", csv_bytes(DEALS))
    settings = IngestSettings(now=NOW)
    here = ingest_files([source], settings)
    steps: list[str] = []
    there = run_in_worker(ingest_files, [source], settings, progress=steps.append)
    assert there.counts == here.counts == {
        "rows_in": 2, "rows_loaded": 2, "rows_rejected": 0, "rows_excluded": 0,
    }  # fmt: skip
    assert there.opportunities.equals(here.opportunities)
    # The steps the pipeline reports, in its order, all delivered before the result.
    assert steps[:2] == ["read:deals.csv", "map:deals.csv"] and steps[-1] == "assemble"
    raw = run_in_worker(read_source, source, settings)
    assert raw.data.shape == read_source(source, settings).data.shape


def test_an_ingest_error_keeps_its_type_and_message():
    with pytest.raises(LimitExceeded, match="big.csv: too big"):
        run_in_worker(_fail_with_limit, "big.csv")


def test_a_worker_that_dies_gives_one_line_and_the_next_upload_works():
    with pytest.raises(UploadError, match="stopped") as caught:
        run_in_worker(_die)
    assert "\n" not in str(caught.value)
    source = SourceFile("deals.csv", csv_bytes(DEALS))
    assert run_in_worker(ingest_files, [source], IngestSettings(now=NOW)).counts["rows_loaded"] == 2
