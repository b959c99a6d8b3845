"""The weekly review's figures on a hand-made pipeline, with every expectation computed by hand.

Week under review W = 2024-W02 (Mon 2024-01-08 to Sun 2024-01-14); previous week P = 2024-W01.
As of Wed 2024-01-17 the last complete week is W.
"""

import pandas as pd
import pytest

from dealscope.errors import DealScopeError
from dealscope.metrics import cycle_stages as cycle
from dealscope.metrics import stall
from dealscope.metrics.kpis import infer_as_of
from dealscope.metrics.stall import compute_stage_intervals
from dealscope.model import Dataset, demo_stage_table, normalise_opportunities
from dealscope.report.assemble import build_weekly_report
from dealscope.report.bottleneck import (
    compare_stage_conversion,
    find_bottleneck,
    funnel_stage_conversion_by_week,
)
from dealscope.report.movements import compute_movements
from dealscope.report.week import (
    available_weeks,
    compute_kpi_table,
    compute_week_series,
    intervals_as_of,
    last_complete_week,
    parse_iso_week,
    resolve_week,
    week_label,
)

W = pd.Timestamp("2024-01-08")
P = pd.Timestamp("2024-01-01")
AS_OF = pd.Timestamp("2024-01-17 12:00")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def deal(oid, created, status, amount, *, closed=None, activity=None, reason=None, currency="CNY"):
    stage = {"open": "线索", "won": "赢单", "lost": "输单"}[status]
    return {
        "opportunity_id": oid,
        "name": f"deal {oid}",
        "owner": f"rep-{oid}",
        "amount": amount,
        "currency": currency,
        "stage": stage,
        "status": status,
        "created_at": ts(created),
        "closed_at": ts(closed) if closed else None,
        "last_activity_at": ts(activity) if activity else None,
        "lost_reason": reason,
    }


@pytest.fixture
def pipeline():
    opps = normalise_opportunities(
        pd.DataFrame(
            [
                # a: created in P, advances 线索→需求确认 in W; open.
                deal("a", "2024-01-02 10:00", "open", 100, activity="2024-01-09 10:00"),
                # b: created in P, advances in P, won in W (需求确认→赢单 is an advance in W).
                deal(
                    "b",
                    "2024-01-03 10:00",
                    "won",
                    200,
                    closed="2024-01-10 10:00",
                    activity="2024-01-10 10:00",
                ),
                # c: new in W, lost in W at 线索.
                deal(
                    "c",
                    "2024-01-09 10:00",
                    "lost",
                    50,
                    closed="2024-01-11 10:00",
                    activity="2024-01-11 10:00",
                    reason="预算不足",
                ),
                # d: old deal, moves back 方案提交→需求确认 in W; silent since 2023-12-20.
                deal("d", "2023-12-01 10:00", "open", 300, activity="2023-12-20 00:00"),
                # e: new in W (Monday), in USD (left out of values), sits in 线索: newly stalled.
                deal(
                    "e",
                    "2024-01-08 10:00",
                    "open",
                    400,
                    activity="2024-01-10 10:00",
                    currency="USD",
                ),
                # f: created and lost in P.
                deal(
                    "f",
                    "2024-01-03 11:00",
                    "lost",
                    70,
                    closed="2024-01-05 10:00",
                    activity="2024-01-05 10:00",
                    reason="价格过高",
                ),
                # g: old deal in 线索, last activity 2023-12-28: silent from 2024-01-11 on.
                deal("g", "2023-12-20 10:00", "open", 10, activity="2023-12-28 00:00"),
            ]
        )
    )
    events = pd.DataFrame(
        [
            ("a", "线索", ts("2024-01-02 10:00")),
            ("a", "需求确认", ts("2024-01-09 10:00")),
            ("b", "线索", ts("2024-01-03 10:00")),
            ("b", "需求确认", ts("2024-01-04 10:00")),
            ("b", "赢单", ts("2024-01-10 10:00")),
            ("c", "线索", ts("2024-01-09 10:00")),
            ("c", "输单", ts("2024-01-11 10:00")),
            ("d", "方案提交", ts("2023-12-01 10:00")),
            ("d", "需求确认", ts("2024-01-12 10:00")),
            ("e", "线索", ts("2024-01-08 10:00")),
            ("f", "线索", ts("2024-01-03 11:00")),
            ("f", "输单", ts("2024-01-05 10:00")),
            ("g", "线索", ts("2023-12-20 10:00")),
        ],
        columns=["opportunity_id", "stage", "entered_at"],
    )
    return opps, events, demo_stage_table()


