"""`python -m dealscope risk train --json` and `risk score --out` on the demo database."""

from __future__ import annotations

import io
import json

import pandas as pd

from dealscope.cli import main
from dealscope.model import OPEN


def test_train_json_then_score_csv(demo_db_url, demo_dataset, tmp_path, capsys):
    models = str(tmp_path / "models")
    code = main(
        ["risk", "train", "--dataset", "demo", "--db", demo_db_url, "--model-dir", models, "--json"]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    for key in ("auc", "pr_auc", "brier", "baseline_auc", "closed_split_auc", "validation"):
        assert key in document
    assert document["auc"] > document["baseline_auc"]
    assert document["validation"] == "backtest"
    assert 0 <= document["unresolved_share"] < 1

    out = tmp_path / "scores.csv"
    code = main(
        [
            "risk",
            "score",
            "--dataset",
            "demo",
            "--db",
            demo_db_url,
            "--model-dir",
            models,
            "--out",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert code == 0
    assert "trained a new one" not in capsys.readouterr().err  # the saved model was reused
    scores = pd.read_csv(
        io.BytesIO(out.read_bytes()), encoding="utf-8-sig", dtype={"opportunity_id": str}
    )
    assert list(scores.columns) == [
        "opportunity_id", "p_lost", "expected_lost_value", "tier", "tag", "reasons", "signals"
    ]  # fmt: skip
    assert set(scores["tag"]) <= {"At risk", "Follow up", "Likely to win"}
    open_ids = set(
        demo_dataset.opportunities.loc[
            demo_dataset.opportunities["status"].eq(OPEN), "opportunity_id"
        ]
    )
    assert set(scores["opportunity_id"]) == open_ids and len(scores) == len(open_ids)
    assert set(scores["tier"]) <= {"high", "medium", "low"}


def test_unknown_dataset_is_an_actionable_error(demo_db_url, tmp_path, capsys):
    code = main(
        ["risk", "train", "--dataset", "nope", "--db", demo_db_url, "--model-dir", str(tmp_path)]
    )
    assert code == 2
    assert "No dataset named 'nope'" in capsys.readouterr().err
