"""Period presets, ISO week labels and zero-filled weekly series, against dates worked out by hand
on a calendar (2026-11-09 is the Monday of ISO week 46; 2020 has an ISO week 53)."""

from datetime import date

import pandas as pd
import pytest

from dealscope.charts.overview import build_weekly_flow_chart
from dealscope.charts.weekly import build_weekly_trend_chart
from dealscope.metrics.kpis import compute_overview, weekly_flow
from dealscope.periods import (
    ALL,
    PRESETS,
    DateRange,
    complete_weeks,
    default_preset,
    iso_week_label,
    iso_week_labels,
    iso_week_starts,
    previous_of_range,
    resolve_preset,
    weekly_counts,
)
from dealscope.report.week import week_label

d = date.fromisoformat
D = pd.Timestamp
LONG_AGO = d("2020-01-01")  # data starting long before: nothing is clamped


def period(preset, as_of, first=LONG_AGO, last=None):
    as_of = d(as_of)
    return resolve_preset(preset, as_of, first, last or as_of)


def span(start, end):
    return DateRange(d(start), d(end))


# as_of Thursday 2026-11-12, ISO week 46 (Mon 9 – Sun 15 Nov); Q4 began 1 Oct (43 days to 12 Nov).
MID_QUARTER = [
    ("this_week", "2026-11-09", "2026-11-12", span("2026-11-02", "2026-11-08")),
    ("last_week", "2026-11-02", "2026-11-08", span("2026-10-26", "2026-11-01")),
    ("this_month", "2026-11-01", "2026-11-12", span("2026-10-01", "2026-10-31")),
    ("this_quarter", "2026-10-01", "2026-11-12", span("2026-07-01", "2026-09-30")),
    # 43 days of Q4 (1 Oct – 12 Nov) against the first 43 days of Q3 (1 Jul – 12 Aug).
    ("quarter_to_date", "2026-10-01", "2026-11-12", span("2026-07-01", "2026-08-12")),
    # 90 days ending 12 Nov: 15 Aug – 12 Nov (17 + 30 + 31 + 12 = 90); the 90 before: 17 May – 14 Aug.
    ("last_90d", "2026-08-15", "2026-11-12", span("2026-05-17", "2026-08-14")),
]


@pytest.mark.parametrize(("preset", "start", "end", "previous"), MID_QUARTER)
def test_presets_mid_quarter(preset, start, end, previous):
    got = period(preset, "2026-11-12")
    assert (got.start, got.end, got.previous) == (d(start), d(end), previous)
    assert not got.clamped and not got.previous_partial and got.in_data


# Friday 2026-01-02: its ISO week (2026-W01) began on Monday 2025-12-29, in the previous year.
YEAR_BOUNDARY = [
    ("this_week", "2025-12-29", "2026-01-02", span("2025-12-22", "2025-12-28")),
    ("last_week", "2025-12-22", "2025-12-28", span("2025-12-15", "2025-12-21")),
    ("this_month", "2026-01-01", "2026-01-02", span("2025-12-01", "2025-12-31")),
    ("this_quarter", "2026-01-01", "2026-01-02", span("2025-10-01", "2025-12-31")),
    ("quarter_to_date", "2026-01-01", "2026-01-02", span("2025-10-01", "2025-10-02")),
    ("last_90d", "2025-10-05", "2026-01-02", span("2025-07-07", "2025-10-04")),
]


@pytest.mark.parametrize(("preset", "start", "end", "previous"), YEAR_BOUNDARY)
def test_presets_across_the_year_boundary(preset, start, end, previous):
    got = period(preset, "2026-01-02")
    assert (got.start, got.end, got.previous) == (d(start), d(end), previous)


def test_last_week_in_a_year_with_iso_week_53():
    # Wednesday 2021-01-06 is in 2021-W01; the week before is 2020-W53 (Mon 28 Dec – Sun 3 Jan),
    # and the one before that 2020-W52.
    got = period("last_week", "2021-01-06")
    assert (got.start, got.end) == (d("2020-12-28"), d("2021-01-03"))
    assert got.previous == span("2020-12-21", "2020-12-27")
    assert iso_week_label(got.start) == "2020-W53"
    assert iso_week_label(got.previous.start) == "2020-W52"
    assert iso_week_label(period("this_week", "2021-01-06").start) == "2021-W01"


