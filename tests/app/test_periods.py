"""AppTest of the sidebar's period presets on the demo (as of Friday 2026-11-20 17:14, ISO week
2026-W47; first deal created 2025-03-03): the dates each preset selects, the previous period the
Overview compares with, the URL, and the default that makes the comparison visible."""

import shutil
from datetime import date

import pandas as pd
import pyarrow as pa

from dealscope import store

VIEW = "pages/overview.py"
PRESET = "flt_period_preset"
RANGE = "flt_period"


def metrics(at) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def in_range(moments: pd.Series, start: str, end_exclusive: str) -> pd.Series:
    return (moments >= pd.Timestamp(start)) & (moments < pd.Timestamp(end_exclusive))


def test_last_week_selects_the_previous_iso_week_and_compares_with_the_week_before(
    open_app, demo_db_url, demo_dataset
):
    at = open_app(demo_db_url, VIEW, query={"lang": "en", "period": "last_week"})
    assert at.sidebar.selectbox(key=PRESET).value == "last_week"
    # The as-of week is Mon 16 – Sun 22 Nov (W47): last week is Mon 9 – Sun 15 Nov (W46).
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 11, 9), date(2026, 11, 15))
    assert any("2026-11-02 – 2026-11-08" in c.value for c in at.sidebar.caption)
    assert at.query_params["period"] == "last_week"
    assert "start" not in at.query_params and "end" not in at.query_params
    opps = demo_dataset.opportunities
    new_now = in_range(opps.created_at, "2026-11-09", "2026-11-16").sum()
    new_before = in_range(opps.created_at, "2026-11-02", "2026-11-09").sum()
    won = opps.status.eq("won")
    won_now = (won & in_range(opps.closed_at, "2026-11-09", "2026-11-16")).sum()
    shown = metrics(at)
    assert shown["New opportunities"].value == f"{new_now:,}"
    assert shown["Won"].value == f"{won_now:,}"
    assert shown["New opportunities"].delta == f"{new_now - new_before:+,}"
    assert any(
        "2026-11-09 to 2026-11-15" in c.value and "2026-11-02" in c.value for c in at.caption
    )


def test_the_default_period_shows_the_change_against_the_previous_one(
    open_app, demo_db_url, demo_dataset
):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"}, default_period=True)
    assert at.sidebar.selectbox(key=PRESET).value == "last_90d"
    # 90 days ending Fri 20 Nov: 23 Aug – 20 Nov; the 90 before: 25 May – 22 Aug.
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 8, 23), date(2026, 11, 20))
    opps = demo_dataset.opportunities
    won = opps.status.eq("won")
    won_now = (won & in_range(opps.closed_at, "2026-08-23", "2026-11-21")).sum()
    won_before = (won & in_range(opps.closed_at, "2026-05-25", "2026-08-23")).sum()
    assert won_before > 0
    shown = metrics(at)
    assert shown["Won"].value == f"{won_now:,}"
    assert shown["Won"].delta == f"{won_now - won_before:+,}"
    assert all(m.delta not in (None, "") for m in at.metric if m.label != "Median days to win")
    assert at.query_params["period"] == "last_90d"


def test_an_invalid_preset_in_the_link_is_ignored_and_listed(open_app, demo_db_url):
    at = open_app(demo_db_url, None, query={"lang": "en", "period": "fortnight"})
    assert not at.exception
    assert any("period=fortnight" in w.value for w in at.sidebar.warning)
    assert at.sidebar.selectbox(key=PRESET).value == "last_90d"  # the default instead
    assert at.query_params["period"] == "last_90d"


def test_explicit_dates_in_the_link_are_a_custom_period(open_app, demo_db_url):
    query = {"lang": "en", "start": "2026-01-01", "end": "2026-03-31"}
    at = open_app(demo_db_url, VIEW, query=query)
    assert at.sidebar.selectbox(key=PRESET).value == "custom"
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 1, 1), date(2026, 3, 31))
    # 90 days: compared with the 90 before, 3 Oct – 31 Dec 2025
    assert any("2025-10-03 – 2025-12-31" in c.value for c in at.sidebar.caption)
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-01-01", "2026-03-31")


def test_a_preset_overrides_dates_in_the_same_link_and_lists_them(open_app, demo_db_url):
    query = {"lang": "en", "period": "this_month", "start": "2026-01-01"}
    at = open_app(demo_db_url, None, query=query)  # the notice shows on the opening run
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 11, 1), date(2026, 11, 20))
    assert any("start=2026-01-01" in w.value for w in at.sidebar.warning), [
        w.value for w in at.sidebar.warning
    ]


def test_this_quarter_compares_with_the_whole_previous_quarter(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    at.sidebar.selectbox(key=PRESET).set_value("this_quarter").run()
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 10, 1), date(2026, 11, 20))
    assert any("(2026-07-01 to 2026-09-30)" in c.value for c in at.caption)
    assert at.query_params["period"] == "this_quarter"
    # quarter to date: the same days against the first 51 days of Q3 (1 Jul – 20 Aug)
    at.sidebar.selectbox(key=PRESET).set_value("quarter_to_date").run()
    assert any("(2026-07-01 to 2026-08-20)" in c.value for c in at.caption)


