"""Issue 16 item 5 (CLI): every bad input ends as one line on stderr with exit code 2, and
`--dataset` is unambiguous (`id:N` is an id, anything else a name)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dealscope import store
from dealscope.cli import main
from tests.unit.ingest_fixtures import csv_bytes

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, argv: list[str]) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exit
        code = exc.code
    err = capsys.readouterr().err
    return code, err.strip().splitlines()


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "deals.csv"
    path.write_bytes(csv_bytes([["id", "stage", "amount"], ["1", "Won", "10"]]))
    return path


def _cases(tmp_path: Path, export: Path, db_url: str) -> dict[str, list[str]]:
    folder = tmp_path / "a_folder"
    folder.mkdir(exist_ok=True)
    not_a_folder = "/etc/hostname/out.html"  # a path below a file: cannot be written, even by root
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    wrong_shape = tmp_path / "shape.json"
    wrong_shape.write_text(json.dumps({"version": 1, "files": 3}), "utf-8")
    wrong_settings = tmp_path / "settings.json"
    wrong_settings.write_text(json.dumps({"files": {}, "settings": []}), "utf-8")
    wrong_columns = tmp_path / "columns.json"
    wrong_columns.write_text(json.dumps({"files": {"*": {"columns": ["id"]}}}), "utf-8")
    ingest = ["ingest", str(export), "--db", db_url]
    report = ["report", "--dataset", "demo", "--db", db_url]
    return {
        "report --out folder": [*report, "--out", str(folder)],
        "report --out unwritable": [*report, "--out", not_a_folder],
        "risk score --out folder": [
            "risk",
            "score",
            "--dataset",
            "demo",
            "--db",
            db_url,
            "--out",
            str(folder),
        ],  # fmt: skip
        "ingest --save-mapping folder": [*ingest, "--save-mapping", str(folder)],
        "ingest --save-mapping unwritable": [*ingest, "--save-mapping", "/etc/hostname/m.json"],
        "ingest --timezone": [*ingest, "--timezone", "Mars/Olympus_Mons"],
        "ingest --encoding": [*ingest, "--encoding", "utf-9"],
        "ingest --mapping not JSON": [*ingest, "--mapping", str(bad_json)],
        "ingest --mapping wrong shape": [*ingest, "--mapping", str(wrong_shape)],
        "ingest --mapping settings not an object": [*ingest, "--mapping", str(wrong_settings)],
        "ingest --mapping columns not an object": [*ingest, "--mapping", str(wrong_columns)],
        "ingest --mapping missing": [*ingest, "--mapping", str(tmp_path / "none.json")],
        "--db unknown scheme": ["datasets", "--db", "nosuchdb://host/x"],
        "--db not a URL": ["datasets", "--db", "not a url"],
        "--dataset id:x": ["metrics", "--dataset", "id:x", "--db", db_url],
        "--dataset id:999": ["metrics", "--dataset", "id:999", "--db", db_url],
        "unknown option": ["metrics", "--dataset", "demo", "--nope"],
    }


CASES = [
    "report --out folder", "report --out unwritable", "risk score --out folder",
    "ingest --save-mapping folder", "ingest --save-mapping unwritable", "ingest --timezone",
    "ingest --encoding", "ingest --mapping not JSON", "ingest --mapping wrong shape",
    "ingest --mapping settings not an object", "ingest --mapping columns not an object",
    "ingest --mapping missing", "--db unknown scheme", "--db not a URL", "--dataset id:x",
    "--dataset id:999", "unknown option",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_every_bad_input_is_one_line_with_exit_code_2(capsys, tmp_path, export, demo_db_url, case):
    code, lines = run_cli(capsys, _cases(tmp_path, export, demo_db_url)[case])
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in lines[0]


def test_the_unwritable_out_names_the_path(capsys, tmp_path, export, demo_db_url):
    _, lines = run_cli(capsys, _cases(tmp_path, export, demo_db_url)["report --out folder"])
    assert "is a folder; give a file name inside it" in lines[0]
    _, lines = run_cli(capsys, _cases(tmp_path, export, demo_db_url)["ingest --timezone"])
    assert "unknown time zone 'Mars/Olympus_Mons'" in lines[0]


def test_dataset_id_and_name_are_unambiguous(capsys, tmp_path, demo_db_url):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    engine = store.get_engine(url)
    demo = store.read_dataset(store.get_engine(demo_db_url), "demo")
    first = store.write_dataset(engine, "1", demo.opportunities.head(5), demo.stage_events.iloc[0:0],
                                demo.stages)  # fmt: skip
    second = store.write_dataset(engine, "big", demo.opportunities, demo.stage_events, demo.stages)
    assert (first, second) == (1, 2)

    def opportunities(reference: str) -> int:
        assert main(["metrics", "--dataset", reference, "--db", url, "--json"]) == 0
        return json.loads(capsys.readouterr().out)["opportunities"]

    assert opportunities("1") == 5  # the name "1", not id 1 … (here the same dataset)
    assert opportunities("id:2") == len(demo.opportunities)
    assert opportunities("big") == len(demo.opportunities)
    code, lines = run_cli(capsys, ["metrics", "--dataset", "2", "--db", url])
    assert code == 2 and lines == [
        "error: No dataset named '2'; for the dataset with id 2 use --dataset id:2."
    ]


def test_cli_package_imports_without_a_cycle():
    """Each command module imports on its own (helpers live in cli.common, not cli/__init__)."""
    for module in ("datasets_cmd", "demo_cmd", "ingest_cmd", "metrics_cmd", "report_cmd",
                   "risk_cmd", "common"):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", f"import dealscope.cli.{module} as m; m.__name__"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    source = "\n".join(p.read_text() for p in (ROOT / "dealscope" / "cli").glob("*_cmd.py"))
    assert "from dealscope.cli import" not in source
