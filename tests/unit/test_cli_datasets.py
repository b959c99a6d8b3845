"""`datasets rename|delete`, `datasets --json` objects, `metrics --json` stages / funnel_basis, and
`--as-of` on every computing command — checked against hand-written rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.cli import main
from tests.app.undated_fixtures import CLOSED_ONLY_ROWS, UNDATED_ROWS, write_rows


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    write_rows(url, "undated", UNDATED_ROWS)
    write_rows(url, "undated", UNDATED_ROWS)  # a second version of the same dataset
    write_rows(url, "closed", CLOSED_ONLY_ROWS)
    return url


def row_counts(url: str) -> dict[str, int]:
    engine = store.get_engine(url)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()  # fixed table names
            for t in ("datasets", "opportunities", "stages")
        }
    engine.dispose()
    return counts


def test_datasets_json_has_mapping_and_settings_as_objects(capsys, db):
    listing = run_json(capsys, "datasets", "--db", db, "--json")["datasets"]
    first = listing[-1]
    assert isinstance(first["mapping"], dict) and isinstance(first["settings"], dict)
    assert first["mapping"]["undated.csv"]["columns"]["Owner"] == "owner"
    assert first["settings"]["now"] == "2026-01-01T00:00:00"


def test_rename_every_version_then_refuse_a_taken_name(capsys, db):
    assert main(["datasets", "rename", "undated", "no dates", "--db", db]) == 0
    assert "(2 versions)" in capsys.readouterr().out
    names = [d["name"] for d in run_json(capsys, "datasets", "--db", db, "--json")["datasets"]]
    assert sorted(names) == ["closed", "no dates", "no dates"]
    assert main(["datasets", "rename", "closed", "no dates", "--db", db]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["datasets", "rename", "missing", "x", "--db", db]) == 2
    assert "No dataset named 'missing'" in capsys.readouterr().err


def test_delete_needs_confirmation_and_removes_every_row(capsys, db):
    before = row_counts(db)
    assert before == {"datasets": 3, "opportunities": 6 + 6 + 4, "stages": 3 + 3 + 2}
    assert main(["datasets", "delete", "undated", "--db", db]) == 2  # stdin is not a terminal
    assert "--yes" in capsys.readouterr().err
    assert row_counts(db) == before
    assert main(["datasets", "delete", "undated", "--yes", "--db", db]) == 0
    assert row_counts(db) == {"datasets": 1, "opportunities": 4, "stages": 2}
    assert "(2 versions)" in capsys.readouterr().out
    closed_id = run_json(capsys, "datasets", "--db", db, "--json")["datasets"][0]["id"]
    assert main(["datasets", "delete", f"id:{closed_id}", "--yes", "--db", db]) == 0
    assert row_counts(db) == {"datasets": 0, "opportunities": 0, "stages": 0}


def test_metrics_json_on_undated_data_carries_stages_and_the_snapshot_funnel(capsys, db):
    doc = run_json(capsys, "metrics", "--dataset", "undated", "--db", db, "--json")
    # By hand from UNDATED_ROWS: 3 won (60), 2 lost (40), 1 open (50).
    assert (doc["opportunities"], doc["won"], doc["lost"], doc["open"]) == (6, 3, 2, 1)
    assert doc["win_rate_count"] == pytest.approx(3 / 5)
    assert doc["win_rate_value"] == pytest.approx(60 / 100)
    assert doc["median_days_to_win"] is None and doc["undated"] == 6
    assert doc["funnel_basis"] == "snapshot"
    kinds = {s["stage"]: (s["kind"], s["position"]) for s in doc["stages"]}
    assert kinds == {
        "Prospecting": ("open", 0),
        "Closed Won": ("won", 1),
        "Closed Lost": ("lost", 2),
    }
    deals = {row["stage"]: row["deals"] for row in doc["funnel"]}
    assert deals == {"Prospecting": 1, "Closed Won": 3, "Closed Lost": 2}
    reps = {r["owner"]: (r["won"], r["lost"], r["open"]) for r in doc["reps"]}
    assert reps == {"Ann": (2, 1, 0), "Bob": (1, 1, 1)}


def test_metrics_json_with_history_says_so(capsys, demo_db_url):
    doc = run_json(capsys, "metrics", "--dataset", "demo", "--db", demo_db_url, "--json")
    assert doc["funnel_basis"] == "history"
    assert [s["kind"] for s in doc["stages"]] == ["open"] * 5 + ["won", "lost"]


def test_closed_only_as_of_is_the_latest_creation_and_every_deal_counts(capsys, db):
    doc = run_json(capsys, "metrics", "--dataset", "closed", "--db", db, "--json")
    # Latest created 2024-02-10; C2 (closed 03-01) and C4 (03-15) close after it: kept, flagged.
    assert pd.Timestamp(doc["as_of"]) == pd.Timestamp("2024-02-10")
    assert (doc["opportunities"], doc["won"], doc["lost"], doc["open"]) == (4, 3, 1, 0)
    assert doc["close_after_as_of"] == 2
    earlier = run_json(
        capsys, "metrics", "--dataset", "closed", "--db", db, "--as-of", "2024-01-30", "--json"
    )
    # Created by Jan 30: C1 (won Feb 1 → still open then), C2 (close unknown → won).
    assert (earlier["opportunities"], earlier["won"], earlier["open"]) == (2, 1, 1)


def test_as_of_is_accepted_by_report_and_risk(capsys, db, tmp_path):
    out = tmp_path / "r.md"
    argv = ["report", "--dataset", "closed", "--db", db, "--out", str(out), "--json"]
    figures = run_json(capsys, *argv, "--as-of", "2024-03-31")
    # 2024-03-31 is a Sunday: its week ends on Monday 00:00, after the as-of; W12 is complete.
    assert figures["week"] == "2024-W12"
    for command in (["risk", "train"], ["risk", "score", "--out", str(tmp_path / "s.csv")]):
        args = [*command, "--dataset", "closed", "--db", db, "--as-of", "nonsense"]
        assert main(args) == 2
        assert "YYYY-MM-DD" in capsys.readouterr().err
