"""The demo pipeline: deterministic, big enough, realistic, and carrying real outcome signal."""

import pandas as pd

from dealscope.demo import generate_demo
from dealscope.metrics.stall import compute_stage_intervals
from dealscope.model import DEMO_OPEN_STAGES


def win_rate(frame: pd.DataFrame) -> float:
    closed = frame[frame.status != "open"]
    return (closed.status == "won").mean()


def test_same_seed_same_data(demo_dataset):
    first, events, _ = generate_demo(n=500)
    again, events_again, _ = generate_demo(n=500)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(events, events_again)


def test_size_span_people_and_segments(demo_dataset):
    opps = demo_dataset.opportunities
    assert len(opps) >= 5000
    span = opps.created_at.max() - opps.created_at.min()
    assert span >= pd.Timedelta(days=18 * 30)
    assert opps.owner.nunique() >= 30 and opps.region.nunique() == 4
    assert opps.groupby("owner").region.nunique().max() == 1  # a rep belongs to one region
    for column in ("industry", "source", "customer_type"):
        assert opps[column].nunique() >= 3
    assert (opps.currency == "CNY").all()
    assert opps.amount.median() < opps.amount.mean()  # right-skewed amounts
    assert opps.opportunity_id.is_unique and opps.opportunity_id.str.match(r"^SJ\d{10}$").all()


def test_stages_history_skips_backward_moves_and_open_deals(demo_dataset):
    opps, events, stages = (
        demo_dataset.opportunities,
        demo_dataset.stage_events,
        demo_dataset.stages,
    )
    assert stages.stage.tolist() == [*DEMO_OPEN_STAGES, "赢单", "输单"]
    assert set(opps.status) == {"open", "won", "lost"}
    assert (opps.status == "open").sum() > 300
    intervals = compute_stage_intervals(events, stages, events.entered_at.max())
    jumps = intervals.next_stage.map(stages.set_index("stage").position) - intervals.position
    assert (jumps >= 2).any() and intervals.regressed.any()
    assert opps.loc[opps.status == "lost", "lost_reason"].notna().all()
    assert opps.loc[opps.status != "lost", "lost_reason"].isna().all()
    closed = opps[opps.status != "open"]
    assert (closed.closed_at >= closed.created_at).all()
    assert (opps.last_activity_at <= opps.closed_at.fillna(opps.last_activity_at)).all()


def test_outcomes_carry_signal(demo_dataset):
    opps = demo_dataset.opportunities
    by_source = opps.groupby("source").apply(win_rate, include_groups=False)
    assert by_source["老客户推荐"] > by_source["电话营销"] + 0.2
    by_owner = opps.groupby("owner").apply(win_rate, include_groups=False)
    assert by_owner.max() - by_owner.min() > 0.25  # rep skill differs
    lost = opps[opps.status == "lost"]
    won = opps[opps.status == "won"]
    quiet_lost = (lost.closed_at - lost.last_activity_at).dt.days.median()
    quiet_won = (won.closed_at - won.last_activity_at).dt.days.median()
    assert quiet_lost > quiet_won  # lost deals go silent before they are closed
