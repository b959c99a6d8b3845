"""Point-in-time snapshots: no feature may use information from after its snapshot time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dealscope.demo import generate_demo
from dealscope.metrics.kpis import infer_as_of
from dealscope.model import demo_stage_table, normalise_opportunities, normalise_stage_events
from dealscope.risk import availability as A
from dealscope.risk import features as F
from dealscope.risk.train import train_risk_model

T0 = pd.Timestamp("2025-01-01")
AS_OF = T0 + pd.Timedelta(days=400)
STAGES = demo_stage_table()
SNAP = T0 + pd.Timedelta(days=20)  # the snapshot time of the target deal "x"


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def base_world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deal x (owner 王伟) plus the owner's and others' closed deals around the snapshot time."""
    opps = [
        # id, owner, status, created, closed, amount
        ("x", "王伟", "lost", 0, 60, 100_000.0),
        ("p1", "王伟", "won", -50, 5, 50_000.0),  # closed before the snapshot: known
        ("p2", "王伟", "lost", -40, 10, 80_000.0),  # known
        ("q1", "李娜", "won", -30, 15, 20_000.0),  # another owner, known
        ("f1", "王伟", "lost", 1, 30, 60_000.0),  # closes after the snapshot: future
    ]
    frame = pd.DataFrame(
        [
            {
                "opportunity_id": i,
                "owner": o,
                "status": s,
                "stage": {"won": "赢单", "lost": "输单"}[s],
                "created_at": day(c),
                "closed_at": day(e),
                "amount": a,
                "industry": "金融",
                "source": "展会",
                "last_activity_at": day(e - 1),
                "lost_reason": "预算不足" if s == "lost" else None,
            }
            for i, o, s, c, e, a in opps
        ]
    )
    events = [
        ("x", "线索", day(0)),
        ("x", "需求确认", day(5)),
        ("x", "方案提交", day(12)),  # current stage at the snapshot (entered 8 days before)
        ("x", "需求确认", day(35)),  # a later regression
        ("x", "输单", day(60)),
    ]
    for oid, _, status, created, closed, _ in opps[1:]:
        events += [
            (oid, "线索", day(created)),
            (oid, {"won": "赢单", "lost": "输单"}[status], day(closed)),
        ]
    return normalise_opportunities(frame), normalise_stage_events(
        pd.DataFrame(events, columns=["opportunity_id", "stage", "entered_at"])
    )


def snapshot(opps: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    spec = A.choose_spec(opps, events, AS_OF)
    points = pd.DataFrame({"opportunity_id": ["x"], "snapshot_at": [SNAP]})
    return F.features_at(points, opps, events, STAGES, AS_OF, spec).iloc[0]


def future_later_stage_moves(opps, events):
    extra = pd.DataFrame(
        # day 21 is one day after the snapshot: the nearest entry, but not yet known at day 20.
        [("x", "技术交流", day(21)), ("x", "价格谈判", day(45)), ("x", "需求确认", day(50))],
        columns=["opportunity_id", "stage", "entered_at"],
    )
    return opps, normalise_stage_events(pd.concat([events, extra]))


def future_won_later_instead(opps, events):
    opps = opps.copy()
    x = opps["opportunity_id"].eq("x")
    opps.loc[x, ["status", "stage", "lost_reason"]] = ["won", "赢单", None]
    opps.loc[x, "closed_at"] = day(300)
    opps.loc[x, "last_activity_at"] = day(299)
    events = events.copy()
    last = events["opportunity_id"].eq("x") & events["stage"].eq("输单")
    events.loc[last, ["stage", "entered_at"]] = ["赢单", day(300)]
    return opps, normalise_stage_events(events)


def future_owner_wins_later(opps, events):
    opps = opps.copy()
    opps.loc[opps["opportunity_id"].eq("f1"), ["status", "stage"]] = ["won", "赢单"]
    more = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": [f"w{i}" for i in range(20)],
                "owner": "王伟",
                "status": "won",
                "stage": "赢单",
                "created_at": day(21),
                "closed_at": [day(22 + i) for i in range(20)],
            }
        )
    )
    return pd.concat([opps, more], ignore_index=True), events


def future_owner_wins_at_the_snapshot_instant(opps, events):
    # Closing exactly at t is not "before t": the outcome was not yet known at the snapshot.
    more = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": ["tie"],
                "owner": "王伟",
                "status": "won",
                "stage": "赢单",
                "created_at": day(1),
                "closed_at": SNAP,
            }
        )
    )
    return pd.concat([opps, more], ignore_index=True), events


def future_leaky_columns_filled(opps, events):
    opps = opps.copy()
    opps["probability"] = np.where(opps["status"].eq("won"), 100, 0)
    opps["extra"] = json.dumps({"Forecast Category": "Closed", "Deal Score": 1})
    return opps, events


@pytest.mark.parametrize(
    "future",
    [
        future_later_stage_moves,
        future_won_later_instead,
        future_owner_wins_later,
        future_owner_wins_at_the_snapshot_instant,
        future_leaky_columns_filled,
    ],
)
def test_snapshot_features_ignore_the_future(future):
    opps, events = base_world()
    before = snapshot(opps, events)
    after = snapshot(*future(opps, events))
    pd.testing.assert_series_equal(before, after, check_names=False)


