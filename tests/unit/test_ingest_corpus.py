"""Issue 12: exports of many CRMs load with no mapping file, through the real pipeline (and some
through `python -m dealscope ingest`), and give the figures counted by hand (corpus_exports.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings
from tests.unit.corpus_exports import CORPUS, Export

NOW = "2026-12-01T00:00:00"


def _refuse(token: str):
    raise AssertionError(f"metrics --json wrote {token}, which is not JSON")


def _load(export: Export):
    sources = [SourceFile(name, data) for name, data in export.files.items()]
    return ingest_files(sources, IngestSettings(now=NOW))


@pytest.mark.parametrize("export", CORPUS, ids=[e.name for e in CORPUS])
def test_export_loads_without_mapping_and_gives_hand_counted_figures(export):
    result = _load(export)
    opps = result.opportunities
    status = opps["status"].value_counts()
    got = (len(opps), int(status.get("won", 0)), int(status.get("lost", 0)),
           int(status.get("open", 0)))  # fmt: skip
    want = export.expected
    assert got == (want.rows, want.won, want.lost, want.open)
    assert math.isclose(float(opps["amount"].sum()), want.amount, abs_tol=0.005)
    for file in result.files:  # conservation, per file
        assert file.rows_in == file.rows_loaded + file.rows_rejected + file.rows_excluded


def test_salesforce_history_orders_stages_and_links_deals():
    result = _load(CORPUS[1])
    assert len(result.stage_events) == 8
    open_stages = result.stages[result.stages["kind"] == "open"]["stage"].tolist()
    assert open_stages == ["Scoping", "Solutioning"]


def test_custom_stage_order_comes_from_the_exports_probability():
    result = _load(next(e for e in CORPUS if e.name == "custom_stages_probability"))
    stages = result.stages.sort_values("position")
    assert stages["stage"].tolist() == [
        "First call", "Tech check", "Budget agreed", "Signed off", "Parked",
    ]  # fmt: skip


def test_hubspot_custom_closed_stages_by_probability_and_durations_feed_stage_times():
    result = _load(next(e for e in CORPUS if e.name == "hubspot_ui_custom_pipeline"))
    kinds = dict(zip(result.stages["stage"], result.stages["kind"], strict=True))
    assert kinds["Signed"] == "won" and kinds["Gone quiet"] == "lost"
    events = result.stage_events[result.stage_events["opportunity_id"] == "9001"]
    # created 2024-03-01 09:00; 120 h in Discovery, 48 h in Proposal, then Signed.
    assert events["stage"].tolist() == ["Discovery", "Proposal", "Signed"]
    assert [str(t) for t in events["entered_at"]] == [
        "2024-03-01 09:00:00", "2024-03-06 09:00:00", "2024-03-08 09:00:00",
    ]  # fmt: skip
    flags = result.opportunities.set_index("opportunity_id")["flags"]
    assert "stage-time-derived" in flags["9001"]


def test_no_id_file_gets_stable_generated_ids_flagged():
    export = next(e for e in CORPUS if e.name == "no_id_no_dates")
    first, second = _load(export), _load(export)
    ids = first.opportunities["opportunity_id"].tolist()
    assert ids == second.opportunities["opportunity_id"].tolist()
    assert ids[0] == "deals.csv:2" and len(set(ids)) == 5
    assert first.opportunities["flags"].str.contains("generated-id").all()
    assert any("cannot be compared" in n for n in first.files[0].notes)


def test_future_close_date_keeps_a_lost_deal_lost():
    result = _load(next(e for e in CORPUS if e.name == "future_close_dates"))
    row = result.opportunities.set_index("opportunity_id").loc["F2"]
    assert row["status"] == "lost" and "future-date" in row["flags"]


def test_western_cp1252_file_is_not_read_as_gb18030():
    result = _load(next(e for e in CORPUS if e.name == "dutch_semicolon_cp1252"))
    owners = set(result.opportunities["owner"])
    assert "Sofie Maës" in owners
    assert result.files[0].encoding not in ("gb18030", "gbk")


@pytest.mark.parametrize(
    "name", ["closed_only_win_loss", "pipedrive_portuguese", "bitrix24_api", "jiandaoyun_gbk"]
)
def test_cli_ingests_without_a_mapping_file(tmp_path, name):
    export = next(e for e in CORPUS if e.name == name)
    paths = []
    for file, data in export.files.items():
        path = tmp_path / file
        path.write_bytes(data)
        paths.append(str(path))
    db = f"sqlite:///{tmp_path / 'c.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "dealscope", "ingest", *paths, "--db", db, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["opportunities"] == export.expected.rows
    metrics = subprocess.run(
        [sys.executable, "-m", "dealscope", "metrics", "--dataset", document["dataset"],
         "--db", db, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert metrics.returncode == 0, metrics.stderr
    figures = json.loads(metrics.stdout, parse_constant=_refuse)  # valid JSON: no Infinity/NaN
    assert figures
