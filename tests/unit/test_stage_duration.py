"""A single "days in the current stage" column (Salesforce Stage Duration, 停留时长) without stage
history: the current stage's entry is dated from the export's date, flagged, and feeds time in the
current stage (watch lists, `metrics --json`), never the funnel basis."""

from __future__ import annotations

import pandas as pd
import pytest

from dealscope.metrics.cycle_summary import compute_cycle_document
from dealscope.metrics.stall import (
    compute_stage_intervals,
    compute_stall_lines,
    current_stage_ages,
    flag_open_deals,
)
from dealscope.model import Dataset
from tests.unit.ingest_fixtures import csv_bytes, run

# A Salesforce "Opportunities with stage duration" report. The export's date is the latest creation
# or activity moment: O1's last activity, 2024-03-01 00:00.
SALESFORCE = [
    ["Opportunity Name", "Account Name", "Opportunity Owner", "Stage", "Amount", "Created Date",
     "Close Date", "Stage Duration", "Last Activity"],
    ["O1", "Acme", "Ann", "Prospecting", "1000", "2024-01-01", "2024-06-30", "10", "2024-03-01"],
    ["O2", "Beta", "Bob", "Negotiation/Review", "2000", "2024-02-01", "2024-06-30", "45", ""],
    ["O3", "Gamma", "Ann", "Closed Won", "3000", "2024-01-05", "2024-02-20", "5", ""],
    ["O4", "Delta", "Bob", "Prospecting", "4000", "2024-02-10", "2024-06-30", "", ""],
    ["O5", "Eps", "Bob", "Prospecting", "5000", "2024-02-11", "2024-06-30", "soon", ""],
]  # fmt: skip
CHINESE = [
    ["商机名称", "负责人", "商机阶段", "商机金额", "创建时间", "阶段停留时长", "最后跟进时间"],
    ["甲", "王伟", "需求确认", "10000", "2024-05-01", "3.5", "2024-06-10 12:00"],
    ["乙", "李娜", "方案报价", "20000", "2024-04-01", "20", "2024-06-01"],
]  # fmt: skip


def _by_name(result) -> pd.DataFrame:
    return result.opportunities.set_index("name")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_salesforce_stage_duration_dates_the_current_stage(encoding):
    result = run({"report.csv": csv_bytes(SALESFORCE, encoding)})
    deals = _by_name(result)
    entered = deals["stage_entered_at"]
    # Hand-computed: 2024-03-01 minus 10 and 45 days.
    assert entered["O1"] == pd.Timestamp("2024-02-20")
    assert entered["O2"] == pd.Timestamp("2024-01-16")
    # A closed deal's stage time is not a current stage; blank and unreadable values stay unknown.
    assert entered[["O3", "O4", "O5"]].isna().all()
    flags = deals["flags"].fillna("")
    assert "stage-entry-derived" in flags["O1"] and "stage-entry-derived" in flags["O2"]
    assert "stage-entry-derived" not in flags["O4"]
    assert "bad-duration" in flags["O5"]
    bad = result.report[result.report["reason"] == "bad-duration"]
    assert bad["value"].tolist() == ["soon"] and bad["column"].tolist() == ["Stage Duration"]
    # Never history: the funnel stays on the snapshot basis.
    assert result.stage_events.empty
    assert any("days-in-stage column" in note for note in result.notes)
    # The source text is kept as read.
    assert '"Stage Duration":"45"' in deals.at["O2", "extra"]


def _dataset(result) -> Dataset:
    return Dataset(1, "t", result.opportunities, result.stage_events, result.stages, {})