def test_snapshot_values_are_those_known_at_the_snapshot():
    opps, events = base_world()
    row = snapshot(opps, events)
    assert row["stage"] == "方案提交"
    assert row["days_in_stage"] == pytest.approx(8.0)
    assert row["age_days"] == pytest.approx(20.0)
    assert row["stage_changes"] == 2 and row["regressions"] == 0
    # Known before t: the owner's p1 (won) and p2 (lost), everyone's p1, p2, q1 (2 won of 3).
    global_rate = (2 + 1) / (3 + 2)
    expected = (1 + F.OWNER_PRIOR_STRENGTH * global_rate) / (2 + F.OWNER_PRIOR_STRENGTH)
    assert row["owner_win_rate"] == pytest.approx(expected)


def test_owner_history_before_the_snapshot_does_change_the_feature():
    # The counterpart of the leak tests: the feature is live, it reacts to the known past.
    opps, events = base_world()
    opps2 = opps.copy()
    opps2.loc[opps2["opportunity_id"].eq("p2"), ["status", "stage"]] = ["won", "赢单"]
    assert snapshot(opps2, events)["owner_win_rate"] > snapshot(opps, events)["owner_win_rate"]


def test_regressions_counted_only_up_to_the_snapshot():
    opps, events = base_world()
    spec = A.choose_spec(opps, events, AS_OF)
    points = pd.DataFrame({"opportunity_id": ["x", "x"], "snapshot_at": [SNAP, day(40)]})
    rows = F.features_at(points, opps, events, STAGES, AS_OF, spec)
    assert rows["regressions"].tolist() == [0, 1]
    assert rows["stage"].tolist() == ["方案提交", "需求确认"]


def test_snapshots_are_before_the_close_and_each_deal_weighs_one():
    opps, _ = base_world()
    deals = F.closed_deals(opps, AS_OF)
    points = F.snapshot_points(deals, F.HISTORY)
    assert (points["snapshot_at"] < points["closed_at"]).all()
    assert points.groupby("opportunity_id")["weight"].sum().round(12).eq(1.0).all()
    x = points.loc[points["opportunity_id"].eq("x"), "snapshot_at"]
    assert ((x - day(0)).dt.days.tolist()) == [0, 7, 14, 21, 30, 45]  # 60 days long
    assert F.snapshot_points(deals, F.FALLBACK).groupby("opportunity_id").size().eq(1).all()
    per_deal = points.groupby("opportunity_id", sort=False).size()
    assert (
        F.snapshot_counts(deals, F.HISTORY).tolist() == per_deal[deals["opportunity_id"]].tolist()
    )


def test_leaky_fields_are_listed_and_never_features():
    opps, events = future_leaky_columns_filled(*base_world())
    spec = A.choose_spec(opps, events, AS_OF)
    assert A.excluded_fields(opps) == ["Deal Score", "Forecast Category", "probability"]
    for name in ("probability", "Forecast Category", "Deal Score", "closed_at", "lost_reason"):
        assert name not in spec.columns
    table = {r["feature"]: r for r in A.availability_table(spec, "amount_ok", ["probability"])}
    assert table["probability"]["used"] is False
    assert "probability" in table["probability"]["why"]["en"]


def test_leaky_probability_column_does_not_change_the_model():
    opps, events, stages = generate_demo(n=1500)
    opps, events = normalise_opportunities(opps), normalise_stage_events(events)
    as_of = infer_as_of(opps, events)
    clean = train_risk_model(opps, events, stages, as_of).card
    leaky = opps.assign(probability=np.where(opps["status"].eq("lost"), 0.0, 100.0))
    leaky["extra"] = np.where(
        opps["status"].eq("lost"), '{"forecast": "Omitted"}', '{"forecast": "Commit"}'
    )
    dirty = train_risk_model(leaky, events, stages, as_of).card
    assert dirty["features"] == clean["features"]
    assert dirty["metrics"]["auc"] == pytest.approx(clean["metrics"]["auc"])
    assert dirty["metrics"]["auc"] < 0.95  # a leak would score ~1.0
    assert {"probability", "forecast"} <= {
        r["feature"] for r in dirty["feature_availability"] if not r["used"]
    }


@pytest.mark.parametrize(
    ("open_amount", "lost_amount", "usable", "reason"),
    [
        (100.0, 100.0, True, "amount_ok"),
        (np.nan, 100.0, False, "amount_closed_only"),  # filled at close (Maven's close_value)
        (100.0, 0.0, False, "amount_zero_on_loss"),
    ],
)
def test_amount_is_used_only_when_known_before_the_close(open_amount, lost_amount, usable, reason):
    n = 30
    opps = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": [str(i) for i in range(3 * n)],
                "status": ["open"] * n + ["won"] * n + ["lost"] * n,
                "amount": [open_amount] * n + [100.0] * n + [lost_amount] * n,
                "created_at": day(0),
                "closed_at": [None] * n + [day(10)] * (2 * n),
            }
        )
    )
    assert A.amount_availability(opps, AS_OF) == (usable, reason)


def test_without_history_the_fallback_uses_creation_time_fields_only():
    opps, _ = base_world()
    empty = normalise_stage_events(pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]))
    spec = A.choose_spec(opps, empty, AS_OF)
    assert spec.mode == F.FALLBACK
    assert not {"stage", "days_in_stage", "age_days", "stage_changes"} & set(spec.columns)
    rows = {r["feature"]: r["used"] for r in A.availability_table(spec, "amount_ok", [])}
    assert rows["stage"] is False and rows["last_activity_at"] is False
