"""Funnel page: the demo's figures, checked against independent pandas counts, and interactions.

AppTest formats widget values with the widgets' format_func outside the script run, where the
session language is unknown and falls back to zh-CN; interactions therefore run in zh-CN, and the
English page is checked for rendering only.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dealscope import store
from dealscope.demo import generate_demo
from dealscope.i18n import t
from dealscope.model import LOST, OPEN, WON

VIEW = "pages/funnel.py"


def stage_positions(dataset) -> dict[str, int]:
    stages = dataset.stages
    open_ = stages.loc[stages["kind"] == OPEN, "stage"].tolist()
    return {s: i for i, s in enumerate(open_)}


@pytest.fixture(scope="module")
def expected(demo_dataset) -> pd.DataFrame:
    """Per open stage, straight from the stored rows: entered, reached, lost here, advanced."""
    opps, events = demo_dataset.opportunities, demo_dataset.stage_events
    pos = stage_positions(demo_dataset)
    won_pos = len(pos)
    entered = events.groupby("stage")["opportunity_id"].nunique()
    open_events = events.loc[events["stage"].isin(pos)]
    furthest = open_events["stage"].map(pos).groupby(open_events["opportunity_id"]).max()
    deals = opps.set_index("opportunity_id")
    furthest = furthest.reindex(deals.index)
    furthest = furthest.where(deals["status"] != WON, won_pos)
    rows = []
    for stage, p in pos.items():
        reached = int((furthest >= p).sum())
        advanced = int((furthest >= p + 1).sum())
        lost = int(((furthest == p) & (deals["status"] == LOST)).sum())
        rows.append((stage, int(entered.get(stage, 0)), reached, advanced, lost))
    return pd.DataFrame(rows, columns=["stage", "entered", "reached", "advanced", "lost"])


def pct(k: int, n: int) -> str:
    return f"{k / n * 100:.1f}%"


def col(key: str, lang: str = "zh-CN") -> str:
    return t(f"funnel.col.{key}", lang)


def test_funnel_shows_the_demo_figures(open_app, demo_db_url, demo_dataset, expected):
    at = open_app(demo_db_url, VIEW)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("funnel.kpi.deals")] == f"{len(demo_dataset.opportunities):,}"
    table = at.dataframe[0].value.set_index(col("stage"))
    for row in expected.itertuples():
        shown = table.loc[row.stage]
        assert shown[col("entered")] == row.entered
        assert shown[col("reached")] == row.reached
        assert shown[col("advanced")] == f"{row.advanced:,}"  # text: "—" on the won row
        assert shown[col("lost")] == f"{row.lost:,}"
        assert shown[col("conversion")].startswith(pct(row.advanced, row.advanced + row.lost))
    won = demo_dataset.opportunities["status"].eq(WON).sum()
    lost = demo_dataset.opportunities["status"].eq(LOST).sum()
    # Cumulative conversion to the won stage is the win rate won / (won + lost).
    last = table.iloc[-1]
    assert last[col("reached")] == won
    assert last[col("cumulative")].startswith(pct(won, won + lost))
    assert t("funnel.basis.shown.history") in [x.value for x in at.text]


def test_segment_comparison_by_source(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW)
    at.selectbox(key="funnel_segment_column").set_value("source").run()
    assert not at.exception
    group = t("funnel.compare.col.group")
    tables = [d.value for d in at.dataframe if group in d.value.columns]
    shown = tables[0].set_index([group, col("stage")])
    opps, events = demo_dataset.opportunities, demo_dataset.stage_events
    first_stage, *later_stages = list(stage_positions(demo_dataset))
    # Pass-through at the first stage: advanced = entered any later open stage or won;
    # lost here = lost without having advanced; deals still open there are left out.
    later = events.loc[events["stage"].isin(later_stages), "opportunity_id"]
    moved_on = set(later) | set(opps.loc[opps["status"] == WON, "opportunity_id"])
    for source in ("老客户推荐", "电话营销"):
        ids = opps.loc[opps["source"] == source, "opportunity_id"]
        advanced = int(ids.isin(moved_on).sum())
        stuck = opps["opportunity_id"].isin(ids) & ~opps["opportunity_id"].isin(moved_on)
        lost = int((stuck & opps["status"].eq(LOST)).sum())
        row = shown.loc[(source, first_stage)]
        assert row[col("resolved")] == advanced + lost
        assert row[col("conversion")].startswith(pct(advanced, advanced + lost))
    # Referrals convert far better than cold calls in the demo: both differ from the rest.
    assert shown.loc[("老客户推荐", first_stage), t("funnel.compare.col.significant")] == "*"
    assert shown.loc[("电话营销", first_stage), t("funnel.compare.col.significant")] == "*"


def test_strict_rule_and_drill_through(open_app, demo_db_url, expected):
    at = open_app(demo_db_url, VIEW)
    at.radio(key="funnel_rule").set_value("strict").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index(col("stage"))
    first = expected.iloc[0]
    # Strict: only deals that entered the first stage count there.
    assert table.loc[first.stage, col("reached")] == first.entered
    at.radio(key="funnel_rule").set_value("pass").run()
    at.selectbox(key="funnel_drill_stage").set_value(first.stage).run()
    at.selectbox(key="funnel_drill_outcome").set_value("lost").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("funnel.drill.count")] == f"{first.lost:,}"


@pytest.mark.parametrize("basis", ["cohort", "snapshot"])
def test_other_bases_render(open_app, demo_db_url, basis):
    at = open_app(demo_db_url, VIEW)
    at.radio(key="funnel_basis").set_value(basis).run()
    assert not at.exception
    assert t(f"funnel.basis.shown.{basis}") in [x.value for x in at.text]
    assert len(at.dataframe) >= 1


def test_english_page_renders(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert not at.exception
    assert at.header[0].value == t("funnel.title", "en")
    assert t("funnel.col.stage", "en") in at.dataframe[0].value.columns


@pytest.fixture
def no_history_db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'nohist.db'}"
    opps, events, stages = generate_demo(n=300)
    engine = store.get_engine(url)
    store.write_dataset(engine, "snapshot-only", opps, events.iloc[0:0], stages)
    engine.dispose()
    return url


def test_without_history_only_the_snapshot_is_offered(open_app, no_history_db_url):
    at = open_app(no_history_db_url, VIEW)
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert t("funnel.no_history") in warnings and t("funnel.snapshot.banner") in warnings
    assert at.radio(key="funnel_basis").options == [t("funnel.basis.snapshot")]
    counts = at.dataframe[0].value[t("funnel.snapshot.col.deals")]
    assert counts.sum() == 300


def test_small_samples_show_counts_not_percentages(open_app, demo_db_url, demo_dataset):
    opps = demo_dataset.opportunities
    owner = opps["owner"].value_counts().index[-1]  # the rep with the fewest deals
    subset = opps.loc[(opps["owner"] == owner) & (opps["source"] == "电话营销")]
    at = open_app(demo_db_url, VIEW, query={"owner": owner, "source": "电话营销"})
    assert not at.exception
    table = at.dataframe[0].value.set_index(col("stage"))
    events = demo_dataset.stage_events
    pos = stage_positions(demo_dataset)
    mine = events.loc[events["opportunity_id"].isin(subset["opportunity_id"])]
    mine = mine.loc[mine["stage"].isin(pos)]
    furthest = mine["stage"].map(pos).groupby(mine["opportunity_id"]).max()
    deals = subset.set_index("opportunity_id")
    furthest = furthest.reindex(deals.index).where(deals["status"] != WON, len(pos))
    checked = 0
    for stage, p in pos.items():
        advanced = int((furthest >= p + 1).sum())
        lost = int(((furthest == p) & (deals["status"] == LOST)).sum())
        if 0 < advanced + lost < 20:  # below MIN_RESOLVED: "k / n" instead of a percentage
            assert table.loc[stage, col("conversion")] == f"{advanced} / {advanced + lost}"
            checked += 1
    assert checked > 0


def test_period_applies_to_creation_and_is_compared_with_the_previous(
    open_app, demo_db_url, demo_dataset
):
    at = open_app(demo_db_url, VIEW, query={"start": "2026-05-01", "end": "2026-10-31"})
    assert not at.exception
    created = demo_dataset.opportunities["created_at"]
    start, end = pd.Timestamp("2026-05-01"), pd.Timestamp("2026-11-01")
    in_period = int(((created >= start) & (created < end)).sum())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("funnel.kpi.deals")] == f"{in_period:,}"
    # The previous period of equal length exists, so the comparison table is shown.
    rest = t("funnel.compare.col.rest")
    tables = [d.value for d in at.dataframe if rest in d.value.columns]
    assert len(tables) == 2  # segments (default column) and this-vs-previous period
    period_table = tables[1].set_index(col("stage"))
    opps, events = demo_dataset.opportunities, demo_dataset.stage_events
    first_stage, *later_stages = list(stage_positions(demo_dataset))
    before = start - (end - start)
    previous = opps.loc[(created >= before) & (created < start)]
    later = set(events.loc[events["stage"].isin(later_stages), "opportunity_id"])
    moved_on = previous["opportunity_id"].isin(later) | previous["status"].eq(WON)
    lost = int((~moved_on & previous["status"].eq(LOST)).sum())
    advanced = int(moved_on.sum())
    assert period_table.loc[first_stage, rest] == pct(advanced, advanced + lost)
