"""Rep drill-down figures: stage conversion vs team, flag shares, monthly outcomes, page views."""

import math

import pandas as pd
import pytest

from dealscope.metrics.reps_detail import (
    compare_owner_to_team,
    compute_flag_shares,
    compute_stage_conversion,
    monthly_outcomes,
)
from dealscope.metrics.reps_views import compute_rep_views, owner_drilldown
from dealscope.metrics.stall import compute_stage_intervals
from dealscope.model import demo_stage_table, normalise_opportunities, normalise_stage_events

T0 = pd.Timestamp("2024-01-01")
AS_OF = T0 + pd.Timedelta(days=100)
START, END = T0, AS_OF + pd.Timedelta(days=1)
STAGES = demo_stage_table()


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def build():
    """Owner A (team T): a1 线索→需求确认→赢单; a2 线索→输单; a3 still in 线索.
    Owner B (team T): b1 线索→需求确认→线索(back)→需求确认→输单.
    Owner C (team U): c1 线索→需求确认 (still there)."""
    ev = [
        ("a1", "线索", 0), ("a1", "需求确认", 5), ("a1", "赢单", 20),
        ("a2", "线索", 0), ("a2", "输单", 8),
        ("a3", "线索", 90),
        ("b1", "线索", 0), ("b1", "需求确认", 3), ("b1", "线索", 6), ("b1", "需求确认", 9),
        ("b1", "输单", 30),
        ("c1", "线索", 0), ("c1", "需求确认", 4),
    ]  # fmt: skip
    events = normalise_stage_events(
        pd.DataFrame(
            [(o, s, day(d)) for o, s, d in ev], columns=["opportunity_id", "stage", "entered_at"]
        )
    )
    info = {
        "a1": ("A", "T", "won", 20), "a2": ("A", "T", "lost", 8), "a3": ("A", "T", "open", None),
        "b1": ("B", "T", "lost", 30), "c1": ("C", "U", "open", None),
    }  # fmt: skip
    opps = normalise_opportunities(
        pd.DataFrame(
            [
                {
                    "opportunity_id": o,
                    "owner": owner,
                    "team": team,
                    "region": "R",
                    "status": status,
                    "amount": 10.0,
                    "currency": "CNY",
                    "created_at": day(90 if o == "a3" else 0),
                    "closed_at": day(closed) if closed is not None else None,
                    # a3 active yesterday; c1 silent for 60 days
                    "last_activity_at": day(99) if o == "a3" else day(40),
                }
                for o, (owner, team, status, closed) in info.items()
            ]
        )
    )
    return opps, events


def test_stage_conversion_counts_resolved_deals_once():
    opps, events = build()
    iv = compute_stage_intervals(events, STAGES, AS_OF)
    owners = compute_stage_conversion(iv, opps, STAGES, START, END).set_index(["owner", "stage"])
    # A at 线索: a1 advanced, a2 lost, a3 still there (not a failure) → 1/2.
    assert owners.loc[("A", "线索"), ["resolved", "advanced"]].tolist() == [2, 1]
    assert owners.loc[("A", "需求确认"), "conversion"] == 1.0  # a1 went on to win
    # B entered 线索 twice (advanced both times) → one deal, advanced; 需求确认: went back, then lost.
    assert owners.loc[("B", "线索"), ["resolved", "advanced"]].tolist() == [1, 1]
    assert owners.loc[("B", "需求确认"), ["resolved", "advanced"]].tolist() == [1, 0]
    # Stages nobody left are present, zero-filled, with no rate.
    assert owners.loc[("A", "价格谈判"), "resolved"] == 0
    assert math.isnan(owners.loc[("A", "价格谈判"), "conversion"])
    teams = compute_stage_conversion(iv, opps, STAGES, START, END, by="team")
    t = teams.set_index(["team", "stage"])
    assert t.loc[("T", "线索"), ["resolved", "advanced"]].tolist() == [3, 2]
    assert t.loc[("T", "需求确认"), ["resolved", "advanced"]].tolist() == [2, 1]
    # U's only deal sits in 需求确认: 线索 resolved (advanced), 需求确认 unresolved.
    assert t.loc[("U", "需求确认"), "resolved"] == 0
    comparison = compare_owner_to_team(
        compute_stage_conversion(iv, opps, STAGES, START, END), teams, "A", "T"
    )
    first = comparison.iloc[0]
    assert first["stage"] == "线索"
    assert first["owner_conversion"] == 0.5
    assert first["team_conversion"] == pytest.approx(2 / 3)
    assert first["difference"] == pytest.approx(0.5 - 2 / 3)