def test_time_in_the_current_stage_reaches_the_watch_lists_and_the_cli_figures():
    result = run({"report.csv": csv_bytes(SALESFORCE)})
    dataset = _dataset(result)
    as_of = dataset.as_of
    assert as_of == pd.Timestamp("2024-03-01")
    intervals = compute_stage_intervals(dataset.stage_events, dataset.stages, as_of)
    lines = compute_stall_lines(intervals, dataset.stages)
    flags = flag_open_deals(dataset.opportunities, intervals, lines, as_of).set_index("name")
    assert flags.at["O1", "days_in_stage"] == pytest.approx(10.0)
    assert flags.at["O2", "days_in_stage"] == pytest.approx(45.0)
    assert flags[["days_in_stage"]].loc[["O4", "O5"]].isna().all().all()
    # Analysed ten days later the same deals have been in their stage ten days longer; analysed
    # before O1 entered its stage, its time in that stage is unknown.
    later = flag_open_deals(
        dataset.opportunities, intervals, lines, as_of + pd.Timedelta(days=10)
    ).set_index("name")
    assert later.at["O1", "days_in_stage"] == pytest.approx(20.0)
    earlier = flag_open_deals(
        dataset.opportunities, intervals, lines, pd.Timestamp("2024-02-15")
    ).set_index("name")
    assert pd.isna(earlier.at["O1", "days_in_stage"])
    assert earlier.at["O2", "days_in_stage"] == pytest.approx(30.0)

    ages = current_stage_ages(flags.reset_index(), dataset.stages).set_index("stage")
    assert ages.at["Prospecting", "open_deals"] == 3 and ages.at["Prospecting", "known"] == 1
    assert ages.at["Prospecting", "median"] == pytest.approx(10.0)
    assert ages.at["Negotiation/Review", "median"] == pytest.approx(45.0)

    document = compute_cycle_document(dataset, as_of)
    current = document["days_in_current_stage"]
    assert current["Prospecting"] == {"open_deals": 3, "known": 1, "median": 10.0, "p75": 10.0}
    assert current["Negotiation/Review"]["median"] == 45.0
    assert document["stalled"] is None  # no history, no stall line: unknown, not 0


def test_chinese_days_in_stage_column_in_gbk():
    result = run({"商机.csv": csv_bytes(CHINESE, "gbk")})
    deals = _by_name(result)
    # Export date = 甲's last follow-up, 2024-06-10 12:00; 3.5 days before it is 06-07 00:00.
    assert deals.at["甲", "stage_entered_at"] == pd.Timestamp("2024-06-07 00:00")
    assert deals.at["乙", "stage_entered_at"] == pd.Timestamp("2024-05-21 12:00")


def test_a_deal_with_stage_history_keeps_its_history():
    deals = [
        ["opportunity_id", "stage", "created_at", "Days in Stage"],
        ["A1", "Proposal", "2024-01-01", "99"],
        ["A2", "Proposal", "2024-01-02", "7"],
    ]
    log = [
        ["opportunity_id", "stage", "entered_at"],
        ["A1", "Qualify", "2024-01-01"],
        ["A1", "Proposal", "2024-02-01"],
    ]
    result = run({"deals.csv": csv_bytes(deals), "log.csv": csv_bytes(log)})
    entered = result.opportunities.set_index("opportunity_id")["stage_entered_at"]
    assert pd.isna(entered["A1"])  # history says 2024-02-01; the column is not used for A1
    # The export's date is the latest moment in the data, A1's entry on 2024-02-01.
    assert entered["A2"] == pd.Timestamp("2024-02-01") - pd.Timedelta(days=7)


def test_the_entry_date_survives_the_store(store_url):
    from dealscope import store
    from dealscope.ingest.persist import save_result

    result = run({"report.csv": csv_bytes(SALESFORCE)})
    engine = store.get_engine(store_url)
    try:
        dataset_id = save_result(engine, "sf", result)
        stored = store.read_dataset(engine, dataset_id).opportunities.set_index("name")
    finally:
        engine.dispose()
    assert stored.at["O2", "stage_entered_at"] == pd.Timestamp("2024-01-16")
    assert stored["stage_entered_at"].notna().sum() == 2


def test_an_older_store_without_the_column_gains_it(tmp_path):
    """A database written before the column existed is upgraded in place and reads it as empty."""
    import sqlalchemy as sa

    from dealscope import store
    from dealscope.ingest.persist import save_result

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = store.get_engine(url)
    save_result(engine, "sf", run({"report.csv": csv_bytes(SALESFORCE)}))
    engine.dispose()
    raw = sa.create_engine(url)
    with raw.begin() as conn:
        conn.execute(sa.text("ALTER TABLE opportunities DROP COLUMN stage_entered_at"))
    raw.dispose()
    engine = store.get_engine(url)
    try:
        reread = store.read_dataset(engine, "sf").opportunities
    finally:
        engine.dispose()
    assert reread["stage_entered_at"].isna().all() and len(reread) == 5
