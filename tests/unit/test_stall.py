"""Stage intervals, stall lines and stalled / silent flags on hand-made fixtures."""

import pandas as pd
import pytest

from dealscope.metrics import stall
from dealscope.metrics.stall import compute_stage_intervals, compute_stall_lines, flag_open_deals
from dealscope.model import demo_stage_table

T0 = pd.Timestamp("2024-01-01")
AS_OF = T0 + pd.Timedelta(days=100)


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def events(rows):
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])


def test_intervals_exit_at_next_entry_and_mark_backward_moves():
    ev = events(
        [
            ("a", "线索", day(0)),
            ("a", "方案提交", day(5)),  # skips 需求确认: still an advance
            ("a", "需求确认", day(9)),  # backward
            ("a", "赢单", day(20)),
            ("b", "线索", day(90)),
            ("b", "需求确认", day(150)),  # after as-of: ignored
        ]
    )
    iv = compute_stage_intervals(ev, demo_stage_table(), AS_OF)
    a = iv[iv.opportunity_id == "a"]
    assert a["days"].tolist()[:3] == [5.0, 4.0, 11.0]
    assert a["advanced"].tolist() == [True, False, True, False]
    assert a["regressed"].tolist() == [False, True, False, False]
    b = iv[iv.opportunity_id == "b"]
    assert len(b) == 1 and b["is_current"].item() and b["days"].item() == 10.0


def test_stall_line_is_p75_of_advanced_deals_only(monkeypatch):
    monkeypatch.setattr(stall, "MIN_ADVANCED_FOR_STALL_LINE", 2)
    rows = []
    for i, days in enumerate([2, 4, 6, 8]):  # advanced after 2..8 days
        rows += [(f"d{i}", "线索", day(0)), (f"d{i}", "需求确认", day(days))]
    rows += [("lost", "线索", day(0)), ("lost", "输单", day(50))]  # did not advance: ignored
    iv = compute_stage_intervals(events(rows), demo_stage_table(), AS_OF)
    lines = compute_stall_lines(iv, demo_stage_table()).set_index("stage")
    assert lines.loc["线索", "n_advanced"] == 4
    assert lines.loc["线索", "stall_days"] == pytest.approx(6.5)  # P75 of 2,4,6,8
    assert pd.isna(lines.loc["方案提交", "stall_days"])  # nobody advanced from it


def test_flags_stalled_and_silent_open_deals(monkeypatch):
    monkeypatch.setattr(stall, "MIN_ADVANCED_FOR_STALL_LINE", 2)
    rows = [
        ("h1", "线索", day(0)),
        ("h1", "需求确认", day(4)),
        ("h2", "线索", day(0)),
        ("h2", "需求确认", day(8)),
    ]
    rows += [("stuck", "线索", day(80)), ("fresh", "线索", day(97))]
    opps = pd.DataFrame(
        {
            "opportunity_id": ["stuck", "fresh", "h1", "h2"],
            "name": ["s", "f", "h1", "h2"],
            "owner": ["王伟"] * 4,
            "amount": [1.0, 2.0, 3.0, 4.0],
            "stage": ["线索", "线索", "需求确认", "需求确认"],
            "status": ["open", "open", "won", "won"],
            "created_at": [day(80), day(97), day(0), day(0)],
            "closed_at": [pd.NaT, pd.NaT, day(9), day(9)],
            "last_activity_at": [day(70 + 10), day(99), day(9), day(9)],
        }
    )
    iv = compute_stage_intervals(events(rows), demo_stage_table(), AS_OF)
    lines = compute_stall_lines(iv, demo_stage_table())  # 线索 line: P75 of 4, 8 = 7
    flags = flag_open_deals(opps, iv, lines, AS_OF).set_index("opportunity_id")
    assert set(flags.index) == {"stuck", "fresh"}
    assert flags.loc["stuck", "days_in_stage"] == 20.0 and flags.loc["stuck", "stalled"]
    assert not flags.loc["fresh", "stalled"]
    assert flags.loc["stuck", "days_silent"] == 20.0 and flags.loc["stuck", "silent"]
    assert not flags.loc["fresh", "silent"]
