"""Segment comparisons are offered only for columns the dataset has values in (issue 13)."""

from __future__ import annotations

from dealscope import store
from dealscope.demo import write_demo


def test_cycle_page_does_not_offer_compare_by_region_without_regions(open_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'no_region.db'}"
    engine = store.get_engine(url)
    demo = store.read_dataset(engine, write_demo(engine))
    no_region = demo.opportunities.assign(region=None)
    store.write_dataset(engine, "no-region", no_region, demo.stage_events, demo.stages)
    engine.dispose()
    at = open_app(url, "pages/cycle_time.py", query={"lang": "en", "dataset": "no-region"})
    options = at.selectbox(key="cycle_segment").options
    assert "Region" not in options
    assert {"Industry", "Lead source", "Owner"} <= set(options)
    # The demo itself has regions: offered there.
    at = open_app(url, "pages/cycle_time.py", query={"lang": "en", "dataset": "demo"})
    assert "Region" in at.selectbox(key="cycle_segment").options