def test_editing_the_dates_switches_to_custom(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en", "period": "last_week"})
    at.sidebar.date_input(key=RANGE).set_value((date(2026, 6, 1), date(2026, 6, 30))).run()
    assert not at.exception
    assert at.sidebar.selectbox(key=PRESET).value == "custom"
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 6, 1), date(2026, 6, 30))
    assert at.query_params["period"] == "custom"
    assert (at.query_params["start"], at.query_params["end"]) == ("2026-06-01", "2026-06-30")


def _with_short_dataset(demo_db_url: str, tmp_path) -> tuple[str, int]:
    """A copy of the demo database plus an 11-day dataset (10 – 20 Mar 2025, a Thursday): last
    week (10 – 16 Mar) has no whole week before it in the data, the last 90 days none either."""
    copy = tmp_path / "copy.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    deals = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "stage": ["Closed Won", "Closed Lost", "Qualify"],
            "status": ["won", "lost", "open"],
            "amount": [100.0, 50.0, 10.0],
            "created_at": pd.to_datetime(["2025-03-10", "2025-03-12", "2025-03-20"]),
            "closed_at": pd.to_datetime(["2025-03-14", "2025-03-18", None]),
        }
    )
    stages = pd.DataFrame(
        {"stage": ["Qualify", "Closed Won", "Closed Lost"], "position": [0, 1, 2],
         "kind": ["open", "won", "lost"]}
    )  # fmt: skip
    engine = store.get_engine(url)
    new_id = store.write_dataset(engine, "short", deals, deals.iloc[0:0][[]], stages)
    engine.dispose()
    return url, new_id


def test_a_dataset_too_short_for_a_comparison_defaults_to_all_and_says_so(
    open_app, demo_db_url, tmp_path
):
    url, short_id = _with_short_dataset(demo_db_url, tmp_path)
    at = open_app(url, VIEW, query={"lang": "en", "dataset": "1"}, default_period=True)
    assert at.sidebar.selectbox(key=PRESET).value == "last_90d"
    at.sidebar.selectbox(key="flt_dataset").set_value(short_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key=PRESET).value == "all"
    assert at.sidebar.date_input(key=RANGE).value == (date(2025, 3, 10), date(2025, 3, 20))
    assert any("only 11 days" in c.value for c in at.sidebar.caption)
    shown = metrics(at)
    assert (shown["Total opportunities"].value, shown["Won"].value) == ("3", "1")
    assert at.query_params["period"] == "all"


def test_switching_dataset_keeps_a_chosen_preset_and_drops_custom_dates(
    open_app, demo_db_url, tmp_path
):
    url, short_id = _with_short_dataset(demo_db_url, tmp_path)
    at = open_app(url, VIEW, query={"lang": "en", "dataset": "1", "period": "this_week"})
    at.sidebar.selectbox(key="flt_dataset").set_value(short_id).run()
    # this week of the short dataset's own as-of date (Thu 20 Mar 2025): Mon 17 – Thu 20 Mar
    assert at.sidebar.selectbox(key=PRESET).value == "this_week"
    assert at.sidebar.date_input(key=RANGE).value == (date(2025, 3, 17), date(2025, 3, 20))
    assert metrics(at)["New opportunities"].value == "1"  # c, created on 20 Mar
    # custom dates belong to the dataset they were picked on: back on the demo, its default
    at.sidebar.date_input(key=RANGE).set_value((date(2025, 3, 12), date(2025, 3, 18))).run()
    assert at.sidebar.selectbox(key=PRESET).value == "custom"
    at.sidebar.selectbox(key="flt_dataset").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key=PRESET).value == "last_90d"
    assert at.sidebar.date_input(key=RANGE).value == (date(2026, 8, 23), date(2026, 11, 20))


def _chart_frames(at):
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            yield chart, pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()


def test_weekly_bars_carry_the_iso_week_of_their_figures(open_app, demo_db_url, demo_dataset):
    # The last complete week before Fri 20 Nov is Mon 9 – Sun 15 Nov 2026 = ISO 2026-W46 (the
    # 1 Jan 2026 Thursday is in W01, whose Monday is 29 Dec 2025; 29 Dec + 45 weeks = 9 Nov).
    at = open_app(demo_db_url, "pages/weekly.py", query={"lang": "en"})
    chart, trend = next((c, f) for c, f in _chart_frames(at) if "week_label" in f.columns)
    assert "yearweek" not in chart.proto.spec  # labelled from the data, not by Vega
    assert trend["week_label"].max() == "2026-W46"
    bars = trend.loc[trend["week_label"] == "2026-W46"].set_index("series")["count"]
    opps = demo_dataset.opportunities
    created = in_range(opps.created_at, "2026-11-09", "2026-11-16").sum()
    won = (opps.status.eq("won") & in_range(opps.closed_at, "2026-11-09", "2026-11-16")).sum()
    assert (bars["Created"], bars["Won"]) == (created, won)


def test_overview_weekly_line_has_every_iso_week_of_the_period(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"}, default_period=True)
    ((_, flow),) = list(_chart_frames(at))
    weeks = pd.to_datetime(flow["week"]).drop_duplicates().sort_values()
    # 23 Aug (a Sunday, in the week of Mon 17 Aug) to 20 Nov (week of Mon 16 Nov): 14 weeks.
    assert weeks.iloc[0] == pd.Timestamp("2026-08-17") and len(weeks) == 14
    assert weeks.diff().dropna().eq(pd.Timedelta(days=7)).all()
    assert len(flow) == 14 * 3
    assert flow["week_label"].iloc[-1] == "2026-W47"
