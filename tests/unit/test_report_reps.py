"""`metrics --json` carries the `reps` list (issue 6), checked against direct counts of the demo."""

import json

import pandas as pd

from dealscope.cli import main
from dealscope.metrics.reps import REPORT_FIELDS


def test_metrics_json_has_reps_matching_direct_counts(demo_db_url, demo_dataset, capsys):
    assert main(["metrics", "--dataset", "demo", "--db", demo_db_url, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    reps = document["reps"]
    opps = demo_dataset.opportunities
    assert len(reps) == opps["owner"].nunique()
    assert all(list(row) == list(REPORT_FIELDS) for row in reps)
    counts = pd.crosstab(opps["owner"], opps["status"])
    won_amount = opps.loc[opps["status"].eq("won")].groupby("owner")["amount"].sum()
    for row in reps:
        expected = counts.loc[row["owner"]]
        assert (row["open"], row["won"], row["lost"]) == (
            expected["open"],
            expected["won"],
            expected["lost"],
        )
        assert row["win_rate"] == expected["won"] / (expected["won"] + expected["lost"])
        assert row["win_rate_ci_low"] < row["win_rate"] < row["win_rate_ci_high"]
        assert abs(row["won_amount"] - won_amount[row["owner"]]) < 1e-6
        assert row["km_median_days_to_close"] > 0
    shrunk = [row["win_rate_shrunk"] for row in reps]
    assert shrunk == sorted(shrunk, reverse=True)
    # Per-owner counts add up to the document's totals.
    assert sum(row["won"] for row in reps) == document["won"]
    assert sum(row["open"] for row in reps) == document["open"]