@pytest.mark.parametrize(
    ("text", "monday", "label"),
    [
        ("2024-W02", "2024-01-08", "2024-W02"),
        ("2026-w46", "2026-11-09", "2026-W46"),
        ("2020W53", "2020-12-28", "2020-W53"),
    ],
)
def test_parse_iso_week(text, monday, label):
    assert parse_iso_week(text) == pd.Timestamp(monday)
    assert week_label(parse_iso_week(text)) == label


@pytest.mark.parametrize("text", ["2024-02", "W02-2024", "2023-W53", "2024-W00", ""])
def test_parse_iso_week_rejects_malformed_or_missing_weeks(text):
    with pytest.raises(DealScopeError):
        parse_iso_week(text)


@pytest.mark.parametrize(
    ("as_of", "monday"),
    [
        ("2024-01-17 12:00", "2024-01-08"),  # Wednesday: the week before is the last complete
        ("2024-01-14 23:59", "2024-01-01"),  # Sunday night: W is not over yet
        ("2024-01-15 00:00", "2024-01-08"),  # Monday 00:00: W has just ended
    ],
)
def test_last_complete_week(as_of, monday):
    assert last_complete_week(pd.Timestamp(as_of)) == pd.Timestamp(monday)


def test_resolve_week_defaults_to_last_complete_and_rejects_weeks_outside(pipeline):
    opps, _, _ = pipeline
    assert resolve_week(None, opps, AS_OF) == W
    weeks = available_weeks(opps, AS_OF)
    assert weeks[0] == W and weeks[-1] == pd.Timestamp("2023-11-27")  # d created 2023-12-01
    with pytest.raises(DealScopeError, match="outside the data"):
        resolve_week("2024-W03", opps, AS_OF)  # not complete yet
    with pytest.raises(DealScopeError, match="outside the data"):
        resolve_week("2023-W40", opps, AS_OF)  # before the first deal


def test_week_figures_against_the_previous_week(pipeline, monkeypatch):
    # One advanced deal is enough to draw a stall line in this tiny fixture.
    monkeypatch.setattr(stall, "MIN_ADVANCED_FOR_STALL_LINE", 1)
    opps, events, stages = pipeline
    series = compute_week_series(opps, events, stages, [P, W], "CNY", as_of=AS_OF).set_index("week")
    w, p = series.loc[W], series.loc[P]
    # New: c and e in W (e is USD: counted, not valued); a, b, f in P.
    assert (w.new_count, w.new_value) == (2, 50.0)
    assert (p.new_count, p.new_value) == (3, 370.0)
    assert (w.won_count, w.won_value, w.lost_count, w.lost_value) == (1, 200.0, 1, 50.0)
    assert (p.won_count, p.lost_count, p.lost_value) == (0, 1, 70.0)
    assert w.win_rate == pytest.approx(0.5) and w.win_rate_value == pytest.approx(0.8)
    assert p.win_rate == 0.0
    # Open at W's end: a, d, e, g (e valued 0); at P's end: a, b, d, g.
    assert (w.pipeline_count, w.pipeline_value) == (4, 410.0)
    assert (p.pipeline_count, p.pipeline_value) == (4, 610.0)
    # Moves: a and b advance in W, d moves back; b advanced in P.
    assert (w.advances, w.regressions) == (2, 1)
    assert (p.advances, p.regressions) == (1, 0)
    # Stall line of 线索 at W's end = P75 of [1 day (b), 7 days (a)] = 5.5 days: e (6.6 days)
    # and g are past it, but g already was at P's end (线索 line then = 1 day, from b).
    assert w.newly_stalled == 1
    # Silence (> 14 days): g becomes silent in W (18.0 days at W's end, 11.0 at P's end); d was
    # already silent at P's end (19 days).
    assert w.newly_silent == 1
    # Trigger rate (the Cycle page's: stall lines of the as-of date, 线索 5.5 days, 需求确认 6).
    # At W's end: d (silent), e (stalled), g (both) of 4 open; at P's end: a (5.6 days in 线索),
    # d (silent), g (stalled) of 4 — b's 3.6 days in 需求确认 are under its line.
    assert w.trigger_rate == pytest.approx(3 / 4)
    assert p.trigger_rate == pytest.approx(3 / 4)


