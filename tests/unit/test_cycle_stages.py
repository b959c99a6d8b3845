"""Time in stage, stall penalty, weekly alert rate and the CLI block, on hand-made fixtures."""

import pandas as pd
import pytest

from dealscope.demo import generate_demo
from dealscope.metrics import stall
from dealscope.metrics.cycle_stages import (
    alert_rate_by_week,
    count_reopened,
    history_limits,
    stall_penalty,
    time_in_stage,
    time_in_stage_trend,
    week_ends,
)
from dealscope.metrics.cycle_summary import compute_cycle_document
from dealscope.metrics.kpis import infer_as_of
from dealscope.metrics.stage_times import time_in_stage_summary
from dealscope.metrics.stall import compute_stage_intervals, compute_stall_lines, flag_open_deals
from dealscope.metrics.stats import wilson_interval
from dealscope.model import (
    Dataset,
    demo_stage_table,
    normalise_opportunities,
    normalise_stage_events,
)

T0 = pd.Timestamp("2024-01-01")
AS_OF = T0 + pd.Timedelta(days=100)
STAGES = demo_stage_table()


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def events(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])


def lead_fixture() -> pd.DataFrame:
    """d0..d3 leave 线索 after 2, 4, 6, 8 days; 'now' entered 线索 3 days before as-of."""
    rows = []
    for i, days in enumerate([2, 4, 6, 8]):
        rows += [(f"d{i}", "线索", day(0)), (f"d{i}", "需求确认", day(days))]
    return events([*rows, ("now", "线索", day(97))])


def test_time_in_stage_quantiles_of_completed_visits_and_km_median():
    intervals = compute_stage_intervals(lead_fixture(), STAGES, AS_OF)
    table = time_in_stage(intervals, STAGES).set_index("stage")
    lead = table.loc["线索"]
    assert (lead["n_completed"], lead["n_current"]) == (4, 1)
    assert [lead["median"], lead["p75"], lead["p90"]] == pytest.approx([5.0, 6.5, 7.4])
    # KM over 2, 3+, 4, 6, 8: S = .8, .8, .533, .267 → first ≤ 0.5 at 6
    assert lead["km_median"] == 6.0
    assert table.loc["需求确认", "n_current"] == 4 and table.loc["需求确认", "n_completed"] == 0
    assert list(table.index) == ["线索", "需求确认"]


def test_time_in_stage_by_segment():
    intervals = compute_stage_intervals(lead_fixture(), STAGES, AS_OF)
    region = {"d0": "A", "d1": "A", "d2": "B", "d3": "B", "now": "B"}
    table = time_in_stage(intervals, STAGES, intervals["opportunity_id"].map(region))
    lead = table.loc[table["stage"] == "线索"].set_index("group")
    assert lead.loc["A", "median"] == 3.0 and lead.loc["B", "median"] == 7.0
    assert lead.loc["A", "n_current"] == 0 and lead.loc["B", "n_current"] == 1


def test_numpy_summary_equals_the_interval_path():
    opps, evs, stages = generate_demo(n=1500, seed=9)
    evs = normalise_stage_events(evs)
    as_of = infer_as_of(normalise_opportunities(opps), evs) - pd.Timedelta(days=30)
    pandas_path = time_in_stage(compute_stage_intervals(evs, stages, as_of), stages)
    fast = time_in_stage_summary(evs, stages, as_of)
    pd.testing.assert_frame_equal(fast, pandas_path, check_dtype=False)
    # Unsorted input, a missing entry date and an unknown stage give the same figures.
    shuffled = pd.concat(
        [
            evs.sample(frac=1.0, random_state=1),
            events([("x", "线索", pd.NaT), ("y", "未知阶段", as_of - pd.Timedelta(days=1))]),
        ]
    )
    pd.testing.assert_frame_equal(
        time_in_stage_summary(shuffled, stages, as_of), pandas_path, check_dtype=False
    )
    fixture = time_in_stage_summary(lead_fixture(), STAGES, AS_OF).set_index("stage")
    assert fixture.loc["线索", "median"] == 5.0 and fixture.loc["线索", "km_median"] == 6.0
    assert [fixture.loc["线索", "p75"], fixture.loc["线索", "p90"]] == pytest.approx([6.5, 7.4])
    assert fixture.loc["需求确认", "n_current"] == 4 and fixture.loc["需求确认", "n_completed"] == 0
    assert time_in_stage_summary(lead_fixture().iloc[0:0], STAGES, AS_OF).empty


