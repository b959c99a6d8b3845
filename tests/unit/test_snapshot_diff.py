"""The two-snapshot diff on a hand-made pair of exports: every category and an exact waterfall."""

import pandas as pd
import pytest

from dealscope.model import demo_stage_table, normalise_opportunities
from dealscope.report.snapshot_diff import (
    CATEGORIES,
    category_deals,
    category_summary,
    diff_snapshots,
    pipeline_waterfall,
    snapshot_as_of,
    unpriced_count,
)


def row(oid, stage, status, amount, close="2024-02-01", currency="CNY"):
    return {
        "opportunity_id": oid,
        "name": f"deal {oid}",
        "owner": "rep",
        "stage": stage,
        "status": status,
        "amount": amount,
        "currency": currency,
        "created_at": pd.Timestamp("2024-01-01"),
        "expected_close_at": pd.Timestamp(close) if close else None,
    }


OLD = normalise_opportunities(
    pd.DataFrame(
        [
            row("r1", "线索", "open", 50),  # removed: missing from the new export
            row("w1", "价格谈判", "open", 80),  # won (and its amount rose to 90 when won)
            row("l1", "方案提交", "open", 60),  # lost
            row("o1", "输单", "lost", 40),  # reopened
            row("u1", "线索", "open", 100, close="2024-02-01"),  # up, forward, pulled in
            row("d1", "技术交流", "open", 200, close="2024-02-01"),  # down, back, pushed out
            row("s1", "需求确认", "open", 30),  # unchanged
            row("c1", "赢单", "won", 500),  # closed in both: never in the pipeline
            row("x1", "需求确认", "open", 1_000, currency="USD"),  # other currency: unpriced
        ]
    )
)
NEW = normalise_opportunities(
    pd.DataFrame(
        [
            row("n1", "线索", "open", 100),  # new
            row("w1", "赢单", "won", 90),
            row("l1", "输单", "lost", 60),
            row("o1", "需求确认", "open", 40),
            row("u1", "方案提交", "open", 150, close="2024-01-20"),
            row("d1", "需求确认", "open", 120, close="2024-03-01"),
            row("s1", "需求确认", "open", 30),
            row("c1", "赢单", "won", 500),
            row("x1", "方案提交", "open", 2_000, currency="USD"),
        ]
    )
)


@pytest.fixture
def diff():
    return diff_snapshots(OLD, NEW, demo_stage_table(), currency="CNY")


def test_every_deal_gets_one_status_class(diff):
    classes = diff.set_index("opportunity_id")["status_class"].to_dict()
    assert classes == {
        "n1": "new",
        "r1": "removed",
        "w1": "won",
        "l1": "lost",
        "o1": "reopened",
        "u1": "open",
        "d1": "open",
        "s1": "open",
        "c1": "unchanged_closed",
        "x1": "open",
    }


@pytest.mark.parametrize(
    ("category", "ids", "value"),
    [
        ("new", ["n1"], 100),
        ("won", ["w1"], 90),  # the amount it was won at
        ("lost", ["l1"], 60),
        ("reopened", ["o1"], 40),
        ("removed", ["r1"], 50),  # the amount it had when it disappeared
        ("stage_forward", ["u1", "x1"], 150),  # x1 moved forward too; USD is not valued (NaN)
        ("stage_back", ["d1"], 120),
        ("amount_up", ["u1"], 50),  # x1's USD amount is not comparable in CNY
        ("amount_down", ["d1"], -80),
        ("close_pulled_in", ["u1"], 150),
        ("close_pushed_out", ["d1"], 120),
    ],
)
def test_each_category_lists_its_deals_and_value(diff, category, ids, value):
    deals = category_deals(diff, category)
    assert sorted(deals["opportunity_id"]) == sorted(ids)
    assert deals["value"].sum() == pytest.approx(value)
    summary = category_summary(diff).set_index("category")
    assert summary.loc[category, "count"] == len(ids)
    assert summary.loc[category, "value"] == pytest.approx(value)


def test_a_deal_can_be_in_several_change_categories(diff):
    u1 = diff.set_index("opportunity_id").loc["u1"]
    assert u1["stage_forward"] and u1["amount_up"] and u1["close_pulled_in"]
    assert not (u1["stage_back"] or u1["amount_down"] or u1["close_pushed_out"])
    # A won deal's amount change is part of winning, not an 'amount up' move.
    assert not diff.set_index("opportunity_id").loc["w1", "amount_up"]
    assert set(category_summary(diff)["category"]) == set(CATEGORIES)


def test_waterfall_sums_exactly_from_old_to_new_pipeline(diff):
    steps = pipeline_waterfall(diff).set_index("step")
    # Old open (CNY): r1 50 + w1 80 + l1 60 + u1 100 + d1 200 + s1 30 = 520.
    # New open (CNY): n1 100 + o1 40 + u1 150 + d1 120 + s1 30 = 440.
    assert steps.loc["start", "value"] == 520
    assert steps.loc["end", "value"] == 440
    expected = {
        "new": 100,
        "reopened": 40,
        "amount_up": 50,
        "amount_down": -80,
        "won": -80,  # the pipeline loses what w1 was worth while open, not its won amount
        "lost": -60,
        "removed": -50,
    }
    for step, value in expected.items():
        assert steps.loc[step, "value"] == value, step
    deltas = steps.loc[steps["kind"] == "delta", "value"].sum()
    assert steps.loc["start", "value"] + deltas == steps.loc["end", "value"]
    # Counts: deals behind each bar; start/end count the open deals (x1 counted, valued 0).
    assert steps.loc["won", "count"] == 1 and steps.loc["start", "count"] == 7
    # Bars are drawn between running totals: 520 +100 +40 +50 -80 = 630, then won -80 -> 550.
    assert (steps.loc["won", "low"], steps.loc["won", "high"]) == (550, 630)


