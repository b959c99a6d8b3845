"""The CLI: demo, datasets and metrics print what the functions compute; errors are actionable."""

import json

import pytest

from dealscope import store
from dealscope.cli import main
from dealscope.metrics.kpis import compute_summary, infer_as_of


def run_json(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_metrics_json_equals_the_kpi_functions(capsys, demo_db_url, demo_dataset):
    document = run_json(capsys, "metrics", "--dataset", "demo", "--db", demo_db_url, "--json")
    opps = demo_dataset.opportunities
    expected = compute_summary(opps, infer_as_of(opps, demo_dataset.stage_events))
    keys = ("opportunities", "open", "won", "lost", "won_amount", "win_rate_count")
    keys += ("win_rate_value", "median_days_to_win", "as_of")
    assert {k: document[k] for k in keys} == pytest.approx({k: expected[k] for k in keys})
    # independent count, not through compute_summary
    closed = opps[opps.status != "open"]
    assert document["won"] == (opps.status == "won").sum()
    assert document["win_rate_count"] == pytest.approx((closed.status == "won").mean())


def test_metrics_as_of_an_earlier_date(capsys, demo_db_url, demo_dataset):
    document = run_json(
        capsys,
        "metrics",
        "--dataset",
        "demo",
        "--db",
        demo_db_url,
        "--as-of",
        "2025-12-31",
        "--json",
    )
    opps = demo_dataset.opportunities
    assert document["as_of"].startswith("2025-12-31T23:59:59")
    created = opps.created_at <= "2025-12-31 23:59:59.999999"
    assert document["opportunities"] == created.sum()


def test_demo_if_absent_and_datasets_listing(capsys, empty_db_url):
    assert main(["demo", "--db", empty_db_url]) == 0
    assert main(["demo", "--if-absent", "--db", empty_db_url]) == 0
    assert "already present" in capsys.readouterr().out
    listing = run_json(capsys, "datasets", "--db", empty_db_url, "--json")["datasets"]
    assert [(d["name"], d["version"], d["opportunity_count"]) for d in listing] == [
        ("demo", 1, 6000)
    ]


def test_unknown_dataset_is_an_actionable_error(capsys, empty_db_url):
    store.get_engine(empty_db_url)
    assert main(["metrics", "--dataset", "nope", "--db", empty_db_url, "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No dataset named 'nope'") and "python -m dealscope" in err


def test_bad_as_of_is_an_actionable_error(capsys, demo_db_url):
    assert (
        main(["metrics", "--dataset", "demo", "--db", demo_db_url, "--as-of", "last tuesday"]) == 2
    )
    assert "YYYY-MM-DD" in capsys.readouterr().err