def test_trend_groups_completed_visits_by_exit_month():
    rows = [
        ("a", "线索", pd.Timestamp("2024-01-01")),
        ("a", "需求确认", pd.Timestamp("2024-01-05")),  # 线索 4 d, exits in January
        ("b", "线索", pd.Timestamp("2024-01-20")),
        ("b", "需求确认", pd.Timestamp("2024-02-09")),  # 线索 20 d, exits in February
    ]
    intervals = compute_stage_intervals(events(rows), STAGES, pd.Timestamp("2024-03-01"))
    trend = time_in_stage_trend(intervals).set_index(["month", "stage"])
    assert trend.loc[(pd.Timestamp("2024-01-01"), "线索"), "median"] == 4.0
    assert trend.loc[(pd.Timestamp("2024-02-01"), "线索"), "median"] == 20.0
    assert len(trend) == 2  # the 需求确认 visits are still running: not in any month yet


def test_stall_penalty_compares_closed_deals_past_and_within_the_line(monkeypatch):
    monkeypatch.setattr(stall, "MIN_ADVANCED_FOR_STALL_LINE", 2)
    rows, status = [], {}
    for i, days in enumerate([2, 4, 6, 8]):  # advanced, then won: line = P75 = 6.5
        rows += [(f"w{i}", "线索", day(0)), (f"w{i}", "需求确认", day(days))]
        rows += [(f"w{i}", "赢单", day(30))]
        status[f"w{i}"] = "won"
    rows += [("late", "线索", day(0)), ("late", "输单", day(10))]  # past the line, lost
    rows += [("quick", "线索", day(0)), ("quick", "输单", day(3))]  # within, lost
    rows += [("open", "线索", day(0))]  # open deals never count
    status.update(late="lost", quick="lost", open="open")
    opps = pd.DataFrame(
        {
            "opportunity_id": list(status),
            "status": list(status.values()),
            "closed_at": [day(30)] * 4 + [day(10), day(3), pd.NaT],
        }
    )
    intervals = compute_stage_intervals(events(rows), STAGES, AS_OF)
    lines = compute_stall_lines(intervals, STAGES)
    table = stall_penalty(intervals, lines, opps, AS_OF).set_index("stage")
    lead = table.loc["线索"]
    assert lead["stall_days"] == 6.5
    assert (lead["n_past"], lead["won_past"], lead["n_within"], lead["won_within"]) == (2, 1, 4, 3)
    assert lead["penalty"] == pytest.approx(0.5 - 0.75)
    low, high = wilson_interval(1, 2)
    assert [lead["past_low"], lead["past_high"]] == pytest.approx([float(low), float(high)])
    # 需求确认: visits of 28, 26, 24, 22 days, all won; line 26.5 → one past, three within
    second = table.loc["需求确认"]
    assert (second["n_past"], second["won_past"], second["n_within"]) == (1, 1, 3)
    assert list(table.index) == ["线索", "需求确认"]  # no line elsewhere: nothing to compare


def alert_fixture():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a", "b"],
            "status": ["won", "open"],
            "created_at": [day(0), day(0)],
            "closed_at": [day(20), pd.NaT],
            "last_activity_at": [day(19), day(2)],
        }
    )
    rows = [("a", "线索", day(0)), ("a", "需求确认", day(10)), ("a", "赢单", day(20))]
    rows += [("b", "线索", day(0))]
    lines = pd.DataFrame({"stage": ["线索", "需求确认"], "stall_days": [5.0, float("nan")]})
    return opps, compute_stage_intervals(events(rows), STAGES, day(30)), lines


def test_alert_rate_counts_windows_covering_each_week_end():
    opps, intervals, lines = alert_fixture()
    weeks = pd.DataFrame({"week": range(5), "at": [day(n) for n in (3, 6, 12, 17, 25)]})
    rate = alert_rate_by_week(opps, intervals, lines, weeks, silence_days=14)
    assert rate["open"].tolist() == [2, 2, 2, 2, 1]
    assert rate["stalled"].tolist() == [0, 2, 1, 1, 1]  # a stalls in 线索 from day 5 to 10
    # b is silent from day 16; a's last activity (day 19) hides its earlier silence: lower bound
    assert rate["silent"].tolist() == [0, 0, 0, 1, 1]
    assert rate["flagged"].tolist() == [0, 2, 1, 1, 1]
    assert rate["rate"].tolist() == pytest.approx([0.0, 1.0, 0.5, 0.5, 1.0])


