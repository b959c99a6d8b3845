"""The reject report names the offending cell, and the screen folds identical entries (issue 13)."""

import pandas as pd

from dealscope.ingest.report import summarise_report
from tests.unit.ingest_fixtures import csv_bytes, run

HEADER = ["Deal ID", "Deal Stage", "Amount", "Create Date", "Close Date"]


def unknown_stage_file(n: int) -> bytes:
    """n deals in a stage no vocabulary knows (lines 2..n+1), then two in another unknown stage
    and one with a negative amount written as the export writes it."""
    rows = [HEADER]
    rows += [[f"D{i}", "Mystery phase", "100", "2024-01-05", ""] for i in range(n)]
    rows += [[f"E{i}", "Other riddle", "100", "2024-01-05", ""] for i in range(2)]
    rows += [["N1", "Closed Won", "-1,250.00", "2024-01-05", "2024-02-01"]]
    return csv_bytes(rows)


def test_row_flags_show_the_cell_as_read_and_the_record_apart():
    report = run({"deals.csv": unknown_stage_file(3)}).report
    stage = report[report["reason"].eq("unknown-stage")]
    assert stage["column"].unique().tolist() == ["Deal Stage"]
    assert stage["value"].tolist() == ["Mystery phase"] * 3 + ["Other riddle"] * 2
    assert stage["record"].tolist() == ["D0", "D1", "D2", "E0", "E1"]
    amount = report[report["reason"].eq("negative-amount")].iloc[0]
    # The text of the cell, not the parsed number, and never the record id.
    assert (amount["column"], amount["value"], amount["record"]) == ("Amount", "-1,250.00", "N1")
    assert amount["line"] == 7


def test_future_and_missing_dates_name_their_column():
    rows = [
        HEADER,
        ["F1", "Qualified", "10", "2027-03-05", ""],  # created after the clock (2026-11-26)
        ["F2", "Closed Won", "10", "2024-03-05", "2028-01-02"],  # closed in the future
        ["M1", "Closed Won", "10", "", "2024-02-01"],  # no creation date
    ]
    report = run({"deals.csv": csv_bytes(rows)}).report.set_index(["record", "reason"])
    assert report.loc[("F1", "future-date"), ["column", "value"]].tolist() == [
        "Create Date",
        "2027-03-05",
    ]
    assert report.loc[("F2", "future-date"), ["column", "value"]].tolist() == [
        "Close Date",
        "2028-01-02",
    ]
    assert report.loc[("M1", "missing-created"), "column"] == "Create Date"
    assert report.loc[("M1", "missing-created"), "value"] in ("", None) or pd.isna(
        report.loc[("M1", "missing-created"), "value"]
    )


def test_identical_entries_fold_into_one_line_with_count_and_examples():
    report = run({"deals.csv": unknown_stage_file(144)}).report
    assert (report["reason"] == "unknown-stage").sum() == 146  # the download keeps every entry
    summary = summarise_report(report)
    stage = summary[summary["reason"].eq("unknown-stage")].set_index("value")
    assert stage["count"].to_dict() == {"Mystery phase": 144, "Other riddle": 2}
    assert stage.at["Mystery phase", "examples"] == "deals.csv:2, deals.csv:3, deals.csv:4"
    assert stage.at["Other riddle", "examples"] == "deals.csv:146, deals.csv:147"
    assert summary["count"].sum() == len(report)
    assert len(summary) == 3  # two unknown stages and the negative amount


def test_summary_keeps_distinct_values_and_missing_keys_apart():
    report = pd.DataFrame(
        {
            "file": ["a.csv", "a.csv", "b.xlsx", "a.csv"],
            "sheet": [None, None, "S", None],
            "line": pd.array([5, 9, None, 12], dtype="Int64"),
            "outcome": ["rejected", "rejected", "rejected", "excluded"],
            "reason": ["bad-date", "bad-date", "bad-date", "blank-row"],
            "column": ["Close", "Close", "Close", None],
            "value": ["31/02", "31/02", "x", None],
            "detail": [None] * 4,
            "record": [None] * 4,
        }
    )
    summary = summarise_report(report)
    assert summary["count"].tolist() == [2, 1, 1]
    assert summary["examples"].tolist() == ["a.csv:5, a.csv:9", "b.xlsx", "a.csv:12"]
    assert summary["value"].tolist()[:2] == ["31/02", "x"]
    assert summarise_report(report.iloc[0:0]).empty
