"""Golden tests: each CRM's activity layout, built in code, mapped, linked and accounted for."""

import io

import pandas as pd
import pytest
from openpyxl import Workbook

from dealscope.activity.ingest import ingest_activity_files
from dealscope.ingest.errors import MappingError


@pytest.fixture
def opps():
    return pd.DataFrame(
        {
            "opportunity_id": ["006A", "006B", "006C", "D4"],
            "name": ["Acme - ERP", "Beta - CRM", "Gamma 云迁移", "Gamma 云迁移"],
            "owner": ["Ann", "Bob", "王伟", "王伟"],
        }
    )


def csv_bytes(rows, encoding="utf-8"):
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.to_csv(index=False).encode(encoding)


def test_salesforce_activity_history_links_by_related_to_name(opps):
    data = csv_bytes(
        [
            ["Subject", "Task Subtype", "Date", "Assigned", "Related To", "Name", "Status"],
            ["Call Joe", "Call", "2026-03-02", "Ann", "Acme - ERP", "Joe Lee", "Completed"],
            ["Sent deck", "Email", "2026-03-04", "Ann", "acme - erp", "Joe Lee", "Completed"],
            ["Kickoff", "Event", "2026-03-05", "", "Beta - CRM", "Sue Ray", "Completed"],
            ["Plan", "Task", "2026-03-09", "Bob", "Beta - CRM", "", "Not Started"],
            ["Ghost", "Call", "2026-03-06", "Bob", "Nope Inc", "", "Completed"],
        ]
    )
    result = ingest_activity_files([("sf_activities.csv", data)], opps)
    report = result.files[0]
    assert report.layout == "salesforce"
    assert (report.rows_in, report.rows_loaded, report.rows_rejected, report.rows_excluded) == (
        5,
        3,
        1,
        1,
    )
    # Every row needed its name (no id column); 4 of 5 names matched, the not-done row included.
    assert report.linked_by_name == 4 and report.name_lookups == 5
    assert report.name_match_rate == 0.8
    acts = result.activities
    assert acts["opportunity_id"].tolist() == ["006A", "006A", "006B"]
    assert acts["activity_type"].tolist() == ["call", "email", "meeting"]
    assert acts["owner"].tolist() == ["Ann", "Ann", "Bob"]  # missing owner -> the deal's owner
    assert acts["contact"].tolist() == ["Joe Lee", "Joe Lee", "Sue Ray"]
    rows = result.rows.set_index("line")
    assert rows.loc[5, "reason"] == "not-done" and rows.loc[5, "outcome"] == "excluded"
    assert rows.loc[6, "reason"] == "deal-not-found" and rows.loc[6, "value"] == "Nope Inc"
    assert rows.loc[6, "column"] == "Related To"


def test_salesforce_task_export_links_by_what_id(opps):
    data = csv_bytes(
        [
            ["Id", "WhatId", "WhoId", "Subject", "ActivityDate", "OwnerId", "TaskSubtype"],
            ["00T1", "006A", "003X", "Call", "2026-03-02", "005A", "Call"],
            ["00T2", "006Z", "003X", "Call", "2026-03-03", "005A", "Call"],
        ]
    )
    result = ingest_activity_files([("Task.csv", data)], opps)
    report = result.files[0]
    assert report.layout == "salesforce" and report.linked_by_id == 1
    assert result.rows["reason"].tolist() == ["deal-not-found"]


def test_hubspot_engagements(opps):
    data = csv_bytes(
        [
            ["Activity date", "Activity type", "Associated Deal IDs", "Associated Contact",
             "Activity assigned to", "Body preview"],
            ["2026-03-02 10:15", "CALL", "006B", "Kim Li", "Bob", "intro"],
            ["2026-03-03 11:00", "MEETING", "006B;006A", "Kim Li", "Bob", "demo"],
            ["2026-03-04 09:00", "NOTE", "006B", "", "Bob", "internal"],
            ["2026-03-05 09:00", "EMAIL", "", "Kim Li", "Bob", "contact only"],
        ]
    )  # fmt: skip
    result = ingest_activity_files([("hubspot.csv", data)], opps)
    report = result.files[0]
    assert report.layout == "hubspot"
    assert (report.rows_loaded, report.rows_rejected, report.rows_excluded) == (3, 0, 1)
    acts = result.activities
    assert acts["activity_type"].tolist() == ["call", "meeting", "note"]
    assert acts["occurred_at"].tolist()[0] == pd.Timestamp("2026-03-02 10:15")
    assert acts["opportunity_id"].tolist() == ["006B"] * 3  # first of several ids
    assert result.rows["reason"].tolist() == ["no-deal"]