def test_alert_rate_at_the_as_of_date_matches_the_open_deal_flags():
    opps, evs, stages = generate_demo(n=1500, seed=4)
    opps, evs = normalise_opportunities(opps), normalise_stage_events(evs)
    as_of = infer_as_of(opps, evs)
    intervals = compute_stage_intervals(evs, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    flags = flag_open_deals(opps, intervals, lines, as_of, silence_days=10)
    weeks = week_ends(as_of - pd.Timedelta(days=20), as_of + pd.Timedelta(days=1), as_of)
    assert weeks["at"].iloc[-1] == as_of and len(weeks) == 4
    last = alert_rate_by_week(opps, intervals, lines, weeks, silence_days=10).iloc[-1]
    assert last["open"] == len(flags)
    assert last["stalled"] == flags["stalled"].sum() > 0
    assert last["silent"] == flags["silent"].sum() > 0
    assert last["flagged"] == (flags["stalled"] | flags["silent"]).sum()


def test_cycle_document_with_and_without_stage_history():
    opps, evs, stages = generate_demo(n=800, seed=2)
    opps, evs = normalise_opportunities(opps), normalise_stage_events(evs)
    as_of = infer_as_of(opps, evs)
    full = compute_cycle_document(Dataset(1, "x", opps, evs, stages, {}), as_of)
    intervals = compute_stage_intervals(evs, stages, as_of)
    flags = flag_open_deals(opps, intervals, compute_stall_lines(intervals, stages), as_of)
    assert full["stalled"] == flags["stalled"].sum() and full["silent"] == flags["silent"].sum()
    assert list(full["time_in_stage"]) == list(stages.loc[stages["kind"] == "open", "stage"])
    assert full["km_median_ci95"][0] <= full["km_median_days_to_close"] <= full["km_median_ci95"][1]
    bare = Dataset(1, "x", opps, evs.iloc[0:0], stages, {})
    limited = compute_cycle_document(bare, as_of)
    assert limited["stalled"] is None and limited["time_in_stage"] == {}
    assert limited["silent"] == full["silent"]
    assert limited["km_median_days_to_close"] == full["km_median_days_to_close"]
    assert "time_in_stage" in limited["unavailable_without_stage_history"]
    assert history_limits(evs) == []


def test_empty_inputs_give_empty_results_not_exceptions():
    no_events = normalise_stage_events(events([]))
    intervals = compute_stage_intervals(no_events, STAGES, AS_OF)
    lines = compute_stall_lines(intervals, STAGES)
    assert time_in_stage(intervals, STAGES).empty
    assert time_in_stage(intervals, STAGES, intervals["opportunity_id"]).empty
    assert time_in_stage_trend(intervals).empty
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a"],
            "status": ["open"],
            "created_at": [day(1)],
            "closed_at": [pd.NaT],
            "last_activity_at": [day(2)],
        }
    )
    assert stall_penalty(intervals, lines, opps, AS_OF).empty
    weeks = week_ends(day(0), day(30), AS_OF)
    rate = alert_rate_by_week(opps, intervals, lines, weeks)
    assert rate["open"].tolist() == [1, 1, 1, 1, 1] and rate["stalled"].sum() == 0
    assert rate["silent"].tolist() == [0, 0, 1, 1, 1]  # silent from day 16 (last activity day 2)
    nothing = alert_rate_by_week(opps.iloc[0:0], intervals, lines, week_ends(day(0), day(0), AS_OF))
    assert nothing.empty


def test_reopened_deals_are_counted_once():
    rows = [("r", "线索", day(0)), ("r", "输单", day(5)), ("r", "需求确认", day(9))]
    rows += [("r", "赢单", day(20)), ("r", "需求确认", day(25))]  # reopened twice: one deal
    rows += [("w", "线索", day(0)), ("w", "赢单", day(3))]  # closed once, never reopened
    intervals = compute_stage_intervals(events(rows), STAGES, AS_OF)
    assert count_reopened(intervals) == 1
    assert count_reopened(intervals.iloc[0:0]) == 0


def test_last_event_is_current_with_canonical_string_ids():
    # Regression: with pandas' string dtype the last row compared to <NA>, so is_current was <NA>
    # and the newest deal's current stage (and its stalled flag) went missing.
    evs = normalise_stage_events(lead_fixture())
    intervals = compute_stage_intervals(evs, STAGES, AS_OF)
    assert intervals["is_current"].dtype == bool
    last = intervals.iloc[-1]
    assert last["opportunity_id"] == "now" and last["is_current"] and last["days"] == 3.0
