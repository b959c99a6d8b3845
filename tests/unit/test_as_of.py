"""The analysis date is the export's: inference, late close dates, and every deal counted once.

Expected values are read off the hand-written rows below.
"""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.kpis import compute_summary, status_as_of
from dealscope.metrics.reps import compute_report_reps
from dealscope.model import (
    CLOSE_AFTER_AS_OF,
    Dataset,
    empty_opportunities,
    infer_as_of,
    normalise_opportunities,
    normalise_stage_events,
    settle_late_closes,
)

D = pd.Timestamp
ROWS = [
    # id, owner, status, created, closed, last activity, amount, flags
    ("a", "Ann", "won", "2024-01-02", "2024-01-20", "2024-01-19", 100.0, None),
    (
        "b",
        "Ann",
        "lost",
        "2024-01-05",
        "2024-09-30",
        "2024-02-01",
        50.0,
        None,
    ),  # close after export
    ("c", "Bob", "won", "2024-02-10", "2024-02-01", None, 30.0, "close-before-create"),
    ("d", "Bob", "open", "2024-02-20", None, "2024-03-01", 70.0, None),  # latest activity
    ("e", "Bob", "lost", "2024-01-10", "2024-02-15", None, 20.0, None),
]


def frame(rows=ROWS) -> pd.DataFrame:
    columns = ["opportunity_id", "owner", "status", "created_at", "closed_at"]
    columns += ["last_activity_at", "amount", "flags"]
    return normalise_opportunities(pd.DataFrame(rows, columns=columns))


def dataset(opportunities: pd.DataFrame, events: pd.DataFrame | None = None) -> Dataset:
    events = normalise_stage_events(events if events is not None else pd.DataFrame())
    meta = {"created_at": D("2026-05-01 12:00")}
    return Dataset(1, "t", opportunities, events, pd.DataFrame(), meta)


def test_a_future_close_date_does_not_move_as_of():
    assert infer_as_of(frame()) == D("2024-03-01")  # d's last activity, not b's 2024-09-30


def test_stage_entries_count_towards_as_of():
    events = pd.DataFrame({"opportunity_id": ["d"], "stage": ["x"], "entered_at": ["2024-03-05"]})
    assert infer_as_of(frame(), normalise_stage_events(events)) == D("2024-03-05")


def test_close_dates_alone_give_as_of_and_no_dates_give_none():
    only_closed = frame().assign(created_at=pd.NaT, last_activity_at=pd.NaT)
    assert infer_as_of(only_closed) == D("2024-09-30")
    assert infer_as_of(empty_opportunities()) is None
    undated = dataset(frame().assign(created_at=pd.NaT, closed_at=pd.NaT, last_activity_at=pd.NaT))
    assert undated.data_as_of is None and undated.as_of == D("2026-05-01 12:00")  # saved time
    assert not undated.has_dates


def test_lost_with_future_close_date_stays_lost_and_is_flagged():
    settled = dataset(frame()).settled()
    assert settled.as_of == D("2024-03-01") and settled.late_closes == 1
    b = settled.opportunities.set_index("opportunity_id").loc["b"]
    assert b["status"] == "lost" and pd.isna(b["closed_at"]) and b["flags"] == CLOSE_AFTER_AS_OF
    status = status_as_of(settled.opportunities, settled.as_of)
    assert status.tolist() == ["won", "lost", "won", "open", "lost"]
    # The unsettled frame would have reopened it: that is the bug this guards against.
    assert status_as_of(frame(), D("2024-03-01")).tolist()[1] == "open"


def test_flag_is_appended_to_existing_flags():
    rows = [("x", "Ann", "won", "2024-01-01", "2024-05-01", None, 1.0, "negative-amount")]
    settled = settle_late_closes(frame(rows), D("2024-02-01"))
    assert settled["flags"].tolist() == [f"negative-amount,{CLOSE_AFTER_AS_OF}"]


def test_closed_before_created_is_counted_and_every_deal_once():
    settled = dataset(frame()).settled()
    summary = compute_summary(settled.opportunities, settled.as_of)
    assert (summary["won"], summary["lost"], summary["open"]) == (2, 2, 1)  # a, c / b, e / d
    assert summary["won"] + summary["lost"] + summary["open"] == summary["opportunities"] == 5
    assert summary["win_rate_count"] == 2 / 4
    assert summary["win_rate_value"] == (100 + 30) / (100 + 30 + 50 + 20)
    # c's negative duration is a data error, not a time to win: only a's 18 days remain.
    assert summary["median_days_to_win"] == 18.0


def test_undated_data_still_counts_by_owner():
    undated = frame().assign(created_at=pd.NaT, closed_at=pd.NaT, last_activity_at=pd.NaT)
    as_of = D("2026-05-01")
    summary = compute_summary(undated, as_of)
    assert (summary["opportunities"], summary["won"], summary["lost"], summary["open"]) == (
        5,
        2,
        2,
        1,
    )
    assert summary["median_days_to_win"] is None
    reps = {r["owner"]: r for r in compute_report_reps(undated, as_of)}
    assert (reps["Ann"]["won"], reps["Ann"]["lost"], reps["Ann"]["open"]) == (1, 1, 0)
    assert (reps["Bob"]["won"], reps["Bob"]["lost"], reps["Bob"]["open"]) == (1, 1, 1)
    assert reps["Ann"]["win_rate"] == 0.5


def test_an_earlier_chosen_date_reopens_deals_closed_after_it():
    chosen = dataset(frame()).settled().at(D("2024-01-31"))
    assert chosen.as_of == D("2024-01-31") and chosen.data_as_of == D("2024-03-01")
    summary = compute_summary(chosen.opportunities, chosen.as_of)
    # Created by Jan 31: a (won Jan 20), b (lost, close unknown → lost), e (closed Feb 15 → open).
    assert (summary["opportunities"], summary["won"], summary["lost"], summary["open"]) == (
        3,
        1,
        1,
        1,
    )