def test_kpi_table_compares_with_previous_week_and_trailing_average(pipeline):
    opps, events, stages = pipeline
    weeks = list(pd.date_range(W - pd.Timedelta(weeks=8), W, freq="7D"))
    series = compute_week_series(opps, events, stages, weeks, "CNY")
    table = compute_kpi_table(series, W).set_index("metric")
    assert table.loc["new_count", "this_week"] == 2
    assert table.loc["new_count", "previous_week"] == 3
    # Trailing 8 weeks before W: d (week of 2023-11-27), g (2023-12-18) and a, b, f (P) = 5 / 8.
    assert table.loc["new_count", "trailing_avg"] == pytest.approx(5 / 8)
    assert table.loc["new_count", "trailing_weeks"] == 8
    # Trailing win rate is pooled: 0 won / 1 closed (f) = 0.
    assert table.loc["win_rate", "trailing_avg"] == 0.0
    assert table.loc["lost_value", "trailing_avg"] == pytest.approx(70 / 8)


def test_movement_tables_list_each_move_with_owner_and_amount(pipeline):
    opps, events, stages = pipeline
    intervals = compute_stage_intervals(events, stages, W + pd.Timedelta(days=7))
    moves = compute_movements(opps, intervals, stages, W, "CNY")
    advanced = moves["advanced"]
    assert advanced[["opportunity_id", "from_stage", "to_stage"]].values.tolist() == [
        ["b", "需求确认", "赢单"],  # largest amount first
        ["a", "线索", "需求确认"],
    ]
    assert advanced["owner"].tolist() == ["rep-b", "rep-a"]
    assert moves["regressed"][
        ["opportunity_id", "from_stage", "to_stage", "amount"]
    ].values.tolist() == [["d", "方案提交", "需求确认", 300.0]]
    assert moves["won"][["opportunity_id", "stage_before", "amount"]].values.tolist() == [
        ["b", "需求确认", 200.0]
    ]
    lost = moves["lost"]
    assert lost[["opportunity_id", "lost_at_stage", "lost_reason", "amount"]].values.tolist() == [
        ["c", "线索", "预算不足", 50.0]
    ]
    created = moves["created"]
    assert created["opportunity_id"].tolist() == ["c", "e"]  # e's USD amount is not priced
    assert pd.isna(created.loc[created.opportunity_id == "e", "amount"]).all()


def test_bottleneck_is_the_largest_drop_with_its_wilson_interval():
    # Stage 线索: 8 of 10 advanced in each trailing week (rate 0.8), 2 of 6 this week.
    # Stage 需求确认: steady at 0.5 both ways. Weeks: 8 trailing + the reviewed one.
    weeks = list(pd.date_range(W - pd.Timedelta(weeks=8), W, freq="7D"))
    rows = []
    for week in weeks:
        lead = (2, 6) if week == W else (8, 10)
        for stage, (adv, n) in (("线索", lead), ("需求确认", (3, 6))):
            rows.append(
                {
                    "week": week,
                    "stage": stage,
                    "position": 0 if stage == "线索" else 1,
                    "advanced": adv,
                    "resolved": n,
                }
            )
    table = compare_stage_conversion(pd.DataFrame(rows), W).set_index("stage")
    assert table.loc["线索", "trailing_rate"] == pytest.approx(64 / 80)
    assert table.loc["线索", "rate"] == pytest.approx(2 / 6)
    # Wilson 95% for 2/6, computed by hand: centre (p + z²/2n)/(1 + z²/n), z = 1.96.
    assert table.loc["线索", "ci_low"] == pytest.approx(0.0968, abs=1e-3)
    assert table.loc["线索", "ci_high"] == pytest.approx(0.7004, abs=1e-3)
    found = find_bottleneck(table.reset_index())
    assert found["stage"] == "线索" and found["outside_interval"]
    assert found["change"] == pytest.approx(2 / 6 - 0.8)


def test_bottleneck_needs_enough_resolved_deals_and_a_drop():
    rows = [{"week": W, "stage": "线索", "position": 0, "advanced": 1, "resolved": 4}]
    rows += [{"week": P, "stage": "线索", "position": 0, "advanced": 30, "resolved": 30}]
    assert find_bottleneck(compare_stage_conversion(pd.DataFrame(rows), W)) is None  # 4 < 5


def test_report_without_stage_history_says_so_instead_of_failing(pipeline):
    opps, _, stages = pipeline
    empty = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]).astype(
        {"entered_at": "datetime64[ns]"}
    )
    dataset = Dataset(1, "no-history", opps, empty, stages, {})
    document = build_weekly_report(dataset)
    # Without events the as-of date is the last activity (Thu 2024-01-11), so P is the default.
    assert document.meta.week == "2024-W01"
    kpis = document.kpis.set_index("metric")["this_week"]
    assert kpis["new_count"] == 3 and pd.isna(kpis["advances"]) and pd.isna(kpis["newly_stalled"])
    assert document.bottleneck.status == "no_history"
    assert document.meta.has_history is False


