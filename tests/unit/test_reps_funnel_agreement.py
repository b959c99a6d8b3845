"""One definition per label: the Reps drill-down's stage conversion is the Funnel's.

The reference is the Funnel computed the way the Funnel page does with one owner selected in the
sidebar: that owner's deals and stage events only, per-deal paths built from them, deals created
in the period, pass-through rule. The drill-down groups every owner at once; the two must agree
on every owner and stage of the demo.
"""

import pandas as pd
import pytest

from dealscope.metrics.funnel import compute_stage_funnel
from dealscope.metrics.funnel_paths import build_deal_paths, funnel_stages, in_period
from dealscope.metrics.reps import UNASSIGNED
from dealscope.metrics.reps_views import compute_rep_views, owner_drilldown
from dealscope.model import OPEN, demo_stage_table, normalise_opportunities, normalise_stage_events


@pytest.fixture(scope="module")
def demo(demo_dataset):
    dataset = demo_dataset.settled()
    opps, events, stages = dataset.opportunities, dataset.stage_events, dataset.stages
    as_of = dataset.as_of
    # The app's default period: the first creation day to the end of the as-of day.
    start = opps["created_at"].min().normalize()
    end = as_of.normalize() + pd.Timedelta(days=1)
    views = compute_rep_views(opps, events, stages, start, end, as_of, all_time=True)
    return dataset, views, start, end


def owner_funnel(dataset, owner, start, end) -> pd.DataFrame:
    """The Funnel page's table on the owner-filtered demo (open stages only)."""
    opps = dataset.opportunities
    mine = opps.loc[opps["owner"].eq(owner)].reset_index(drop=True)
    events = dataset.stage_events
    events = events.loc[events["opportunity_id"].isin(mine["opportunity_id"])]
    paths, _ = build_deal_paths(mine, events.reset_index(drop=True), dataset.stages, dataset.as_of)
    table = compute_stage_funnel(in_period(paths, start, end), funnel_stages(dataset.stages))
    n_open = int(dataset.stages["kind"].eq(OPEN).sum())
    return table.loc[table["position"].lt(n_open)].set_index("stage")


def test_drilldown_conversion_equals_the_funnel_for_every_owner_and_stage(demo):
    dataset, views, start, end = demo
    owners = sorted(dataset.opportunities["owner"].dropna().unique())
    assert len(owners) == 36
    compared = 0
    for owner in owners:  # 36 owners, each a vectorised funnel
        detail = owner_drilldown(views, dataset.opportunities, owner, start, end)
        got = detail["conversion"].set_index("stage")
        expected = owner_funnel(dataset, owner, start, end)
        assert got.index.tolist() == expected.index.tolist(), owner
        assert got["owner_advanced"].tolist() == expected["advanced"].tolist(), owner
        resolved = (expected["advanced"] + expected["lost"]).tolist()
        assert got["owner_resolved"].tolist() == resolved, owner
        assert got["owner_conversion"].to_numpy() == pytest.approx(
            expected["conversion"].to_numpy(), nan_ok=True
        ), owner
        compared += len(got)
    assert compared == 36 * 5


def test_the_reported_disagreement_is_gone(demo):
    """Issue 13: 何娜 at 线索 read 98/152 on Reps and 106/160 on the Funnel. Recount the Funnel's
    figure straight from the rows: her deals created in the period that reached 线索 (pass-through:
    furthest stage at or beyond it, or won) and then reached 需求确认 or beyond, vs were lost with
    线索 as their furthest stage."""
    dataset, views, start, end = demo
    opps = dataset.opportunities
    mine = opps.loc[opps["owner"].eq("何娜") & opps["created_at"].between(start, end)]
    events = dataset.stage_events
    events = events.loc[
        events["opportunity_id"].isin(mine["opportunity_id"])
        & events["entered_at"].le(dataset.as_of)
    ]
    order = {"线索": 0, "需求确认": 1, "方案提交": 2, "技术交流": 3, "价格谈判": 4}
    furthest = events["stage"].map(order).groupby(events["opportunity_id"]).max()
    furthest = furthest.reindex(mine["opportunity_id"]).to_numpy()
    won = mine["status"].eq("won").to_numpy()
    lost = mine["status"].eq("lost").to_numpy()
    advanced = int((won | (furthest >= 1)).sum())
    lost_here = int((lost & (furthest == 0)).sum())
    detail = owner_drilldown(views, opps, "何娜", start, end)
    first = detail["conversion"].iloc[0]
    assert first["stage"] == "线索"
    assert (first["owner_advanced"], first["owner_resolved"]) == (advanced, advanced + lost_here)
    assert (advanced, advanced + lost_here) == (106, 160)  # the Funnel's figure in the issue


def unowned_fixture():
    """Two owners with a closed deal each, and three deals without an owner (one open, one won,
    one lost): the leaderboard has A and B only; the three are counted apart."""
    day = pd.Timestamp("2024-01-10")
    rows = [
        ("a1", "A", "won", day),
        ("b1", "B", "lost", day),
        ("n1", None, "won", day),
        ("n2", None, "lost", day),
        ("n3", None, "open", None),
    ]
    return normalise_opportunities(
        pd.DataFrame(
            [
                {
                    "opportunity_id": o,
                    "owner": owner,
                    "team": "T",
                    "region": "R",
                    "status": status,
                    "amount": 10.0,
                    "currency": "CNY",
                    "created_at": pd.Timestamp("2024-01-02"),
                    "closed_at": closed,
                }
                for o, owner, status, closed in rows
            ]
        )
    )


def test_deals_without_owner_are_counted_apart_not_ranked():
    opps = unowned_fixture()
    events = normalise_stage_events(pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]))
    start, end, as_of = (
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-01-31"),
    )
    views = compute_rep_views(opps, events, demo_stage_table(), start, end, as_of)
    owners = views.tables["owner"]
    assert sorted(owners["owner"]) == ["A", "B"]
    assert UNASSIGNED not in set(owners["owner"])
    assert owners["rank"].tolist() == [1, 2]
    assert views.unassigned == {"owner": 3, "team": 0, "region": 0}
    # The prior pools the two owners only: 1 won of 2 closed between them.
    assert views.priors["owner"].groups == 2
    assert views.tables["team"]["closed"].tolist() == [4]  # the team still counts every deal
