"""Rhythm silence, main-contact changes and point-in-time features on hand-made logs."""

import numpy as np
import pandas as pd
import pytest

from dealscope.activity.contacts import contact_changes
from dealscope.activity.features import activity_features
from dealscope.activity.model import normalise_activities
from dealscope.activity.rhythm import derive_multiple, own_rhythm, silence_table, touch_days


def log(rows):
    """rows: (deal, 'YYYY-MM-DD[ HH:MM]', type, contact)."""
    frame = pd.DataFrame(
        rows, columns=["opportunity_id", "occurred_at", "activity_type", "contact"]
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], format="mixed")
    frame["owner"] = "王伟"
    frame["subject"] = None
    return normalise_activities(frame)


def deals(rows):
    """rows: (deal, status, created, closed)."""
    frame = pd.DataFrame(rows, columns=["opportunity_id", "status", "created_at", "closed_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame["closed_at"] = pd.to_datetime(frame["closed_at"])
    frame["name"] = frame["opportunity_id"] + " deal"
    frame["owner"] = "王伟"
    frame["amount"] = 1000.0
    frame["stage"] = np.where(frame["status"] == "open", "方案", frame["status"])
    frame["last_activity_at"] = pd.NaT
    return frame


EMPTY_EVENTS = pd.DataFrame({"opportunity_id": [], "stage": [], "entered_at": []})


def test_touch_days_merge_same_day_and_skip_notes():
    # A: Jan 1 (two calls), Jan 3 note (not customer-facing), Jan 5, Jan 11 -> days 1, 5, 11.
    acts = log(
        [
            ("A", "2026-01-01 09:00", "call", "张总"),
            ("A", "2026-01-01 15:00", "email", "张总"),
            ("A", "2026-01-03", "note", None),
            ("A", "2026-01-05", "message", "张总"),
            ("A", "2026-01-11", "meeting", "张总"),
        ]
    )
    days = touch_days(acts, pd.Timestamp("2026-02-01"))
    assert days["gap"].tolist()[1:] == [4.0, 6.0]
    rhythm = own_rhythm(days)
    assert rhythm.loc["A", "gaps"] == 2 and rhythm.loc["A", "median_gap"] == 5.0


def test_suddenly_silent_against_own_rhythm_not_a_fixed_rule():
    # FAST touches every 2 days until Jan 9 (gaps 2,2,2,2 -> rhythm 2); on Jan 19 it is 10 days
    # silent = 5x its rhythm. SLOW touches every 10 days until Jan 11 (gaps 10,10,10 -> rhythm 10);
    # 8 days silent = 0.8x. With the default multiple 3 (too few won gaps), only FAST is flagged,
    # though a fixed 14-day rule would flag neither.
    rows = [("FAST", f"2026-01-{d:02d}", "call", "a") for d in (1, 3, 5, 7, 9)]
    rows += [
        ("SLOW", d, "call", "b") for d in ("2025-12-12", "2025-12-22", "2026-01-01", "2026-01-11")
    ]
    opps = deals([("FAST", "open", "2025-12-01", None), ("SLOW", "open", "2025-12-01", None)])
    result = silence_table(opps, log(rows), EMPTY_EVENTS, pd.Timestamp("2026-01-19"))
    table = result.table.set_index("opportunity_id")
    assert result.multiple.value == 3.0 and result.multiple.source == "default"
    assert table.loc["FAST", "rhythm_gap"] == 2.0 and table.loc["FAST", "ratio"] == 5.0
    assert table.loc["SLOW", "ratio"] == pytest.approx(0.8)
    assert table["suddenly_silent"].to_dict() == {"FAST": True, "SLOW": False}
    assert set(table["basis"]) == {"own"}


def test_without_log_the_fixed_14_day_rule_applies():
    opps = deals([("A", "open", "2026-01-01", None), ("B", "open", "2026-01-10", None)])
    opps["last_activity_at"] = pd.to_datetime(["2026-01-02", "2026-01-10"])
    result = silence_table(opps, None, EMPTY_EVENTS, pd.Timestamp("2026-01-20"))
    table = result.table.set_index("opportunity_id")
    assert result.multiple is None and not result.has_log
    assert table["days_silent"].to_dict() == {"A": 18.0, "B": 10.0}
    assert table["suddenly_silent"].to_dict() == {"A": True, "B": False}


def test_multiple_is_the_quantile_of_won_gap_ratios():
    # Won deal W: gaps alternating 1,3 -> median gap 2, ratios 0.5 / 1.5 (20 each). Won deal V:
    # gaps 2 (x30) then 12 -> median 2, ratios 1.0 (x30) and 6.0. Linear percentiles by hand:
    w_gaps = [1, 3] * 20
    v_gaps = [2] * 30 + [12]
    start = pd.Timestamp("2025-01-01")
    rows = [("W", start + pd.Timedelta(days=int(d)), "call", "x") for d in np.cumsum([0, *w_gaps])]
    rows += [("V", start + pd.Timedelta(days=int(d)), "call", "y") for d in np.cumsum([0, *v_gaps])]
    days = touch_days(log(rows), pd.Timestamp("2026-01-01"))
    rhythm = own_rhythm(days)
    only_w = derive_multiple(days, rhythm, pd.Index(["W"]))
    assert only_w.value == 2.0 and only_w.won_gaps == 40  # 1.5 floored to MIN_MULTIPLE
    both = derive_multiple(days, rhythm, pd.Index(["W", "V"]))
    # sorted ratios: 0.5 x20, 1.0 x30, 1.5 x20, 6.0 x1 (71); q95 position 0.95*70 = 66.5 -> 1.5
    assert both.won_gaps == 71 and both.value == 2.0
    v_only = derive_multiple(days, rhythm, pd.Index(["V"]))
    # 31 ratios: 1.0 x30, 6.0 x1; position 0.95*30 = 28.5 -> between two 1.0 -> 1.0 -> floor 2.0
    assert v_only.value == 2.0


def test_contact_change_is_dated_where_the_new_main_contact_is_established():
    # Window 30 days, at least 2 touches and a majority. 张总 Jan 1, 5, 9 (main); 李总 Jan 20
    # (window Dec 22-Jan 20: 张 3, 李 1: 张 stays); 李 Jan 25 (张 3, 李 2: no majority); 李 Feb 3
    # (window Jan 5-Feb 3: 张 2 (Jan 5, 9), 李 3 -> 李 main, majority 3/5) -> change on Feb 3.
    rows = [("A", d, "call", "张总") for d in ("2026-01-01", "2026-01-05", "2026-01-09")]
    rows += [("A", d, "meeting", "李总") for d in ("2026-01-20", "2026-01-25", "2026-02-03")]
    rows += [("A", "2026-02-04", "note", "王五")]  # notes do not count
    changes = contact_changes(log(rows))
    assert changes[["opportunity_id", "previous_contact", "new_contact"]].values.tolist() == [
        ["A", "张总", "李总"]
    ]
    assert changes["changed_at"].tolist() == [pd.Timestamp("2026-02-03")]
    # As of Feb 2 the change has not happened yet.
    assert contact_changes(log(rows), pd.Timestamp("2026-02-02")).empty


def test_a_second_person_now_and_then_is_not_a_change():
    # 张 every 5 days; 赵 once in between: 赵 never has 2 touches in a window -> no change.
    rows = [("A", f"2026-01-{d:02d}", "call", "张总") for d in (1, 6, 11, 16, 21, 26)]
    rows += [("A", "2026-01-13", "email", "赵经理")]
    assert contact_changes(log(rows)).empty


def test_features_use_only_the_past():
    rows = [("A", f"2026-01-{d:02d}", "call", "张总") for d in (1, 3, 5, 7)]
    rows += [("A", f"2026-01-{d}", "meeting", "李总") for d in (20, 22, 24, 26, 28)]
    rows += [("B", "2026-01-09", "email", "周工")]
    as_of = pd.Timestamp("2026-01-10")
    before = activity_features(log(rows), ["A", "B", "C"], as_of)
    # A: touches Jan 1,3,5,7 -> in (Jan 3, Jan 10]: 5,7 -> 2 in 7 days; 4 in 30 days; 3 days since
    # Jan 7; gaps 2,2,2 -> median 2; ratio 1.5; no contact change yet. B: one touch, no rhythm.
    assert before.loc["A", ["touches_7d", "touches_30d"]].tolist() == [2, 4]
    assert before.loc["A", "days_since_touch"] == 3.0
    assert before.loc["A", "own_median_gap"] == 2.0 and before.loc["A", "gap_ratio"] == 1.5
    assert not before.loc["A", "contact_changed"]
    assert before.loc["B", "touches_7d"] == 1 and np.isnan(before.loc["B", "own_median_gap"])
    assert before.loc["C", "touches_30d"] == 0 and np.isnan(before.loc["C", "days_since_touch"])
    # Future activities (after as_of) never change the result.
    future = rows + [("A", "2026-01-10 00:00:01", "call", "x"), ("C", "2026-02-01", "call", "y")]
    pd.testing.assert_frame_equal(before, activity_features(log(future), ["A", "B", "C"], as_of))
    # 李 on Jan 20-28: on Jan 26 the 30-day window holds 张 4, 李 4 (no majority); on Jan 28 李 5
    # of 9 -> the change is dated Jan 28.
    assert not activity_features(log(rows), ["A"], pd.Timestamp("2026-01-27")).loc[
        "A", "contact_changed"
    ]
    later = activity_features(log(rows), ["A"], pd.Timestamp("2026-01-29"))
    assert bool(later.loc["A", "contact_changed"])
    assert later.loc["A", "days_since_contact_change"] == 1.0


def test_multiple_above_the_floor_is_the_quantile():
    # Won deal Z3: gaps 1 (x24) then 8 (x6) -> median 1; ratios 1.0 x24 and 8.0 x6 (30 ratios,
    # the MIN_WON_GAPS minimum); numpy's linear q95 sits at position 0.95 * 29 = 27.55 of the
    # sorted ratios, inside the run of 8.0 (positions 24-29) -> 8.0.
    start = pd.Timestamp("2025-01-01")
    gaps = [1] * 24 + [8] * 6
    rows = [("Z3", start + pd.Timedelta(days=int(d)), "call", "x") for d in np.cumsum([0, *gaps])]
    days = touch_days(log(rows), pd.Timestamp("2026-01-01"))
    multiple = derive_multiple(days, own_rhythm(days), pd.Index(["Z3"]))
    assert multiple.won_gaps == 30 and multiple.value == 8.0 and multiple.source == "won-gaps"