@pytest.mark.parametrize(
    ("as_of", "previous"),
    [
        ("2026-10-01", span("2026-07-01", "2026-07-01")),  # first day of Q4: day 1 of Q3
        ("2026-03-31", span("2025-10-01", "2025-12-29")),  # 90 days of Q1 (2026 is no leap year)
        ("2026-05-31", span("2026-01-01", "2026-03-02")),  # 61 days of Q2
        ("2026-09-30", span("2026-04-01", "2026-06-30")),  # 92 days of Q3: Q2 has only 91
        ("2026-12-31", span("2026-07-01", "2026-09-30")),  # 92 days of Q4 = all 92 of Q3
    ],
)
def test_quarter_to_date_compares_as_many_days_of_the_previous_quarter(as_of, previous):
    got = period("quarter_to_date", as_of)
    assert got.previous == previous
    # this quarter: the same days, compared with the whole previous quarter instead
    assert period("this_quarter", as_of).start == got.start
    assert period("this_quarter", as_of).previous.start == previous.start


def test_this_quarter_on_its_first_day_is_one_day_against_the_whole_previous_quarter():
    got = period("this_quarter", "2026-10-01")
    assert (got.start, got.end) == (d("2026-10-01"), d("2026-10-01"))
    assert got.previous == span("2026-07-01", "2026-09-30")


def test_all_is_the_data_range_without_a_previous_period():
    got = resolve_preset(ALL, d("2026-11-12"), d("2025-03-01"), d("2026-11-12"))
    assert (got.start, got.end, got.previous) == (d("2025-03-01"), d("2026-11-12"), None)


def test_a_preset_reaching_before_the_data_is_clamped_and_loses_its_previous_period():
    first = d("2026-09-01")
    got = period("last_90d", "2026-11-12", first=first)
    assert (got.start, got.end, got.clamped) == (first, d("2026-11-12"), True)
    assert got.previous is None  # 17 May – 14 Aug lies wholly before 1 Sep
    quarter = period("this_quarter", "2026-11-12", first=first)
    assert quarter.previous == span("2026-09-01", "2026-09-30") and quarter.previous_partial
    assert not quarter.clamped


def test_last_week_before_the_data_is_flagged_empty():
    got = period("last_week", "2026-11-12", first=d("2026-11-10"))
    assert not got.in_data and got.previous is None
    assert (got.start, got.end) == (d("2026-11-02"), d("2026-11-08"))


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="unknown period preset"):
        period("fortnight", "2026-11-12")
    assert set(PRESETS) == {
        "this_week",
        "last_week",
        "this_month",
        "this_quarter",
        "quarter_to_date",
        "last_90d",
        "all",
    }


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2025-01-01", "last_90d"),  # 17 May – 14 Aug 2026 (last 90 days' previous) is covered
        ("2026-05-17", "last_90d"),  # exactly covered
        ("2026-05-18", "last_week"),  # 90 days' previous cut; 26 Oct – 1 Nov covered
        ("2026-10-26", "last_week"),
        ("2026-10-27", "all"),  # too short for any whole previous period
        ("2026-11-12", "all"),
    ],
)
def test_default_preset_is_the_first_with_a_whole_previous_period(first, expected):
    assert default_preset(d("2026-11-12"), d(first), d("2026-11-12")) == expected


def test_previous_of_a_custom_range_is_as_many_days_before():
    assert previous_of_range(d("2026-01-01"), d("2026-03-31"), LONG_AGO) == span(
        "2025-10-03", "2025-12-31"
    )  # 90 days: 3 Oct – 31 Dec
    assert previous_of_range(d("2026-01-01"), d("2026-01-10"), d("2025-12-25")) == span(
        "2025-12-25", "2025-12-31"
    )
    assert previous_of_range(d("2026-01-01"), d("2026-01-10"), d("2026-01-01")) is None


# --- ISO weeks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "label"),
    [
        ("2026-11-09", "2026-W46"),  # Monday
        ("2026-11-15 23:59", "2026-W46"),  # Sunday night: still W46
        ("2026-11-16", "2026-W47"),
        ("2021-01-03", "2020-W53"),  # Sunday of 2020's 53rd week
        ("2021-01-04", "2021-W01"),
        ("2025-12-29", "2026-W01"),  # a Monday of December opens 2026's first week
        ("2024-01-01", "2024-W01"),
    ],
)
def test_iso_week_labels(moment, label):
    assert iso_week_label(D(moment)) == label
    assert week_label(D(moment)) == label  # the report's label is the same helper
    series = pd.Series([D(moment), pd.NaT])
    labels = iso_week_labels(series)
    assert labels.iloc[0] == label and pd.isna(labels.iloc[1])