def test_pipedrive_activities_with_done_flag(opps):
    data = csv_bytes(
        [
            ["Subject", "Type", "Due date", "Done", "Deal ID", "Deal title", "Contact person",
             "Assigned to user"],
            ["Call", "call", "2026-03-02", "1", "006C", "Gamma 云迁移", "刘总", "王伟"],
            ["Lunch", "lunch", "2026-03-03", "1", "", "Gamma 云迁移", "刘总", "王伟"],
            ["Follow", "call", "2026-03-10", "0", "006C", "", "刘总", "王伟"],
            ["Deadline", "deadline", "not a date", "1", "006C", "", "", "王伟"],
        ]
    )  # fmt: skip
    result = ingest_activity_files([("pipedrive.csv", data)], opps)
    report = result.files[0]
    assert report.layout == "pipedrive"
    assert (report.rows_loaded, report.rows_rejected, report.rows_excluded) == (1, 2, 1)
    reasons = result.rows.set_index("line")["reason"].to_dict()
    assert reasons == {3: "deal-name-ambiguous", 4: "not-done", 5: "bad-date"}


def test_chinese_follow_up_log_in_gbk(opps):
    data = csv_bytes(
        [
            ["商机编号", "商机名称", "跟进时间", "跟进方式", "跟进人", "联系人", "跟进内容"],
            ["006C", "Gamma 云迁移", "2026/3/2 10:00", "电话", "王伟", "刘总", "确认需求"],
            ["D4", "", "2026/3/3", "拜访", "王伟", "刘总", "上门"],
            ["D4", "", "2026/3/4", "微信", "王伟", "陈工", "发资料"],
            ["D4", "", "2026/3/5", "邮件", "王伟", "陈工", "报价"],
            ["D4", "", "", "微信", "王伟", "陈工", "无日期"],
            ["D4", "", "2026/3/6", "飞鸽传书", "王伟", "陈工", "未知方式"],
        ],
        encoding="gbk",
    )
    result = ingest_activity_files([("跟进记录.csv", data)], opps)
    report = result.files[0]
    assert report.layout == "chinese" and report.encoding in {"gb18030", "gbk", "gb2312"}
    assert (report.rows_loaded, report.rows_rejected, report.rows_excluded) == (5, 1, 0)
    acts = result.activities
    assert acts["activity_type"].tolist() == ["call", "meeting", "message", "email", "other"]
    assert report.unknown_types == ("飞鸽传书",)
    assert acts["subject"].tolist()[0] == "确认需求"
    assert result.rows["reason"].tolist() == ["missing-date"]


def test_chinese_log_as_xlsx(opps):
    book = Workbook()
    sheet = book.active
    sheet.append(["跟进记录导出"])  # a title row above the header
    sheet.append(["商机编号", "跟进时间", "跟进方式", "跟进人", "联系人"])
    sheet.append(["006A", "2026-03-02", "拜访", "Ann", "钱总"])
    sheet.append(["006B", "2026-03-03", "电话", "Bob", "孙总"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = ingest_activity_files([("跟进.xlsx", buffer.getvalue())], opps)
    report = result.files[0]
    assert (report.rows_in, report.rows_loaded, report.rows_excluded) == (3, 2, 1)
    assert result.activities["activity_type"].tolist() == ["meeting", "call"]


def test_a_file_without_a_date_column_is_one_clear_error(opps):
    data = csv_bytes([["商机编号", "跟进方式"], ["006A", "电话"]])
    with pytest.raises(MappingError, match="no activity date column"):
        ingest_activity_files([("x.csv", data)], opps)
