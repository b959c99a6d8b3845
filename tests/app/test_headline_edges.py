"""The opening sentences on the exports that cannot support every fact: no dates, closed deals
only, no close dates. Each says what it cannot tell instead of a misleading number (expected
values counted by hand from the rows in tests/app/undated_fixtures.py)."""

from __future__ import annotations

from tests.app.test_headlines import headline
from tests.app.undated_fixtures import CLOSED_ONLY_ROWS, write_rows


def test_undated_overview_counts_every_deal(open_app, undated_url):
    at = open_app(undated_url, "pages/overview.py", query={"lang": "en"})
    text = headline(at)
    # 3 won, 2 lost, 1 open (U6, amount 50).
    assert text.startswith("**Win rate 60.0% (closed deals: 5, all time).**")
    assert text.endswith("open deals: 1.")


def test_undated_funnel_without_history_says_so(open_app, undated_url):
    at = open_app(undated_url, "pages/funnel.py", query={"lang": "en"})
    assert headline(at) == (
        "**Without stage history the biggest drop cannot be measured; "
        "the table shows where deals sit now.**"
    )


def test_reps_with_too_few_closed_deals_names_no_leader(open_app, undated_url):
    at = open_app(undated_url, "pages/reps.py", query={"lang": "en"})
    # Ann 2 won of 3 closed, Bob 1 of 2: nobody near the 20 closed deals a ranking needs.
    assert headline(at) == (
        "**No owner has 20 closed deals in this period yet: too few to name a leader.**"
    )


def test_closed_only_overview_and_cycle_say_nothing_is_open(open_app, closed_url):
    at = open_app(closed_url, "pages/overview.py", query={"lang": "zh-CN"})
    assert headline(at) == "**赢单率 75.0%（全部时间已结束 4 个）。** 没有在途商机。"
    at = open_app(closed_url, "pages/cycle_time.py", query={"lang": "en"})
    assert headline(at).endswith("No deal of the period is open now.")


def test_weekly_without_close_dates_says_won_and_lost_are_unknown(open_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'no_closes.db'}"
    write_rows(url, "no_closes", [row[:5] for row in CLOSED_ONLY_ROWS])
    at = open_app(url, "pages/weekly.py", query={"lang": "en"})
    # The default week, Jan 29 - Feb 4 2024 (2024-W05): no deal created in it, none the week before.
    # Every deal is closed (won or lost, dates unknown): nothing open at either week's end.
    assert headline(at) == (
        "**Week 2024-W05: new deals 0 (last week 0); won and lost are unknown because the "
        "export has no close dates.** Open pipeline 0 at the week's end, unchanged on last week."
    )
