"""Every page renders on an undated dataset and on a closed-only one, with the real figures.

Expected values are counted by hand from the rows in tests/app/undated_fixtures.py.
"""

from __future__ import annotations

import pytest

from tests.app.undated_fixtures import CLOSED_ONLY_ROWS, write_rows
from ui.nav import PAGES


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def texts(at) -> str:
    return "\n".join(e.value for kind in ("info", "caption", "warning") for e in at.main.get(kind))


@pytest.mark.parametrize("script", [p.script for p in PAGES])
def test_every_page_renders_on_undated_and_closed_only_data(
    open_app, undated_url, closed_url, script
):
    for url in (undated_url, closed_url):
        at = open_app(url, script, query={"lang": "en"})
        assert not at.exception, (url, [e.value for e in at.exception])
        if script != "pages/data.py":
            assert "As of " in texts(at)  # the analysis date is on every page


def overview_counts(shown: dict[str, str]) -> tuple[int, int, int]:
    return int(shown["Total opportunities"]), int(shown["Won"]), int(shown["Open pipeline"])


def test_overview_on_undated_data_counts_everything_and_says_what_needs_dates(
    open_app, undated_url
):
    at = open_app(undated_url, "pages/overview.py", query={"lang": "en"})
    shown = metrics(at)
    # 6 deals: U1-U3 won (10 + 20 + 30), U4-U5 lost (40 + 0), U6 open (50).
    assert overview_counts(shown) == (6, 3, 1)
    assert shown["Won value"] == "60" and shown["Open pipeline value"] == "50"
    assert shown["Win rate (count)"] == "60.0%" and shown["Win rate (value)"] == "60.0%"
    assert shown["New opportunities"] == "—" and shown["Median days to win"] == "—"  # not 0
    assert "has no creation dates" in texts(at)
    assert "weekly created / won / lost chart needs creation and close dates" in texts(at)


def test_overview_on_closed_only_data_keeps_every_deal(open_app, closed_url):
    at = open_app(closed_url, "pages/overview.py", query={"lang": "en"})
    shown = metrics(at)
    # C1-C3 won (100 + 200 + 300), C4 lost (400); C3 closed before it was created, still won.
    assert overview_counts(shown) == (4, 3, 0)
    assert shown["Win rate (count)"] == "75.0%" and shown["Win rate (value)"] == "60.0%"
    # As of the latest creation (2024-02-10): C2 and C4 close after it, kept and flagged.
    assert "As of 2024-02-10 00:00" in texts(at)
    assert "2 closed deals have a close date after the analysis date" in texts(at)
    assert shown["Median days to win"] == "30.0 days"  # C1 only: C2 unknown, C3 negative


def leaderboard(at) -> dict[str, str]:
    board = next(d.value for d in at.main.dataframe if "Won / closed" in d.value.columns)
    return dict(zip(board["Owner"], board["Won / closed"], strict=True))


def test_reps_on_undated_and_closed_only_data(open_app, undated_url, closed_url):
    at = open_app(undated_url, "pages/reps.py", query={"lang": "en"})
    assert leaderboard(at) == {"Ann": "2 / 3", "Bob": "1 / 2"}  # Ann U1 U2 won, U5 lost
    at = open_app(closed_url, "pages/reps.py", query={"lang": "en"})
    assert leaderboard(at) == {"Ann": "2 / 2", "Bob": "1 / 2"}


def test_snapshot_funnel_needs_no_dates(open_app, undated_url, closed_url):
    for url, expected in (
        (undated_url, {"Prospecting": 1, "Closed Won": 3, "Closed Lost": 2}),
        (closed_url, {"Closed Won": 3, "Closed Lost": 1}),
    ):
        at = open_app(url, "pages/funnel.py", query={"lang": "en"})
        table = next(d.value for d in at.main.dataframe if "Deals now here" in d.value.columns)
        assert dict(zip(table["Stage"], table["Deals now here"], strict=True)) == expected


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("pages/cycle_time.py", "nothing on this page can be computed"),
        ("pages/weekly.py", "there are no weeks to review"),
    ],
)
def test_date_pages_say_plainly_what_needs_dates(open_app, undated_url, script, message):
    at = open_app(undated_url, script, query={"lang": "en"})
    assert message in texts(at) and not at.main.metric  # no figure shown as 0


def test_weekly_on_closed_only_data(open_app, closed_url):
    at = open_app(closed_url, "pages/weekly.py", query={"lang": "en"})
    shown = metrics(at)
    # Last complete week before 2024-02-10: Jan 29 - Feb 4; C1 won on Feb 1.
    assert (shown["Won"], shown["Won value"], shown["Lost"]) == ("1", "100", "0")


def test_weekly_without_close_dates_shows_unknown_not_zero(open_app, tmp_path):
    """Created dates but no close dates: the week's won / lost are unknown ("—"), never 0."""
    url = f"sqlite:///{tmp_path / 'no_closes.db'}"
    rows = [row[:5] for row in CLOSED_ONLY_ROWS]  # drop the Close Date column
    write_rows(url, "no_closes", rows)
    at = open_app(url, "pages/weekly.py", query={"lang": "en"})
    shown = metrics(at)
    assert (shown["Won"], shown["Lost"], shown["Win rate (count)"]) == ("—", "—", "—")
    # Default week Jan 29 - Feb 4 (the last complete one before Feb 10): no deal created in it.
    assert shown["New deals"] == "0"
    assert any("no close dates" in w.value for w in at.warning)


def test_as_of_can_be_set_in_the_url(open_app, closed_url):
    at = open_app(closed_url, "pages/overview.py", query={"lang": "en", "as_of": "2024-01-30"})
    shown = metrics(at)
    # Created by Jan 30: C1 (closes Feb 1: open then) and C2 (close unknown: won).
    assert overview_counts(shown) == (2, 1, 1)
    assert "As of 2024-01-30 23:59" in texts(at)
    assert at.query_params["as_of"] == "2024-01-30"


def test_as_of_can_be_set_in_the_sidebar_and_lands_in_the_url(open_app, closed_url):
    import datetime

    at = open_app(closed_url, "pages/overview.py", query={"lang": "en"})
    assert "as_of" not in at.query_params  # the export's own date is the default
    at.sidebar.date_input(key="flt_as_of").set_value(datetime.date(2024, 1, 30)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert overview_counts(metrics(at)) == (2, 1, 1)  # as with ?as_of=2024-01-30
    assert at.query_params["as_of"] == "2024-01-30"
    at.sidebar.date_input(key="flt_as_of").set_value(datetime.date(2024, 2, 10)).run()
    assert overview_counts(metrics(at)) == (4, 3, 0) and "as_of" not in at.query_params
