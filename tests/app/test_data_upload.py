"""AppTest of the Data page's upload: counts, reject report, mapping, save; Maven on the Overview."""

from __future__ import annotations

import pytest

from dealscope import store
from dealscope.ingest.persist import save_result
from dealscope.ingest.pipeline import SourceFile, ingest_files
from tests.unit.ingest_fixtures import csv_bytes, maven_dir

VIEW = "pages/data.py"
MAVEN_DIR = maven_dir()
ROWS = [
    ["商机编号", "商机名称", "负责人", "商机金额", "商机阶段", "创建时间", "结单日期"],
    ["001", "=HYPERLINK(\"http://x\",\"click\")", "王伟", "¥12.5万", "赢单", "2024年3月5日", "2024/4/1"],
    ["002", "<script>alert(1)</script>", "李娜", "8,000元", "输单", "2024-03-06", "2024-03-20"],
    ["003", "多一列", "李娜", "1", "赢单", "2024-03-06", "2024-03-20", "多余"],
    ["002", "重复", "李娜", "1", "赢单", "2024-03-06", "2024-03-20"],
    ["合计", "", "", "133,000", "", "", ""],
]  # fmt: skip


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at, files):
    at.file_uploader(key="ingest_upload").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_upload_shows_counts_and_the_reject_report_then_saves(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    upload(at, [("商机.csv", csv_bytes(ROWS, "gb18030"), "text/csv")])
    shown = metrics(at)
    assert (shown["Rows in"], shown["Loaded"], shown["Rejected"], shown["Excluded"]) == (
        "5",
        "2",
        "2",
        "1",
    )
    assert shown["Opportunities"] == "2"
    report = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    # One line per distinct entry; its examples name the file and line ("商机.csv:4").
    lines = report["Examples (file:line)"].str.split(", ").str[0].str.rsplit(":", n=1).str[1]
    reasons = dict(zip(lines.astype(int), report["Reason"], strict=False))
    assert reasons[4] == "more fields than the header" and reasons[5] == "duplicate opportunity id"
    assert reasons[6] == "total / subtotal / report footer"
    assert {b.label for b in at.download_button} >= {"Download CSV", "Download Excel"} or len(
        at.download_button
    ) >= 2
    files = at.dataframe[0].value
    assert (
        files.iloc[0]["Recognised as"] == "Chinese CRM export"
        and files.iloc[0]["Encoding"] == "gb18030"
    )
    at.text_input(key="ingest_name").set_value("上传测试").run()
    at.button(key="ingest_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved dataset 上传测试" in s.value for s in at.success)
    listing = at.dataframe[-1].value
    assert listing.iloc[0]["Name"] == "上传测试" and listing.iloc[0]["Rejected"] == 2
    engine = store.get_engine(empty_db_url)
    names = store.read_dataset(engine, "上传测试").opportunities["name"].tolist()
    engine.dispose()
    assert names == [
        '=HYPERLINK("http://x","click")',
        "<script>alert(1)</script>",
    ]  # stored verbatim


def test_script_variant_option_maps_traditional_names_and_is_saved(open_app, empty_db_url):
    rows = [["商机编号", "负责人", "商机阶段"], ["1", "張偉", "赢单"], ["2", "张伟", "输单"]]
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    upload(at, [("v.csv", csv_bytes(rows), "text/csv")])
    option = at.checkbox(key="ingest_simplified")
    assert option.value is False and option.label.startswith("Treat traditional and simplified")
    assert "mapped to simplified" not in at.dataframe[0].value.iloc[0]["Notes"]  # off by default
    option.check().run()
    assert not at.exception, [e.value for e in at.exception]
    assert (
        "负责人: 1 values mapped to simplified script (張偉 → 张伟)"
        in at.dataframe[0].value.iloc[0]["Notes"]
    )
    at.text_input(key="ingest_name").set_value("variants").run()
    at.button(key="ingest_save").click().run()
    engine = store.get_engine(empty_db_url)
    dataset = store.read_dataset(engine, "variants")
    engine.dispose()
    assert dataset.opportunities["owner"].tolist() == ["张伟", "张伟"]
    assert dataset.meta["settings"]["traditional_to_simplified"] is True


def test_unreadable_upload_shows_a_message_not_a_traceback(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    upload(at, [("fake.xlsx", b"id,stage\n1,Won\n", "application/vnd.ms-excel")])
    assert any("file type mismatch" in e.value for e in at.error)


def test_missing_required_columns_are_named(open_app, empty_db_url):
    rows = [["deal", "note", "value"], ["A1", "x", "10"], ["A2", "y", "5"]]  # no stage, no outcome
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    upload(at, [("custom.csv", csv_bytes(rows), "text/csv")])
    # Not a dead end: the mapping step opens, says what is missing and marks the roles.
    assert any("required columns missing" in w.value for w in at.warning)
    assert any("Missing role: outcome" in e.value for e in at.error)
    # No id column is no refusal (ids are generated from file and line), so it is not marked.
    assert not any("Missing role: deal identity" in e.value for e in at.error)


@pytest.mark.skipif(
    not MAVEN_DIR.exists(), reason=f"Maven dataset not found at {MAVEN_DIR} (../shared is absent)"
)
def test_maven_pipeline_on_the_overview(open_app, empty_db_url):
    sources = [
        SourceFile(n, (MAVEN_DIR / n).read_bytes())
        for n in ("sales_pipeline.csv", "sales_teams.csv")
    ]
    result = ingest_files(sources)
    pipeline = result.files[0]
    assert (
        pipeline.rows_in
        == 8_800
        == pipeline.rows_loaded + pipeline.rows_rejected + pipeline.rows_excluded
    )
    engine = store.get_engine(empty_db_url)
    save_result(engine, "maven", result)
    engine.dispose()
    at = open_app(empty_db_url, "pages/overview.py", query={"lang": "en"})
    shown = metrics(at)
    assert shown["Win rate (count)"] == "63.2%"
    assert shown["Average won deal"] in {"$2,361", "2,361"}
