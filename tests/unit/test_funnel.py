"""The funnel's bases and rules on hand-made pipelines (tests/unit/funnel_fixtures.py documents them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dealscope.metrics.funnel import (
    PASS_THROUGH,
    STRICT,
    compute_snapshot_funnel,
    compute_stage_funnel,
    funnel_document,
)
from dealscope.metrics.funnel_paths import (
    build_deal_paths,
    funnel_stages,
    funnel_summary,
    in_period,
)
from tests.unit import funnel_fixtures as fx


@pytest.fixture(scope="module")
def built():
    return build_deal_paths(fx.opportunities(), fx.stage_events(), fx.stages(), fx.AS_OF)


def by_stage(table: pd.DataFrame, column: str) -> list:
    return table.sort_values("position")[column].tolist()


def test_funnel_stages_are_open_stages_then_won():
    assert funnel_stages(fx.stages()) == fx.NAMES


def test_deal_paths(built):
    paths, _ = built
    got = paths.set_index("opportunity_id")
    # bit j = entered stage j (A=1, B=2, C=4, W=8); lost is an outcome, not a funnel stage.
    assert got["entered_mask"].to_dict() == {
        "d1": 15, "d2": 3, "d3": 13, "d4": 7, "d5": 3, "d6": 1, "d7": 0, "d8": 15, "d9": 1,
    }  # fmt: skip
    # d8 entered W but was reopened and lost: judged by its status, its furthest stage is C.
    assert got["furthest"].to_dict() == {
        "d1": 3, "d2": 1, "d3": 3, "d4": 2, "d5": 1, "d6": 0, "d7": -1, "d8": 2, "d9": 0,
    }  # fmt: skip
    assert got.index[got["reopened"]].tolist() == ["d5", "d8"]
    assert got["n_skips"].to_dict()["d3"] == 1 and got["n_skips"].sum() == 1
    assert got["n_backward"].to_dict()["d4"] == 1 and got["n_backward"].sum() == 1
    assert got.index[~got["has_history"]].tolist() == ["d7"]


def test_moves_are_classified(built):
    _, moves = built
    assert moves["kind"].astype(str).value_counts().to_dict() == {
        "forward": 7, "close": 6, "skip": 1, "backward": 1, "reopen": 2,
    }  # fmt: skip


def test_pass_through_funnel(built):
    paths, _ = built
    table = compute_stage_funnel(paths, fx.NAMES, PASS_THROUGH)
    assert by_stage(table, "stage") == fx.NAMES
    assert by_stage(table, "entered") == [8, 5, 4, 3]
    assert by_stage(table, "reached") == [8, 6, 4, 2]
    assert by_stage(table, "skipped") == [0, 1, 0, 0]  # d3 passed B without entering it
    assert by_stage(table, "advanced") == [6, 4, 2, 0]
    assert by_stage(table, "lost") == [0, 1, 1, 0]  # d2 at B, d8 at C
    assert by_stage(table, "open") == [2, 1, 1, 0]  # d6+d9 at A, d5 at B, d4 at C
    assert by_stage(table, "skipped_on") == [0, 0, 0, 0]
    conversion = by_stage(table, "conversion")
    assert conversion[:3] == pytest.approx([6 / 6, 4 / 5, 2 / 3]) and np.isnan(conversion[3])
    # Cumulative: reached / (reached + lost before); the won stage gives won / (won + lost).
    assert by_stage(table, "cumulative") == pytest.approx([1.0, 6 / 6, 4 / 5, 2 / 4])
    # Identity per open stage: reached = advanced + lost + open.
    open_rows = table.loc[table["position"] < 3]
    assert (open_rows["advanced"] + open_rows["lost"] + open_rows["open"]).tolist() == by_stage(
        open_rows, "reached"
    )
    # Values: amount = 100 × deal number; d2 = 200 lost at B, d8 = 800 lost at C.
    assert by_stage(table, "lost_value") == [0.0, 200.0, 800.0, 0.0]
    assert by_stage(table, "lost_value_share") == pytest.approx([0.0, 0.2, 0.8, 0.0])
    assert by_stage(table, "lost_share") == pytest.approx([0.0, 0.5, 0.5, 0.0])


def test_strict_funnel(built):
    paths, _ = built
    table = compute_stage_funnel(paths, fx.NAMES, STRICT)
    assert by_stage(table, "reached") == [8, 5, 3, 1]
    assert by_stage(table, "advanced") == [5, 3, 1, 0]
    assert by_stage(table, "lost") == [0, 1, 1, 0]
    assert by_stage(table, "open") == [2, 1, 1, 0]
    assert by_stage(table, "skipped_on") == [1, 0, 0, 0]  # d3 leaves at A (gap at B)
    assert by_stage(table, "conversion")[:3] == pytest.approx([5 / 5, 3 / 4, 1 / 2])
    assert by_stage(table, "cumulative") == pytest.approx([1.0, 5 / 5, 3 / 4, 1 / 3])


def test_wilson_interval_and_min_n(built):
    paths, _ = built
    row = compute_stage_funnel(paths, fx.NAMES).set_index("stage").loc["B"]
    # Wilson for 4 of 5 at z = 1.96: centre 1.1842 / 1.7683 = 0.6697, half-width 0.2941.
    assert row["ci_low"] == pytest.approx(0.3755, abs=1e-4)
    assert row["ci_high"] == pytest.approx(0.9638, abs=1e-4)
    assert not row["enough"]  # 5 resolved < MIN_RESOLVED


def test_summary(built):
    paths, _ = built
    assert funnel_summary(paths) == {
        "deals": 9, "with_history": 8, "without_history": 1, "outside_funnel": 0,
        "skipping": 1, "skips": 1, "moving_back": 1, "backward_moves": 1, "reopened": 2,
    }  # fmt: skip


def test_stages_nobody_entered_do_not_crash():
    stage_rows = pd.DataFrame(fx.STAGE_ROWS, columns=["stage", "position", "kind"])
    opps = fx.opportunities().iloc[[5]]  # d6: only ever in A
    events = fx.stage_events().query("opportunity_id == 'd6'")
    paths, moves = build_deal_paths(opps, events, stage_rows, fx.AS_OF)
    table = compute_stage_funnel(paths, fx.NAMES)
    assert by_stage(table, "reached") == [1, 0, 0, 0]
    assert by_stage(table, "resolved") == [0, 0, 0, 0]
    assert table["conversion"].isna().all() and moves.empty
    assert by_stage(table, "cumulative")[:1] == [1.0] and table["cumulative"][1:].isna().all()


def test_no_deals_gives_zero_rows(built):
    paths, _ = built
    table = compute_stage_funnel(paths.iloc[0:0], fx.NAMES, STRICT)
    assert by_stage(table, "reached") == [0, 0, 0, 0]
    assert table["conversion"].isna().all() and not table["enough"].any()


def test_events_after_as_of_and_later_closes_are_ignored():
    opps = fx.opportunities()
    paths, _ = build_deal_paths(opps, fx.stage_events(), fx.stages(), pd.Timestamp("2025-01-02"))
    got = paths.set_index("opportunity_id")
    # On 2 January every deal had entered only its first stage; nothing had closed.
    assert set(got["status"]) == {"open"}
    assert got["furthest"].to_dict()["d1"] == 1 and got["furthest"].to_dict()["d5"] == 0


def test_unsorted_events_give_the_same_paths(built):
    shuffled = fx.stage_events().sample(frac=1.0, random_state=3)
    paths, _ = build_deal_paths(fx.opportunities(), shuffled, fx.stages(), fx.AS_OF)
    pd.testing.assert_frame_equal(paths, built[0])


def test_in_period_uses_created_at(built):
    paths, _ = built
    picked = in_period(paths, pd.Timestamp("2024-12-01"), pd.Timestamp("2025-01-01"))
    assert picked["opportunity_id"].tolist() == ["d5", "d6", "d7", "d8", "d9"]


def test_grouped_funnel_adds_up(built):
    paths, _ = built
    table = compute_stage_funnel(paths.fillna({"region": "?"}), fx.NAMES, by="region")
    east = table.loc[table["region"] == "东"]
    assert by_stage(east, "reached") == [3, 3, 2, 2]  # d1, d2, d3; d3 skips B; d1 + d3 won
    totals = table.groupby("position")["reached"].sum().tolist()
    assert totals == by_stage(compute_stage_funnel(paths, fx.NAMES), "reached")


def test_snapshot_funnel():
    table = compute_snapshot_funnel(fx.opportunities(), fx.stages(), fx.AS_OF).set_index("stage")
    assert table["deals"].to_dict() == {"A": 3, "B": 2, "C": 0, "W": 2, "L": 2}
    # At or beyond = open deals now at this stage or later + won deals.
    assert table["at_or_beyond"].to_dict() == {"A": 7, "B": 4, "C": 2, "W": 2, "L": 0}
    assert table.loc["B", "value"] == 400.0 + 500.0


def test_unknown_rule_is_refused(built):
    with pytest.raises(ValueError, match="rule"):
        compute_stage_funnel(built[0], fx.NAMES, "sideways")


def test_funnel_document_for_the_cli():
    rows = funnel_document(fx.opportunities(), fx.stage_events(), fx.stages(), fx.AS_OF)
    assert [r["stage"] for r in rows] == fx.NAMES
    assert rows[1] == {
        "stage": "B", "entered": 5, "reached": 6, "advanced": 4, "lost": 1, "open": 1,
        "conversion": pytest.approx(0.8), "ci_low": pytest.approx(0.3755, abs=1e-4),
        "ci_high": pytest.approx(0.9638, abs=1e-4),
    }  # fmt: skip
    assert rows[3]["reached"] == 2 and rows[3]["conversion"] is None and rows[3]["lost"] is None
    empty = fx.stage_events().iloc[0:0]
    assert funnel_document(fx.opportunities(), empty, fx.stages(), fx.AS_OF) == []


def test_cli_metrics_json_has_the_funnel(demo_db_url, capsys):
    import json

    from dealscope.cli import main

    assert main(["metrics", "--dataset", "demo", "--db", demo_db_url, "--json"]) == 0
    funnel = json.loads(capsys.readouterr().out)["funnel"]
    keys = ["stage", "entered", "reached", "advanced", "lost", "open", "conversion", "ci_low"]
    assert list(funnel[0]) == [*keys, "ci_high"]
    first = funnel[0]
    assert first["reached"] == first["advanced"] + first["lost"] + first["open"]
    assert first["conversion"] == pytest.approx(
        first["advanced"] / (first["advanced"] + first["lost"])
    )


def test_opportunity_order_does_not_matter(built):
    """Aligned tables take a shortcut; any other order goes through the id lookup: same paths."""
    reordered = fx.opportunities().iloc[::-1]
    paths, moves = build_deal_paths(reordered, fx.stage_events(), fx.stages(), fx.AS_OF)
    got = paths.sort_values("opportunity_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, built[0])
    assert len(moves) == len(built[1])


def test_precomputed_event_rows_give_the_same_paths(built):
    from dealscope.filters import event_deal_rows

    opps, events = fx.opportunities(), fx.stage_events()
    rows = event_deal_rows(opps, events)
    paths, moves = build_deal_paths(opps, events, fx.stages(), fx.AS_OF, rows)
    pd.testing.assert_frame_equal(paths, built[0])
    pd.testing.assert_frame_equal(moves, built[1])
