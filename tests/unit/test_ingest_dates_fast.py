"""The whole-column ISO fast path of parse_dates gives what the per-value path gives."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealscope.ingest import parse_dates as dates
from dealscope.ingest.rawtable import TEXT


def _both(cells: list[str]) -> tuple[dates.DateResult, dates.DateResult, bool]:
    values = pd.Series(cells, dtype=TEXT, index=range(10, 10 + len(cells)))
    took_fast_path = dates._clean_iso_column(values) is not None
    fast = dates.parse_dates(values)
    slow_parse = dates._clean_iso_column
    try:
        dates._clean_iso_column = lambda _values: None
        slow = dates.parse_dates(values)
    finally:
        dates._clean_iso_column = slow_parse
    return fast, slow, took_fast_path


@pytest.mark.parametrize(
    ("cells", "fast_path"),
    [
        (["2024-03-05", "", "2024-03-05 14:30", "2024-03-05T14:30:01.25"], True),
        (["2025-12-31 23:59:59", "2024-02-29"], True),
        (["2024-03-05", "1900-01-01"], False),  # placeholder year: flagged by the per-value path
        (["2024-03-05", "2024-02-30"], False),  # impossible date: a bad-date cell
        (["2024-03-05", " 2024-03-06"], False),  # untrimmed
        (["2024-03-05", "2024/03/06"], False),
        (["2024-03-05", "NA"], False),
    ],
)
def test_fast_path_agrees_with_the_per_value_path(cells, fast_path):
    fast, slow, took_fast_path = _both(cells)
    assert took_fast_path is fast_path
    pd.testing.assert_series_equal(fast.values, slow.values)
    assert fast.issues.fillna("").tolist() == slow.issues.fillna("").tolist()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(""),
            st.datetimes(
                min_value=pd.Timestamp("1901-01-01").to_pydatetime(),
                max_value=pd.Timestamp("2099-12-31").to_pydatetime(),
            ).map(lambda ts: ts.isoformat(sep=" ")),
            st.dates().map(str),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_iso_columns_parse_the_same_on_both_paths(cells):
    fast, slow, _ = _both(cells)
    pd.testing.assert_series_equal(fast.values, slow.values)
    assert fast.issues.fillna("").tolist() == slow.issues.fillna("").tolist()
