"""Reps page through the real app: demo figures against direct pandas counts, and a drill-down."""

import re

import pandas as pd
import pytest

from dealscope.metrics.kpis import infer_as_of

VIEW = "pages/reps.py"


def direct_counts(opps: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """won / closed / open per owner counted straight from the rows (not via dealscope.metrics)."""
    closed_in = opps["closed_at"].ge(start) & opps["closed_at"].lt(end)
    open_at_end = opps["created_at"].lt(end) & (
        opps["status"].eq("open") | opps["closed_at"].ge(end)
    )
    return pd.DataFrame(
        {
            "won": (closed_in & opps["status"].eq("won")).groupby(opps["owner"]).sum(),
            "closed": (closed_in & opps["status"].isin(["won", "lost"]))
            .groupby(opps["owner"])
            .sum(),
            "open": open_at_end.groupby(opps["owner"]).sum(),
        }
    )


def test_leaderboard_shows_the_demo_counts(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    opps = demo_dataset.opportunities
    as_of = infer_as_of(opps, demo_dataset.stage_events)
    expected = direct_counts(opps, opps["created_at"].min(), as_of + pd.Timedelta(days=1))
    board = at.dataframe[0].value.set_index("Owner")
    assert len(board) == opps["owner"].nunique() == 36
    record = expected["won"].astype(str) + " / " + expected["closed"].astype(str)
    assert board["Won / closed"].sort_index().to_dict() == record.sort_index().to_dict()
    assert board["Open"].sort_index().to_dict() == expected["open"].sort_index().to_dict()
    rates = (expected["won"] / expected["closed"]).reindex(board.index)
    assert board["Win rate"].to_numpy() == pytest.approx(rates.to_numpy())
    # Sorted by the shrunk rate, ranks 1..n.
    assert board["Shrunk win rate"].is_monotonic_decreasing
    assert board["Rank"].tolist() == list(range(1, 37))
    captions = " ".join(c.value for c in at.caption)
    assert "maximum likelihood over 36 groups" in captions
    common = float(re.search(r"common win rate ([0-9.]+)%", captions).group(1)) / 100
    # Shrinkage pulls each raw rate towards the prior's common rate, never past it.
    toward = pd.Series(common, index=rates.index)
    low = pd.concat([rates, toward], axis=1).min(axis=1) - 0.0005
    high = pd.concat([rates, toward], axis=1).max(axis=1) + 0.0005
    assert board["Shrunk win rate"].between(low, high).all()
    assert len(at.get("arrow_vega_lite_chart")) >= 1 or len(at.get("vega_lite_chart")) >= 1
    # The definitions panel states the shrinkage formula and the minimum, filled in.
    definitions = " ".join(t.value for t in at.text)
    assert "(won + α) ÷ (closed + α + β)" in definitions
    assert "fewer than 20 closed deals" in definitions and "{" not in definitions


def test_team_level_and_small_samples_greyed(open_app, demo_db_url, demo_dataset):
    query = {"lang": "en", "start": "2026-10-01", "end": "2026-11-20"}
    at = open_app(demo_db_url, VIEW, query=query)
    opps = demo_dataset.opportunities
    expected = direct_counts(opps, pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-21"))
    board = at.dataframe[0].value.set_index("Owner")
    small = (expected["closed"] < 20).map({True: "small sample", False: "ranked"})
    assert board["Sample"].sort_index().to_dict() == small.sort_index().to_dict()
    assert 0 < (board["Sample"] == "small sample").sum() < len(board)
    # The Styler greys exactly those rows (the colour travels in the Arrow styler payload).
    assert "#9e9e9e" in at.dataframe[0].proto.arrow_data.styler.styles
    at.radio(key="reps_level").set_value("team").run()
    assert not at.exception
    teams = at.dataframe[0].value.set_index("Team")
    closed_in = opps["closed_at"].ge("2026-10-01") & opps["closed_at"].lt("2026-11-21")
    won_by_team = (closed_in & opps["status"].eq("won")).groupby(opps["team"]).sum()
    assert len(teams) == opps["team"].nunique() == 8
    got = teams["Won / closed"].str.split(" / ").str[0].astype(int).sort_index()
    assert got.to_dict() == won_by_team.sort_index().to_dict()


def test_owner_drilldown(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    opps = demo_dataset.opportunities
    as_of = infer_as_of(opps, demo_dataset.stage_events)
    expected = direct_counts(opps, opps["created_at"].min(), as_of + pd.Timedelta(days=1))
    owner = expected["open"].idxmax()  # the owner with the most open deals
    at.selectbox(key="reps_owner").set_value(owner).run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    row = expected.loc[owner]
    assert metrics["Won / closed"] == f"{row['won']} / {row['closed']}"
    assert metrics["Open deals"] == str(row["open"])
    assert metrics["Win rate"] == f"{row['won'] / row['closed'] * 100:.1f}%"
    team = opps.loc[opps["owner"].eq(owner), "team"].mode().iloc[0]
    assert any(f"Team: {team}." in c.value for c in at.caption)
    # Open deals table: exactly this owner's open deals, with the stall / silence flags.
    open_table = next(d.value for d in at.dataframe if "Days in stage" in d.value.columns)
    mine = opps.loc[opps["owner"].eq(owner) & opps["status"].eq("open"), "opportunity_id"]
    assert sorted(open_table["ID"]) == sorted(mine)
    # Conversion table beside the chart: one row per open stage, owner and team columns.
    conversion = next(d.value for d in at.dataframe if "Team conversion" in d.value.columns)
    assert conversion["Stage"].tolist() == ["线索", "需求确认", "方案提交", "技术交流", "价格谈判"]
    assert len(at.get("download_button")) == 2


def test_chinese_page_renders(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW)
    assert at.header[0].value == "销售人员绩效"
    assert "收缩后赢率" in at.dataframe[0].value.columns