def test_iso_week_starts_are_mondays():
    moments = pd.Series([D("2021-01-03 18:00"), D("2026-11-09"), D("2026-11-12 08:30"), pd.NaT])
    starts = iso_week_starts(moments)
    assert starts.iloc[:3].tolist() == [D("2020-12-28"), D("2026-11-09"), D("2026-11-09")]
    assert pd.isna(starts.iloc[3])


def test_complete_weeks_cover_every_week_touching_the_range():
    # Wed 30 Dec 2020 to Wed 13 Jan 2021 (exclusive): W53, W01, W02.
    weeks = complete_weeks(D("2020-12-30"), D("2021-01-13"))
    assert weeks.tolist() == [D("2020-12-28"), D("2021-01-04"), D("2021-01-11")]
    # an end exactly on a Monday does not open that week
    assert complete_weeks(D("2021-01-04"), D("2021-01-11")).tolist() == [D("2021-01-04")]
    assert complete_weeks(D("2021-01-04"), D("2021-01-04")).empty


def test_weekly_counts_fill_missing_weeks_with_zero():
    moments = pd.Series(
        [D("2026-11-02 09:00"), D("2026-11-08 23:00"), D("2026-11-24"), D("2026-12-30"), pd.NaT]
    )
    counts = weekly_counts(moments, D("2026-11-02"), D("2026-11-30"))
    # W45 two, W46 and W47 none, W48 one; 30 Dec is after the range, NaT never counts.
    assert counts.index.tolist() == [
        D("2026-11-02"),
        D("2026-11-09"),
        D("2026-11-16"),
        D("2026-11-23"),
    ]
    assert counts.tolist() == [2, 0, 0, 1]


def test_weekly_flow_has_a_zero_row_for_every_week_and_series():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "status": ["won", "lost", "open"],
            "created_at": [D("2026-11-02"), D("2026-11-03"), D("2026-11-25")],
            "closed_at": [D("2026-11-04"), D("2026-11-26"), pd.NaT],
        }
    )
    flow = weekly_flow(opps, D("2026-11-02"), D("2026-11-30"))
    assert len(flow) == 4 * 3  # four weeks × created, won, lost
    wide = flow.pivot(index="week_label", columns="series", values="count")
    assert wide.index.tolist() == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert wide["created"].tolist() == [2, 0, 0, 1]
    assert wide["won"].tolist() == [1, 0, 0, 0]
    assert wide["lost"].tolist() == [0, 0, 0, 1]


def test_overview_chart_draws_the_zero_weeks():
    flow = pd.DataFrame(
        {
            "week": [D("2026-11-02"), D("2026-11-09")] * 3,
            "week_label": ["2026-W45", "2026-W46"] * 3,
            "series": ["created"] * 2 + ["won"] * 2 + ["lost"] * 2,
            "count": [2, 0, 1, 0, 0, 0],
        }
    )
    labels = {"created": "C", "won": "W", "lost": "L", "week": "Week", "count": "N", "series": "S"}
    spec = build_weekly_flow_chart(flow, labels).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert len(values) == 6 and sum(v["count"] == 0 for v in values) == 4


def test_weekly_trend_chart_labels_iso_weeks_from_the_data_not_vega():
    series = pd.DataFrame(
        {
            "week": [D("2020-12-28"), D("2026-11-09")],
            "new_count": [1, 2],
            "won_count": [0, 1],
            "lost_count": [1, 0],
        }
    )
    labels = {
        "new_count": "New",
        "won_count": "Won",
        "lost_count": "Lost",
        "week": "Week",
        "count": "N",
        "series": "S",
    }
    spec = build_weekly_trend_chart(series, labels).to_dict()
    assert "timeUnit" not in spec["encoding"]["x"]
    field = spec["encoding"]["x"]["field"]
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert sorted({v[field] for v in values}) == ["2020-W53", "2026-W46"]


