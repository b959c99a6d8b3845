"""The one number format (issue 13): every formatter in both languages, with negatives, zero,
missing values, huge values and currencies. Expected strings are written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dealscope.formatting import (
    MISSING,
    currency_symbol,
    format_amount,
    format_count,
    format_days,
    format_decimal,
    format_delta,
    format_pct,
    format_points,
    format_value,
)

MISSING_VALUES = [None, float("nan"), np.nan, pd.NA, np.float64("nan")]


@pytest.mark.parametrize(
    ("value", "currency", "lang", "expected"),
    [
        (3391700, "CNY", "zh-CN", "¥339.2万"),
        (3391700, "CNY", "en", "¥3.39M"),
        (12115000, "CNY", "zh-CN", "¥1,212万"),  # from 1,000万: whole 万
        (143_000_000, "CNY", "zh-CN", "¥1.43亿"),
        (99_999_999, "CNY", "zh-CN", "¥1.00亿"),  # rounding carries into the next unit
        (999_999, "USD", "en", "$999,999"),
        (999_999_999, "USD", "en", "$1.00B"),
        (2361, "USD", "en", "$2,361"),
        (2361, "USD", "zh-CN", "$2,361"),
        (9999, "CNY", "zh-CN", "¥9,999"),
        (10000, "CNY", "zh-CN", "¥1.0万"),
        (2.5e12, "EUR", "en", "€2.50T"),
        (2.5e12, "CNY", "zh-CN", "¥2.50万亿"),
        (7.3e9, "GBP", "en", "£7.30B"),
        (-186520, "CNY", "zh-CN", "-¥18.7万"),
        (-186520, "USD", "en", "-$186,520"),
        (-0.4, "CNY", "zh-CN", "¥0"),
        (0, "CNY", "en", "¥0"),
        (1234, "CHF", "en", "CHF 1,234"),  # no symbol: the code
        (1234, None, "en", "1,234"),
        (1234, "", "zh-CN", "1,234"),
        (float("inf"), "CNY", "en", "∞"),
    ],
)
def test_format_amount(value, currency, lang, expected):
    assert format_amount(value, currency, lang) == expected


def test_format_amount_whole():
    assert format_amount(3391700, "CNY", "zh-CN", compact=False) == "¥3,391,700"
    assert format_amount(-3391700.4, "USD", "en", compact=False) == "-$3,391,700"


@pytest.mark.parametrize("missing", MISSING_VALUES)
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_missing_is_a_dash_everywhere(missing, lang):
    assert format_amount(missing, "CNY", lang) == MISSING == "—"
    assert format_count(missing) == "—"
    assert format_pct(missing) == "—"
    assert format_days(missing, lang) == "—"
    assert format_decimal(missing) == "—"
    assert format_points(missing, lang) == "—"
    for kind in ("amount", "count", "pct", "days", "decimal", "text"):
        assert format_value(missing, kind, "CNY", lang) == "—"
    assert format_delta(missing, "pct", "CNY", lang) is None


def test_format_count():
    assert format_count(6000) == "6,000"
    assert format_count(-1234567) == "-1,234,567"
    assert format_count(0) == "0"
    assert format_count(2.6) == "3"
    assert format_count(np.int64(12_345_678_901)) == "12,345,678,901"


def test_format_pct():
    assert format_pct(0.29761243753470296) == "29.8%"
    assert format_pct(0.641) == "64.1%"
    assert format_pct(0) == "0.0%"
    assert format_pct(-0.027) == "-2.7%"
    assert format_pct(-0.0001) == "0.0%"  # no "-0.0%"
    assert format_pct(123.4567) == "12,345.7%"
    assert format_pct(0.5, digits=0) == "50%"


def test_format_days_has_a_unit_in_each_language():
    assert format_days(175.3963, "en") == "175.4 days"
    assert format_days(175.3963, "zh-CN") == "175.4 天"
    assert format_days(19.4476, "en", short=True) == "19.4 d"
    assert format_days(19.4476, "zh-CN", short=True) == "19.4 天"
    assert format_days(0, "en") == "0.0 days"
    assert format_days(-0.01, "en") == "0.0 days"
    assert format_days(-3.25, "zh-CN") == "-3.2 天"  # banker's rounding of 3.25 in binary
    assert format_days(12345.67, "en") == "12,345.7 days"


def test_format_decimal():
    assert format_decimal(0.641, 3) == "0.641"
    assert format_decimal(33.94) == "33.9"
    assert format_decimal(-0.04) == "0.0"
    assert format_decimal(1234567.891, 2) == "1,234,567.89"


def test_points_are_worded_per_language():
    assert format_points(0.026, "en") == "+2.6 pp"
    assert format_points(0.026, "zh-CN") == "+2.6个百分点"
    assert format_points(-0.14, "en") == "-14.0 pp"
    assert "pp" not in format_points(-0.14, "zh-CN")


@pytest.mark.parametrize(
    ("value", "kind", "lang", "expected"),
    [
        (11, "count", "en", "+11"),
        (-2, "count", "zh-CN", "-2"),
        (12345, "count", "en", "+12,345"),
        (-0.027, "pct", "en", "-2.7 pp"),
        (-0.027, "pct", "zh-CN", "-2.7个百分点"),
        (-3_999_000, "amount", "zh-CN", "-¥399.9万"),
        (1_960_000, "amount", "en", "+¥1.96M"),
        (1.5, "days", "en", "+1.5 days"),
        (-1.5, "days", "zh-CN", "-1.5 天"),
    ],
)
def test_format_delta(value, kind, lang, expected):
    assert format_delta(value, kind, "CNY", lang) == expected


@pytest.mark.parametrize("kind", ["count", "pct", "amount", "days"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_change_gives_no_delta_so_no_arrow(kind, lang):
    # st.metric draws "↑ +0" in green for the string "+0": no change must be None.
    assert format_delta(0, kind, "CNY", lang) is None
    assert format_delta(-0.0, kind, "CNY", lang) is None
    tiny = {"count": 0.4, "pct": 0.0004, "amount": 0.4, "days": 0.04}[kind]
    assert format_delta(tiny, kind, "CNY", lang) is None  # zero as shown
    assert format_delta(-tiny, kind, "CNY", lang) is None


def test_currency_symbols():
    assert currency_symbol("CNY") == "¥"
    assert currency_symbol("usd") == "$"
    assert currency_symbol("HKD") == "HK$"
    assert currency_symbol("SEK") == "SEK "
    assert currency_symbol(None) == ""


def test_format_value_dispatches_by_kind():
    assert format_value(3391700, "amount", "CNY", "en") == "¥3.39M"
    assert format_value(0.641, "pct", None, "zh-CN") == "64.1%"
    assert format_value(175.3963, "days", None, "en") == "175.4 d"
    assert format_value(1669, "count", None, "en") == "1,669"
    assert format_value("华东", "text", None, "en") == "华东"
    assert not math.isnan(len(format_value(1.0, "decimal", None, "en")))


def test_yes_no_and_dates_are_words_of_the_language():
    from dealscope.formatting import format_bool, format_timestamp

    assert (format_bool(True, "en"), format_bool(False, "en")) == ("Yes", "No")
    assert (format_bool(True, "zh-CN"), format_bool(False, "zh-CN")) == ("是", "否")
    assert format_bool(np.bool_(True), "zh-CN") == "是"
    assert format_bool(None, "en") == format_bool(pd.NA, "zh-CN") == "—"
    moment = pd.Timestamp("2026-11-20 17:14:34")
    assert format_timestamp(moment) == "2026-11-20 17:14"
    assert format_timestamp(moment, with_time=False) == "2026-11-20"
    assert format_timestamp(pd.NaT) == format_timestamp(None) == "—"
    assert format_value(moment, "date", None, "en") == "2026-11-20"
    assert format_value(True, "bool", None, "zh-CN") == "是"


def test_points_and_decimal_kinds():
    assert format_value(-0.086, "points", None, "zh-CN") == "-8.6个百分点"
    assert format_value(0, "points", None, "en") == "+0.0 pp"  # a table cell: the value as is
    assert format_value(0.81419, "decimal3", None, "en") == "0.814"
    assert format_value(1.849, "decimal2", None, "zh-CN") == "1.85"


def test_p_values_claim_no_more_precision_than_the_test_has():
    from dealscope.formatting import format_p_value

    assert format_p_value(0.04567) == "0.046"
    assert format_p_value(0.0004) == "< 0.001"
    assert format_p_value(1.0) == "1.000"
    assert format_p_value(float("nan")) == "—" and format_p_value(None) == "—"
