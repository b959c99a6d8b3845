"""`python -m dealscope ingest`: JSON fields, exit codes, mapping files and the database source."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from dealscope.cli import main
from tests.unit.ingest_fixtures import csv_bytes

ROWS = [
    ["商机编号", "阶段", "金额"],
    ["001", "赢单", "¥1,000"],
    ["002", "输单", "5"],
    ["003", "赢单", "1", "x"],
]


def ingest(capsys, *args):
    code = main(["ingest", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_document_and_counts(tmp_path, capsys, empty_db_url):
    path = tmp_path / "deals.csv"
    path.write_bytes(csv_bytes(ROWS, "gb18030"))
    code, out, _ = ingest(capsys, path, "--db", empty_db_url, "--dataset", "weekly", "--json")
    document = json.loads(out)
    assert code == 0 and document["dataset"] == "weekly" and document["dataset_id"] == 1
    assert (
        document["rows_in"],
        document["rows_loaded"],
        document["rows_rejected"],
        document["rows_excluded"],
    ) == (3, 2, 1, 0)
    assert document["opportunities"] == 2 and document["stage_events"] == 0
    (file,) = document["files"]
    assert (
        file["path"] == "deals.csv"
        and file["layout"] == "chinese_crm"
        and file["encoding"] == "gb18030"
    )
    assert {k: file[k] for k in ("rows_in", "rows_loaded", "rows_rejected", "rows_excluded")} == {
        "rows_in": 3, "rows_loaded": 2, "rows_rejected": 1, "rows_excluded": 0,
    }  # fmt: skip
    assert document["mapping"]["deals.csv"]["columns"]["金额"] == "amount"
    (reject,) = document["rejects"]
    assert (reject["file"], reject["line"], reject["reason"], reject["value"]) == (
        "deals.csv",
        4,
        "extra-cell",
        "003,赢单,1,x",
    )


def test_exit_codes(tmp_path, capsys, empty_db_url):
    nothing = tmp_path / "nothing.csv"
    nothing.write_bytes(csv_bytes([["商机编号", "阶段"], ["", "赢单"], ["合计", ""]]))
    code, out, _ = ingest(capsys, nothing, "--db", empty_db_url, "--json")
    assert (
        code == 1 and json.loads(out)["rows_loaded"] == 0 and json.loads(out)["dataset_id"] is None
    )
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"id,stage\n1,Won\n")
    code, _, err = ingest(capsys, broken, "--db", empty_db_url)
    assert code == 2 and "file type mismatch" in err and "Traceback" not in err


def test_mapping_file_round_trip(tmp_path, capsys, empty_db_url):
    path = tmp_path / "custom.csv"
    path.write_bytes(
        csv_bytes([["deal", "phase", "value"], ["A1", "Won", "10"], ["A2", "Lost", "5"]])
    )
    bare = tmp_path / "bare.csv"
    bare.write_bytes(csv_bytes([["deal", "note", "value"], ["A1", "x", "10"]]))
    code, _, err = ingest(capsys, bare, "--db", empty_db_url)
    assert code == 2 and "required columns missing" in err
    mapping = {
        "files": {
            "custom.csv": {
                "columns": {"deal": "opportunity_id", "phase": "stage", "value": "amount"}
            }
        }
    }
    (tmp_path / "m.json").write_text(json.dumps(mapping), encoding="utf-8")
    saved = tmp_path / "saved.json"
    code, out, _ = ingest(
        capsys,
        path,
        "--db",
        empty_db_url,
        "--mapping",
        tmp_path / "m.json",
        "--save-mapping",
        saved,
        "--json",
    )
    assert code == 0 and json.loads(out)["rows_loaded"] == 2
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["files"]["custom.csv"]["columns"]["phase"] == "stage"
    assert [s["stage"] for s in document["settings"]["stages"]] == ["Won", "Lost"]


def test_database_table_source_uses_the_inspector_list(tmp_path, capsys, empty_db_url):
    source_url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(source_url)
    frame = pd.DataFrame(
        {"opportunity_id": ["007", "008"], "stage": ["赢单", "输单"], "amount": [1.5, 2.0]}
    )
    frame.to_sql("deals", engine, index=False)
    engine.dispose()
    code, out, _ = ingest(
        capsys, "--source-db", source_url, "--table", "deals", "--db", empty_db_url, "--json"
    )
    document = json.loads(out)
    assert code == 0 and document["rows_loaded"] == 2 and document["dataset"] == "deals"
    code, _, err = ingest(
        capsys,
        "--source-db",
        source_url,
        "--table",
        "deals; DROP TABLE deals",
        "--db",
        empty_db_url,
    )
    assert code == 2 and "choose one of ['deals']" in err