def test_overview_previous_period_can_be_a_whole_quarter():
    # Q4 so far (1 Oct – 12 Nov) against the whole of Q3: a deal won on 20 Sep counts in the
    # previous period although it lies outside the 43 days of equal length before 1 Oct.
    opps = pd.DataFrame(
        {
            "opportunity_id": ["q3", "q4"],
            "status": ["won", "won"],
            "created_at": [D("2026-07-05"), D("2026-10-02")],
            "closed_at": [D("2026-07-20"), D("2026-10-20")],
            "amount": [10.0, 20.0],
            "currency": pd.array(["CNY", "CNY"], "string"),
        }
    )
    start, end = D("2026-10-01"), D("2026-11-13")
    quarter = compute_overview(opps, start, end, (D("2026-07-01"), D("2026-10-01")))
    assert (quarter.current.won_count, quarter.previous.won_count) == (1, 1)
    equal_length = compute_overview(opps, start, end)  # 19 Aug – 30 Sep: no win
    assert equal_length.previous.won_count == 0


def test_weekly_flow_says_how_many_days_of_each_week_the_period_covers():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a", "b"],
            "status": ["open", "open"],
            "created_at": [D("2026-11-03"), D("2026-11-05")],  # Tue (before the period), Thu
            "closed_at": [pd.NaT, pd.NaT],
        }
    )
    # Wed 4 Nov to Thu 12 Nov (end exclusive Fri 13): 5 days of W45 (Wed–Sun), 4 of W46 (Mon–Thu).
    flow = weekly_flow(opps, D("2026-11-04"), D("2026-11-13"))
    created = flow.loc[flow["series"] == "created"].set_index("week_label")
    assert created["days"].to_dict() == {"2026-W45": 5, "2026-W46": 4}
    assert created["count"].to_dict() == {"2026-W45": 1, "2026-W46": 0}
    labels = {"created": "C", "won": "W", "lost": "L", "week": "Week", "count": "N", "series": "S"}
    spec = build_weekly_flow_chart(flow, labels).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert all(v["partial"] for v in values)  # both weeks only partly in the period
    assert spec["layer"][0]["encoding"]["x"]["field"] == "week_label"


def test_weekly_touches_have_a_zero_week_where_an_owner_was_quiet():
    from dealscope.activity.reps import weekly_touches
    from dealscope.charts.activity import build_weekly_touches_chart

    touches = pd.DataFrame(
        {
            "owner": ["ann", "ann", "ann", "bob"],
            "activity_type": ["call", "call", "email", "call"],
            # Sun 8 Nov (W45), Thu 19 Nov (W47), Mon 16 Nov (W47), Tue 3 Nov (W45)
            "occurred_at": [
                D("2026-11-08 18:00"),
                D("2026-11-19"),
                D("2026-11-16"),
                D("2026-11-03"),
            ],
        }
    )
    weekly = weekly_touches(touches, D("2026-11-02"), D("2026-11-20 17:00"))
    ann_calls = weekly.query("owner == 'ann' and activity_type == 'call'")
    assert ann_calls["week_label"].tolist() == ["2026-W45", "2026-W46", "2026-W47"]
    assert ann_calls["touches"].tolist() == [1, 0, 1]
    ann_mail = weekly.query("owner == 'ann' and activity_type == 'email'")["touches"].tolist()
    assert ann_mail == [0, 0, 1]
    assert weekly.query("owner == 'bob'")["touches"].tolist() == [1, 0, 0]
    assert len(weekly) == 3 * 3  # (ann, call), (ann, email), (bob, call) × three weeks
    chart = build_weekly_touches_chart(
        ann_calls.rename(columns={"activity_type": "type"}),
        {"week": "Week", "touches": "N", "type": "T"},
    ).to_dict()
    assert chart["encoding"]["x"]["field"] == "week_label"


def test_alert_rate_chart_is_labelled_by_iso_week():
    from dealscope.charts.cycle import build_alert_rate_chart

    rate = pd.DataFrame(
        {
            "week": [D("2020-12-28"), D("2021-01-04")],
            "open": [10, 12],
            "stalled": [1, 2],
            "silent": [0, 1],
            "flagged": [1, 3],
            "rate": [0.1, 0.25],
        }
    )
    keys = ("week", "rate", "open", "stalled", "silent", "flagged")
    spec = build_alert_rate_chart(rate, {k: k for k in keys}).to_dict()
    assert spec["encoding"]["x"]["field"] == "week_label"
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert [v["week_label"] for v in values] == ["2020-W53", "2021-W01"]
