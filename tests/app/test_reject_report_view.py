"""The Data page's reject report folds identical entries into one line (issue 13)."""

from __future__ import annotations

from tests.unit.ingest_fixtures import csv_bytes

VIEW = "pages/data.py"


def test_144_identical_unknown_stage_rows_show_as_one_line_with_the_stage(open_app, empty_db_url):
    rows = [["Deal ID", "Deal Stage", "Amount", "Create Date"]]
    rows += [[f"D{i}", "Mystery phase", "100", "2024-01-05"] for i in range(144)]
    rows += [["E1", "Other riddle", "100", "2024-01-05"]]
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    at.file_uploader(key="ingest_upload").set_value(
        [("deals.csv", csv_bytes(rows), "text/csv")]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    report = next(d.value for d in at.dataframe if "Entries" in d.value.columns)
    stage = report.loc[report["Column"].eq("Deal Stage")].set_index("Raw value")
    assert stage["Entries"].to_dict() == {"Mystery phase": 144, "Other riddle": 1}
    assert (
        stage.at["Mystery phase", "Examples (file:line)"] == "deals.csv:2, deals.csv:3, deals.csv:4"
    )
    assert not report["Raw value"].isin(["D0", "D1", "E1"]).any()  # values, not record ids
    captions = " ".join(c.value for c in at.caption)
    assert "145 entries in 2 lines" in captions
