"""The canonical model's helpers: stage-event order and the mean stage position used to infer order."""

import numpy as np
import pandas as pd
import pytest

from dealscope.ingest.stages import _event_order
from dealscope.model import stage_event_order

D = pd.Timestamp


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]", object])
def test_stage_event_order_matches_a_stable_sort_with_missing_values_last(dtype):
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(1, 200))
        events = pd.DataFrame(
            {
                "opportunity_id": pd.array(
                    rng.choice(["a", "b", "c", None, "e10", "e2"], n), dtype
                ),
                "stage": pd.array(rng.choice(["S1", "S2", "赢单"], n), dtype),
                "entered_at": pd.to_datetime(rng.integers(0, 30, n), unit="D").where(
                    rng.random(n) > 0.1
                ),
            }
        )
        expected = events.sort_values(["opportunity_id", "entered_at"], kind="stable")
        assert events.iloc[stage_event_order(events)].equals(expected)


def test_stage_event_order_skips_the_sort_when_events_are_already_in_order():
    events = pd.DataFrame(
        {
            "opportunity_id": pd.array(["a", "a", "b"], "string[pyarrow]"),
            "stage": ["S1", "S2", "S1"],
            "entered_at": [D("2024-01-01"), D("2024-01-02"), D("2023-01-01")],
        }
    )
    assert stage_event_order(events) == slice(None)
    assert list(stage_event_order(events.iloc[::-1])) == [2, 1, 0]


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]"])
def test_mean_relative_stage_position_by_hand(dtype):
    rows = [  # deal a: S1 S2 S3 -> 0, .5, 1; deal b: S1 S3 -> 0, 1; deal c: one event -> none
        ("a", "S2", "2024-01-02"),
        ("b", "S3", "2024-01-05"),
        ("a", "S1", "2024-01-01"),
        ("c", "S2", "2024-01-01"),
        ("a", "S3", "2024-01-03"),
        ("b", "S1", "2024-01-04"),
        (None, "S1", "2024-01-09"),  # no deal: ignored
    ]
    events = pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"]).astype(
        {"opportunity_id": dtype, "stage": dtype, "entered_at": "datetime64[ns]"}
    )
    assert _event_order(events).sort_index().to_dict() == {"S1": 0.0, "S2": 0.5, "S3": 1.0}
