"""Segment filters and the fast event lookup."""

from dealscope.filters import (
    Filters,
    apply_segment_filters,
    event_deal_rows,
    events_for,
    segment_options,
)


def test_events_for_by_row_index_equals_the_id_lookup(demo_dataset):
    opps, events = demo_dataset.opportunities, demo_dataset.stage_events
    rows = event_deal_rows(opps, events)
    subset = apply_segment_filters(
        opps, Filters(segments={"region": ("华东",), "source": ("展会",)})
    )
    fast = events_for(events, subset, rows)
    slow = events_for(events, subset)
    assert len(fast) == len(slow) > 0
    assert fast["opportunity_id"].tolist() == slow["opportunity_id"].tolist()
    assert events_for(events, subset.iloc[:0], rows).empty
    # The canonical frame is left as it was: no derived column rides along.
    assert list(fast.columns) == list(events.columns)


def test_segment_filters_and_options(demo_dataset):
    opps = demo_dataset.opportunities
    assert segment_options(opps, "region") == sorted(opps.region.unique())
    assert segment_options(opps, "no_such_column") == []
    picked = apply_segment_filters(
        opps, Filters(segments={"region": ("华北", "西南"), "owner": ()})
    )
    assert set(picked.region) == {"华北", "西南"}
    assert len(picked) == opps.region.isin(["华北", "西南"]).sum()
