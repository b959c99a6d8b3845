"""The Weekly page's comparison of two exports (issue 13): which datasets it offers, the URL
parameter, the unpriced count per deal, and wording that speaks of two exports, not a week."""

from __future__ import annotations

import pandas as pd
import pytest

from dealscope import store
from dealscope.demo import write_demo

VIEW = "pages/weekly.py"
UNPRICED = 20


@pytest.fixture(scope="module")
def compare_db(tmp_path_factory):
    """demo v1; an unrelated export (no id in common); last week's export of the same pipeline
    under another name; demo v2 (the newest, opened by default). 20 deals have no amount in both
    last week's export and demo v2."""
    url = f"sqlite:///{tmp_path_factory.mktemp('compare') / 'compare.db'}"
    engine = store.get_engine(url)
    demo = store.read_dataset(engine, write_demo(engine))
    opps, events, stages = demo.opportunities, demo.stage_events, demo.stages
    unrelated = opps.assign(opportunity_id="U-" + opps["opportunity_id"].astype(str))
    ids = {"demo_v1": demo.id}
    ids["unrelated"] = store.write_dataset(engine, "unrelated", unrelated, events.iloc[:0], stages)
    unpriced = opps.copy()
    unpriced.loc[unpriced.index[:UNPRICED], "amount"] = float("nan")
    ids["last_week"] = store.write_dataset(
        engine,
        "last-week",
        unpriced.iloc[100:]
        .reset_index(drop=True)
        .pipe(lambda f: pd.concat([unpriced.iloc[:UNPRICED], f], ignore_index=True)),
        events.iloc[:0],
        stages,
    )
    ids["demo_v2"] = store.write_dataset(engine, demo.name, unpriced, events, stages)
    engine.dispose()
    return url, ids


def _compare_box(at):
    return at.selectbox(key="weekly_compare")


def test_only_versions_and_exports_sharing_ids_are_offered(open_app, compare_db):
    url, ids = compare_db
    at = open_app(url, VIEW, query={"lang": "en", "dataset": str(ids["demo_v2"])})
    box = _compare_box(at)
    offered = [o for o in box.options if o != "No comparison"]
    assert len(offered) == 2
    assert offered[0].startswith("demo · v1") and f"id {ids['demo_v1']}" in offered[0]
    # Last week's export: another name, found by its ids (every sampled id of v2 it holds but
    # the 80 it dropped).
    assert offered[1].startswith("last-week") and "shares" in offered[1]
    assert not any(o.startswith("unrelated") for o in box.options)
    captions = " ".join(c.value for c in at.caption)
    assert "1 other datasets are not offered" in captions and "share no deal id" in captions


def test_the_comparison_is_kept_in_the_url_and_counts_each_unpriced_deal_once(open_app, compare_db):
    url, ids = compare_db
    query = {"lang": "en", "dataset": str(ids["demo_v2"]), "compare": str(ids["last_week"])}
    at = open_app(url, VIEW, query=query)
    assert _compare_box(at).value == ids["last_week"]
    texts = " ".join(t.value for t in at.text)
    # 20 deals lack an amount in both exports: 20 deals, not 40 rows.
    assert f"{UNPRICED} deals have no amount or another currency in one or both exports" in texts
    # A category with no deal speaks of the two exports and their dates, not of "this week".
    at.selectbox(key="weekly_category").set_value("reopened").run()
    captions = " ".join(c.value for c in at.caption)
    assert "None between the two exports (as of " in captions
    assert "None this week" not in captions
    # Picking "no comparison" removes the parameter; picking again writes it.
    _compare_box(at).set_value(None).run()
    assert "compare" not in at.query_params
    _compare_box(at).set_value(ids["demo_v1"]).run()
    assert at.query_params["compare"] in (str(ids["demo_v1"]), [str(ids["demo_v1"])])


def test_an_unrelated_or_invalid_compare_parameter_is_ignored_and_named(open_app, compare_db):
    url, ids = compare_db
    for wanted in (str(ids["unrelated"]), "abc"):
        query = {"lang": "en", "dataset": str(ids["demo_v2"]), "compare": wanted}
        at = open_app(url, VIEW, query=query)
        assert _compare_box(at).value is None
        warnings = " ".join(w.value for w in at.warning)
        assert f"compare={wanted}" in warnings and "ignored" in warnings