def test_flag_shares_and_views_per_owner_and_team():
    opps, events = build()
    views = compute_rep_views(opps, events, STAGES, START, END, AS_OF)
    flags = views.flags.set_index("opportunity_id")
    assert set(flags.index) == {"a3", "c1"}
    # c1: last activity day 40, as of day 100 → 60 days silent (> 14); a3: 1 day.
    assert flags.at["c1", "days_silent"] == 60.0 and flags.at["c1", "silent"]
    assert not flags.at["a3", "silent"]
    owners = views.tables["owner"].set_index("owner")
    assert owners.at["C", "silent_share"] == 1.0 and owners.at["A", "silent_share"] == 0.0
    assert owners.at["A", "open_flagged_base"] == 1 and owners.at["B", "open_flagged_base"] == 0
    shares = compute_flag_shares(views.flags, opps, by="team").set_index("team")
    assert shares.loc["U", ["open_flagged_base", "silent", "median_days_silent"]].tolist() == [
        1,
        1,
        60.0,
    ]
    detail = owner_drilldown(views, opps, "A", START, END)
    assert detail["team"] == "T" and detail["row"]["won"] == 1
    assert detail["open_deals"]["opportunity_id"].tolist() == ["a3"]
    assert detail["conversion"].iloc[0]["owner_conversion"] == 0.5


def test_monthly_outcomes_zero_fill_between_first_and_last_close():
    rows = [
        ("x1", "won", "2024-01-15"),
        ("x2", "lost", "2024-01-20"),
        ("x3", "won", "2024-03-02"),
        ("y1", "won", "2024-02-10"),  # another owner
    ]
    opps = normalise_opportunities(
        pd.DataFrame(
            [
                {"opportunity_id": o, "owner": o[0], "status": s, "closed_at": pd.Timestamp(c)}
                for o, s, c in rows
            ]
        )
    )
    monthly = monthly_outcomes(opps, "x", START, END)
    assert (
        monthly["month"].dt.strftime("%Y-%m").tolist()
        == ["2024-01"] * 2 + ["2024-02"] * 2 + ["2024-03"] * 2
    )
    assert monthly["status"].tolist() == ["won", "lost"] * 3
    assert monthly["count"].tolist() == [1, 1, 0, 0, 1, 0]
    assert monthly_outcomes(opps, "nobody", START, END).empty


def test_views_without_history_or_data_explain_instead_of_failing():
    opps, events = build()
    views = compute_rep_views(opps, events.iloc[0:0], STAGES, START, END, AS_OF)
    assert not views.has_history and views.owner_conversion.empty
    # Stalled is unknown without stage history (NaN, not 0%); silence is still known.
    owners = views.tables["owner"].set_index("owner")
    assert math.isnan(owners.at["C", "stalled_share"]) and owners.at["C", "silent_share"] == 1.0
    assert owner_drilldown(views, opps, "A", START, END)["conversion"].empty
    empty = compute_rep_views(opps.iloc[0:0], events.iloc[0:0], STAGES, START, END, AS_OF)
    assert empty.tables["owner"].empty and empty.priors["owner"] is None
    assert owner_drilldown(empty, opps.iloc[0:0], "A", START, END)["row"] is None