def test_waterfall_is_exact_on_random_snapshots():
    rng = pd.Series(range(400))
    stages = demo_stage_table()
    names = stages["stage"].tolist()
    kinds = stages.set_index("stage")["kind"]

    def snapshot(seed, drop):
        import numpy as np

        g = np.random.default_rng(seed)
        ids = [f"id{i}" for i in rng if i % drop != 0]
        stage = g.choice(names, len(ids))
        return normalise_opportunities(
            pd.DataFrame(
                {
                    "opportunity_id": ids,
                    "stage": stage,
                    "status": [kinds[s] for s in stage],
                    "amount": g.integers(1, 1_000, len(ids)) * 100.0,
                    "currency": "CNY",
                    "expected_close_at": pd.Timestamp("2024-03-01")
                    + pd.to_timedelta(g.integers(0, 60, len(ids)), unit="D"),
                }
            )
        )

    diff = diff_snapshots(snapshot(1, 7), snapshot(2, 5), stages)
    steps = pipeline_waterfall(diff).set_index("step")
    deltas = steps.loc[steps["kind"] == "delta", "value"].sum()
    assert steps.loc["start", "value"] + deltas == pytest.approx(
        steps.loc["end", "value"], abs=1e-6
    )
    # Every deal whose open value changed feeds exactly one bar.
    changed = diff.loc[diff["pipeline_change"] != 0]
    assert changed["bar"].ne("").all()


def test_unpriced_deals_are_counted_not_valued():
    # x1 is in another currency in both exports: one deal, not two rows (issue 13).
    assert unpriced_count(OLD, NEW, "CNY") == 1
    # One more unpriced only in the new export, one only in the old: three deals.
    extra_old = normalise_opportunities(pd.DataFrame([row("q1", "线索", "open", None)]))
    extra_new = normalise_opportunities(pd.DataFrame([row("q2", "线索", "open", None)]))
    old = pd.concat([OLD, extra_old], ignore_index=True)
    new = pd.concat([NEW, extra_new], ignore_index=True)
    assert unpriced_count(old, new, "CNY") == 3


def test_snapshot_as_of_rebuilds_an_earlier_export_from_history():
    opps = normalise_opportunities(
        pd.DataFrame(
            [
                row("a", "赢单", "won", 10) | {"closed_at": pd.Timestamp("2024-01-10")},
                row("b", "线索", "open", 20) | {"created_at": pd.Timestamp("2024-01-09")},
            ]
        )
    )
    events = pd.DataFrame(
        {
            "opportunity_id": ["a", "a", "b"],
            "stage": ["线索", "赢单", "线索"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-09"]),
        }
    )
    old = snapshot_as_of(opps, events, pd.Timestamp("2024-01-05"))
    assert old["opportunity_id"].tolist() == ["a"]  # b did not exist yet
    assert (old.loc[0, "stage"], old.loc[0, "status"]) == ("线索", "open")
    assert pd.isna(old.loc[0, "closed_at"])
    diff = diff_snapshots(old, opps, demo_stage_table())
    assert sorted(category_deals(diff, "won")["opportunity_id"]) == ["a"]
    assert sorted(category_deals(diff, "new")["opportunity_id"]) == ["b"]


def test_twenty_deals_without_amount_in_both_exports_count_twenty():
    """The issue's case: 20 deals without an amount in both exports read '40 deal rows'."""
    rows = [row(f"z{i}", "线索", "open", None) for i in range(20)]
    old = normalise_opportunities(pd.DataFrame(rows))
    new = normalise_opportunities(pd.DataFrame(rows + [row("p1", "线索", "open", 10)]))
    assert unpriced_count(old, new, "CNY") == 20


def test_comparison_offers_same_name_versions_then_datasets_sharing_ids():
    from dealscope.report.snapshot_diff import comparison_candidates, id_sample

    datasets = pd.DataFrame(
        {
            "id": [7, 6, 5, 4, 3, 2],
            "name": ["crm", "other", "crm", "unrelated", "crm-copy", "crm"],
            "version": [3, 1, 2, 1, 1, 1],
        }
    )
    # Sampled ids of dataset 7 found in: 6 (40), 3 (900), 4 (none); same-name ones not asked.
    picked = comparison_candidates(datasets, 7, {6: 40, 3: 900, 4: 0})
    assert picked.offered == (5, 2, 3, 6)  # crm v2, crm v1, then most shared first
    assert picked.same_name == frozenset({5, 2})
    assert picked.shared[3] == 900 and picked.shared[6] == 40
    assert picked.hidden == 1  # "unrelated": another name, no id in common
    alone = comparison_candidates(datasets.iloc[:1], 7, {})
    assert alone.offered == () and alone.hidden == 0
    frame = pd.DataFrame({"opportunity_id": [f"id{i}" for i in range(5000)] + ["id0"]})
    sample = id_sample(frame, 1000)
    assert len(sample) == len(set(sample)) == 1000
    assert sample[0] == "id0" and sample[-1] == "id4999"
