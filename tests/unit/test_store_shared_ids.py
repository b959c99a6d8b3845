"""store.count_shared_ids: how many of a sample of ids each stored dataset holds (issue 13:
the snapshot comparison offers only exports of the same pipeline)."""

import pandas as pd

from dealscope import store
from dealscope.model import demo_stage_table, normalise_opportunities


def deals(ids):
    return normalise_opportunities(
        pd.DataFrame({"opportunity_id": ids, "status": "open", "stage": "线索"})
    )


def test_counts_each_sampled_id_once_per_dataset(store_url):
    engine = store.get_engine(store_url)
    stages, events = (
        demo_stage_table(),
        pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]),
    )
    a = store.write_dataset(engine, "a", deals(["1", "2", "3", "4"]), events, stages)
    b = store.write_dataset(engine, "b", deals(["3", "4", "5", "3"]), events, stages)  # 3 twice
    c = store.write_dataset(engine, "c", deals(["x", "y"]), events, stages)
    # A quote and a semicolon in an id are data, bound as a parameter.
    d = store.write_dataset(
        engine, "d", deals(["1'; DROP TABLE opportunities; --"]), events, stages
    )
    sample = ["1", "2", "3", "4", "1'; DROP TABLE opportunities; --"]
    assert store.count_shared_ids(engine, sample, [b, c, d]) == {b: 2, c: 0, d: 1}
    assert store.count_shared_ids(engine, sample, [a]) == {a: 4}
    assert store.count_shared_ids(engine, [], [a]) == {a: 0}
    assert len(store.read_dataset(engine, a).opportunities) == 4  # the table is still there
    engine.dispose()