@pytest.mark.parametrize(
    "moment",
    ["2023-12-01 10:00", "2024-01-04 10:00", "2024-01-08", "2024-01-10 10:00", "2024-01-15"],
)
def test_intervals_as_of_equals_recomputing_at_that_moment(pipeline, moment):
    _, events, stages = pipeline
    moment = pd.Timestamp(moment)
    derived = intervals_as_of(compute_stage_intervals(events, stages, AS_OF), moment)
    direct = compute_stage_intervals(events, stages, moment)
    pd.testing.assert_frame_equal(
        derived.reset_index(drop=True), direct.reset_index(drop=True), check_dtype=False
    )


def test_funnel_based_weekly_conversion_matches_the_hand_counts(pipeline):
    opps, events, stages = pipeline
    conv = funnel_stage_conversion_by_week(opps, events, stages, [P, W]).set_index(
        ["week", "stage"]
    )
    # W: 线索 → a advanced, c lost; 需求确认 → b won. The Funnel's pass-through rule also
    # counts b's jump from 需求确认 to won as passing (advancing from) every later open stage.
    assert tuple(conv.loc[(W, "线索"), ["advanced", "resolved"]]) == (1, 2)
    for stage in ("需求确认", "方案提交", "技术交流", "价格谈判"):
        assert tuple(conv.loc[(W, stage), ["advanced", "resolved"]]) == (1, 1), stage
    assert tuple(conv.loc[(P, "线索"), ["advanced", "resolved"]]) == (1, 2)


def test_trigger_rate_is_the_cycle_pages_figure_when_installed(pipeline):
    opps, events, stages = pipeline
    document = build_weekly_report(Dataset(1, "p", opps, events, stages, {}))
    # The data's own as-of date is its latest timestamp (d's move, Fri 2024-01-12): week P.
    as_of = infer_as_of(opps, events)
    assert document.meta.week == "2024-W01"
    series = document.series.set_index("week")
    # What the Cycle-time page computes for the same weeks (its stall lines are the as-of date's).
    intervals = compute_stage_intervals(events, stages, as_of)
    lines = stall.compute_stall_lines(intervals, stages)
    frame = cycle.week_ends(P - pd.Timedelta(weeks=8), W, as_of)
    expected = cycle.alert_rate_by_week(opps, intervals, lines, frame).set_index("week")
    assert series.loc[P, "trigger_rate"] == pytest.approx(expected.loc[P, "rate"])
    assert series.loc[P, "open_at_end"] == expected.loc[P, "open"] == 4


def test_without_history_or_activity_dates_signals_are_unknown_not_zero(pipeline):
    opps, _, stages = pipeline
    opps = opps.assign(last_activity_at=pd.NaT)
    empty = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]).astype(
        {"entered_at": "datetime64[ns]"}
    )
    document = build_weekly_report(Dataset(1, "bare", opps, empty, stages, {}))
    kpis = document.kpis.set_index("metric")["this_week"]
    assert pd.isna(kpis["trigger_rate"]) and pd.isna(kpis["newly_silent"])
    assert kpis["won_count"] == 0 and kpis["lost_count"] == 1  # P: f lost
    from dealscope.report.present import at_risk_text

    assert "neither stage history nor activity dates" in at_risk_text(document, "en")[0]


def test_an_export_without_close_dates_leaves_the_weeks_won_and_lost_unknown(pipeline):
    """Issue 12: closed deals with no close date cannot be placed in a week: unknown, never 0."""
    opps, events, stages = pipeline
    undated_closes = opps.assign(closed_at=pd.NaT)
    document = build_weekly_report(
        Dataset(1, "no-closes", undated_closes, events, stages, {}), "2024-W01"
    )
    assert document.meta.closes_dated is False
    kpis = document.kpis.set_index("metric")
    for metric in ("won_count", "won_value", "lost_count", "lost_value", "win_rate"):
        assert kpis.loc[metric, ["this_week", "previous_week", "trailing_avg"]].isna().all()
    assert kpis.loc["new_count", "this_week"] == 3  # a, b, f created in P: still known
    dated = build_weekly_report(Dataset(1, "dated", opps, events, stages, {}), "2024-W01")
    assert dated.meta.closes_dated is True
    assert (
        dated.kpis.set_index("metric").loc[["won_count", "lost_count"], "this_week"].notna().all()
    )
