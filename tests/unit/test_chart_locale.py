"""Charts speak the page's language (issue 13): the Vega locale (month and weekday names, AM/PM),
applied without losing a chart's own config; every count axis has an explicit whole-number
format, so an empty or all-zero chart draws no "0.000000" label."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from dealscope.charts.locale import COUNT_AXIS, localise, vega_locale
from dealscope.charts.overview import build_weekly_flow_chart
from dealscope.charts.risk import build_tier_chart
from dealscope.charts.weekly import build_weekly_trend_chart


def test_chinese_locale_names_months_and_weekdays_in_chinese():
    time = vega_locale("zh-CN")["time"]
    assert time["months"][0] == "一月" and time["months"][10] == "十一月"
    assert time["shortMonths"][10] == "11月"
    assert time["days"][0] == "星期日" and time["shortDays"][1] == "周一"
    assert time["periods"] == ["上午", "下午"]
    assert len(time["months"]) == len(time["shortMonths"]) == 12
    assert len(time["days"]) == len(time["shortDays"]) == 7


def test_english_locale_is_d3s_en_us():
    time = vega_locale("en")["time"]
    assert time["months"][10] == "November" and time["shortMonths"][10] == "Nov"
    assert time["days"][1] == "Monday" and time["shortDays"][6] == "Sat"
    assert vega_locale("en")["number"]["thousands"] == ","


def test_localise_adds_the_locale_and_keeps_other_config():
    chart = alt.Chart(pd.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q")
    chart = chart.configure_axis(grid=False)
    spec = localise(chart, "zh-CN").to_dict()
    assert spec["config"]["axis"] == {"grid": False}
    assert spec["config"]["locale"]["time"]["shortMonths"][0] == "1月"
    assert spec["config"]["timeFormat"] == "%Y年%-m月%-d日"
    assert "locale" not in chart.to_dict().get("config", {})  # the original is left alone
    layered = alt.layer(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q"))
    assert localise(layered, "en").to_dict()["config"]["locale"]["time"]["months"][0] == "January"


def _count_axis(spec: dict, channel: str) -> dict:
    encoding = spec.get("encoding") or spec["layer"][0]["encoding"]
    return encoding[channel]["axis"]


@pytest.mark.parametrize(
    ("build", "frame", "labels", "channel"),
    [
        (
            build_weekly_flow_chart,
            pd.DataFrame({"week": pd.to_datetime([]), "series": [], "count": []}),
            {"created": "C", "won": "W", "lost": "L", "week": "w", "count": "n", "series": "s"},
            "y",
        ),
        (
            build_tier_chart,
            pd.DataFrame({"tier": ["high"], "count": [0], "amount": [0.0]}),
            {"high": "H", "medium": "M", "low": "L", "tier": "t", "count": "n"},
            "y",
        ),
    ],
)
def test_empty_charts_keep_whole_number_count_axes(build, frame, labels, channel):
    axis = _count_axis(build(frame, labels).to_dict(), channel)
    assert axis["format"] == COUNT_AXIS["format"] == ",d"
    assert axis["tickMinStep"] == 1


def test_weekly_trend_count_axis_is_whole_numbers():
    series = pd.DataFrame(
        {
            "week": [pd.Timestamp("2026-11-02")],
            "new_count": [0],
            "won_count": [0],
            "lost_count": [0],
        }
    )
    labels = {k: k for k in ("new_count", "won_count", "lost_count", "series", "count", "week")}
    spec = build_weekly_trend_chart(series, labels).to_dict()
    assert ",d" in str(spec)


def test_amount_formats_carry_the_dataset_currency():
    assert vega_locale("zh-CN", "CNY")["number"]["currency"] == ["¥", ""]
    assert vega_locale("en", "USD")["number"]["currency"] == ["$", ""]
    assert vega_locale("en", "SEK")["number"]["currency"] == ["SEK ", ""]
    assert vega_locale("en")["number"]["currency"] == ["", ""]
