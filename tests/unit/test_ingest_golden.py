"""Golden tests: one per export layout (METHODS.md §3), each CSV fixture in every encoding."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.ingest_fixtures import ENCODINGS, conserved, csv_bytes, reasons, run, xlsx_bytes

SF_REPORT = [
    ["Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period",
     "Amount Currency", "Amount", "Probability (%)", "Close Date", "Created Date", "Next Step",
     "Lead Source", "Type", "Opportunity ID"],
    ["Ann Lee", "Acme", "Acme renewal", "Closed Won", "Q1-2024", "USD", "$1,234,567", "100%",
     "3/15/2024", "1/5/2024", "", "Web", "New Business", "0061x00000AbCdE"],
    ["Bo Chen", "Globex", "Globex pilot", "Negotiation/Review", "Q2-2024", "USD", "$20,000.50",
     "90%", "6/30/2024", "2/1/2024", "Send quote", "Partner", "Existing Business", "0061x00000XyZ12"],
    [],
    ["Grand Totals (2 records)"],
    ["Confidential Information - Do Not Distribute"],
    ["Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."],
]  # fmt: skip
SF_HISTORY = [
    ["Opportunity Name", "Opportunity ID", "From Stage", "To Stage", "Last Modified", "Amount"],
    ["Acme renewal", "0061x00000AbCdE", "", "Prospecting", "1/5/2024", "1000"],
    ["Acme renewal", "0061x00000AbCdE", "Prospecting", "Qualification", "1/20/2024", "1000"],
    ["Acme renewal", "0061x00000AbCdE", "Qualification", "Qualification", "1/25/2024", "1200"],
    ["Acme renewal", "0061x00000AbCdE", "Qualification", "Closed Won", "3/15/2024", "1200"],
]  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_salesforce_report_with_footer_and_history(encoding):
    result = run(
        {
            "report.csv": csv_bytes(SF_REPORT, encoding),
            "history.csv": csv_bytes(SF_HISTORY, encoding),
        }
    )
    report, history = result.files
    assert (report.layout, history.layout) == ("salesforce_report", "salesforce_history")
    assert (report.rows_in, report.rows_loaded, report.rows_excluded) == (6, 2, 4)
    assert sorted(r for _, r in reasons(result, "excluded")) == [
        "blank-row",
        "not-a-stage-change",
        "total-row",
        "total-row",
        "total-row",
    ]
    opps = result.opportunities.set_index("opportunity_id")
    acme = opps.loc["0061x00000AbCdE"]
    assert acme["amount"] == 1_234_567 and acme["currency"] == "USD" and acme["status"] == "won"
    assert acme["closed_at"] == pd.Timestamp("2024-03-15") and acme["created_at"] == pd.Timestamp(
        "2024-01-05"
    )
    globex = opps.loc["0061x00000XyZ12"]
    assert globex["status"] == "open" and pd.isna(globex["closed_at"])
    assert globex["expected_close_at"] == pd.Timestamp("2024-06-30")  # an open deal's close date
    assert globex["amount"] == 20_000.5 and globex["next_step"] == "Send quote"
    assert '"Probability (%)":"90%"' in globex["extra"]
    events = result.stage_events
    assert events["stage"].tolist() == ["Prospecting", "Qualification", "Closed Won"]
    assert list(result.stages["stage"][:2]) == ["Prospecting", "Qualification"]
    assert conserved(result)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_salesforce_field_history_alone_derives_deals(encoding):
    rows = [
        ["Opportunity Name", "Field / Event", "Old Value", "New Value", "Edit Date", "Edited By"],
        ["Acme", "Created.", "", "", "2024-01-05", "Ann"],
        ["Acme", "Stage", "Prospecting", "Qualification", "2024-01-20", "Ann"],
        ["Acme", "Amount", "1000", "1200", "2024-01-25", "Ann"],
        ["Acme", "Stage", "Qualification", "Closed Lost", "2024-02-10", "Ann"],
    ]
    result = run({"fh.csv": csv_bytes(rows, encoding)})
    (file,) = result.files
    assert file.layout == "salesforce_field_history"
    assert (file.rows_loaded, file.rows_excluded) == (3, 1)
    events = result.stage_events
    assert events["stage"].tolist() == ["Prospecting", "Qualification", "Closed Lost"]
    assert events["entered_at"].iloc[0] == pd.Timestamp("2024-01-05")
    deal = result.opportunities.iloc[0]
    assert (deal["opportunity_id"], deal["stage"], deal["status"]) == (
        "Acme",
        "Closed Lost",
        "lost",
    )
    assert deal["closed_at"] == pd.Timestamp("2024-02-10")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_hubspot_deals_with_date_entered_columns(encoding):
    rows = [
        ["Record ID", "Deal Name", "Deal Stage", "Create Date", "Close Date", "Deal owner", "Amount", "Pipeline",
         'Date entered "Appointment Scheduled (Sales Pipeline)"', 'Date entered "Closed Won (Sales Pipeline)"'],
        ["0012", "Big deal", "Closed Won", "2024-03-01 10:00", "2024-04-02", "Ann", "5000", "Sales Pipeline",
         "2024-03-01 10:00", "2024-04-02 09:30"],
        ["0013", "Small deal", "Appointment Scheduled", "2024-03-05", "", "Bo", "", "Sales Pipeline",
         "2024-03-05", ""],
    ]  # fmt: skip
    result = run(
        {
            "hubspot-crm-exports-all-deals.csv": csv_bytes(
                rows, encoding, "\t" if encoding == "utf-16" else ","
            )
        }
    )
    (file,) = result.files
    assert file.layout == "hubspot_deals" and file.rows_loaded == 2
    assert result.opportunities["opportunity_id"].tolist() == ["0012", "0013"]  # leading zeros kept
    events = result.stage_events
    assert list(zip(events["opportunity_id"], events["stage"], strict=True)) == [
        ("0012", "Appointment Scheduled"),
        ("0012", "Closed Won"),
        ("0013", "Appointment Scheduled"),
    ]
    assert events["entered_at"].iloc[1] == pd.Timestamp("2024-04-02 09:30")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_pipedrive_status_column_decides_outcome(encoding):
    rows = [
        ["Deal - ID", "Deal - Title", "Deal - Owner", "Deal - Value", "Deal - Currency of value",
         "Deal - Organization", "Deal - Stage", "Deal - Status", "Deal - Deal created",
         "Deal - Deal closed on", "Deal - Lost reason", "Deal - Expected close date"],
        ["7", "Widgets", "Ann", "1500", "EUR", "Initech", "Proposal Made", "lost", "2024-01-02 08:00:00",
         "2024-02-03 10:00:00", "Price", "2024-02-28"],
        ["8", "Gadgets", "Bo", "900", "EUR", "Hooli", "Negotiations Started", "won", "2024-01-05 09:00:00",
         "2024-03-01 12:00:00", "", ""],
        ["9", "Gizmos", "Bo", "300", "EUR", "Hooli", "Qualified", "open", "2024-02-05 09:00:00", "", "", ""],
    ]  # fmt: skip
    result = run({"deals.csv": csv_bytes(rows, encoding)})
    assert result.files[0].layout == "pipedrive_deals"
    opps = result.opportunities.set_index("opportunity_id")
    assert opps["status"].tolist() == ["lost", "won", "open"]
    assert opps.loc["7", "lost_reason"] == "Price" and opps.loc["7", "currency"] == "EUR"
    assert opps.loc["8", "account"] == "Hooli"
    assert not result.unknown_stages


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_zoho_deals_and_stage_history_linked_by_name(encoding):
    deals = [
        ["Record Id", "Deal Name", "Account Name", "Account Name.id", "Stage", "Closing Date", "Amount",
         "Lead Source", "Type", "Deal Owner", "Created Time"],
        ["zcrm_1", "Deal A", "Acme", "zcrm_9", "Closed Won", "2024-03-10", "1,000.00", "Web", "New", "Ann",
         "2024-01-01 09:00:00"],
        ["zcrm_2", "Deal B", "Acme", "zcrm_9", "Qualification", "2024-05-01", "2,000.00", "Web", "New", "Ann",
         "2024-02-01 09:00:00"],
    ]  # fmt: skip
    history = [
        ["Deal Name", "Stage", "Stage Duration (Calendar Days)", "Probability (%)", "Moved To", "Amount",
         "Modified By", "Modified Time"],
        ["Deal A", "Qualification", "30", "10", "Closed Won", "1000", "Ann", "2024-01-01 09:00:00"],
        ["Deal A", "Closed Won", "", "100", "", "1000", "Ann", "2024-03-10 12:00:00"],
        ["Deal B", "Qualification", "", "10", "", "2000", "Ann", "2024-02-01 09:00:00"],
    ]  # fmt: skip
    result = run(
        {"Deals.csv": csv_bytes(deals, encoding), "Stage_History.csv": csv_bytes(history, encoding)}
    )
    assert [f.layout for f in result.files] == ["zoho_deals", "zoho_stage_history"]
    events = result.stage_events
    assert events["opportunity_id"].tolist() == ["zcrm_1", "zcrm_1", "zcrm_2"]
    assert events["stage"].tolist() == ["Qualification", "Closed Won", "Qualification"]
    assert "history linked to deals by name" in result.notes
    assert result.counts == {"rows_in": 5, "rows_loaded": 5, "rows_rejected": 0, "rows_excluded": 0}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_generic_stage_log_with_deals(encoding):
    deals = [["opportunity_id", "stage", "amount"], ["A1", "Won", "10"], ["A2", "Engaging", "5"]]
    log = [["opportunity_id", "stage", "entered_at"], ["A1", "Engaging", "2024-01-01"],
           ["A1", "Won", "2024-02-01"], ["A2", "Engaging", "2024-01-15"], ["ZZ", "Won", "2024-01-20"]]  # fmt: skip
    result = run({"deals.csv": csv_bytes(deals, encoding), "log.csv": csv_bytes(log, encoding)})
    assert result.files[1].layout == "stage_log"
    assert len(result.stage_events) == 3
    assert reasons(result, "rejected") == [(5, "unknown-opportunity")]
    assert conserved(result)


CHINESE = [
    ["商机编号", "商机名称", "客户名称", "负责人", "所属区域", "行业", "商机来源", "客户类型", "商机金额",
     "商机阶段", "创建时间", "结单日期", "预计成交日期", "最后跟进时间", "输单原因"],
    ["000123", "华东制造项目", "上海某某机械有限公司", " 王伟 ", "华东", "制造业", "展会", "新客户", "¥12.5万",
     "赢单", "2024年3月5日", "2024/4/1", "2024.4.1", "2024-03-30 14:30", ""],
    ["000124", "NA", "None", "李娜", "华北", "金融", "官网", "老客户", "8,000元", "输单", "2024-03-06",
     "2024-03-20", "", "", "价格过高"],
    ["000125", "零售试点", "某零售", "李娜", "华北", "零售", "官网", "老客户", "3000", "需求确认",
     "2024-03-07", "", "2024-05-01", "", ""],
    ["合计", "", "", "", "", "", "", "", "133,000", "", "", "", "", "", ""],
]  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_chinese_crm_export(encoding):
    result = run({"商机导出.csv": csv_bytes(CHINESE, encoding)})
    (file,) = result.files
    assert file.layout == "chinese_crm" and (
        file.rows_in,
        file.rows_loaded,
        file.rows_excluded,
    ) == (4, 3, 1)
    assert reasons(result, "excluded") == [(5, "total-row")]
    opps = result.opportunities.set_index("opportunity_id")
    assert list(opps.index) == ["000123", "000124", "000125"]
    first = opps.loc["000123"]
    assert first["amount"] == 125_000 and first["currency"] == "CNY" and first["owner"] == "王伟"
    assert first["created_at"] == pd.Timestamp("2024-03-05") and first["closed_at"] == pd.Timestamp(
        "2024-04-01"
    )
    assert first["last_activity_at"] == pd.Timestamp("2024-03-30 14:30")
    assert opps.loc["000124", "name"] == "NA" and opps.loc["000124", "account"] == "None"  # A7
    assert opps["status"].tolist() == ["won", "lost", "open"]
    assert list(result.stages["stage"]) == ["需求确认", "赢单", "输单"]


def test_chinese_xlsx_with_title_row_and_two_row_header():
    header_group = ["商机编号", "客户信息", None, "商机信息", None, None, None]
    header = [None, "客户名称", "负责人", "商机金额", "商机阶段", "创建时间", "结单日期"]
    data = [
        [
            "000123",
            "甲公司",
            "王伟",
            125000,
            "赢单",
            pd.Timestamp("2024-03-05").to_pydatetime(),
            45383,
        ],
        ["000124", "乙公司", "李娜", "8,000元", "需求确认", "2024年3月6日", None],
    ]
    rows = [["商机导出 2024年3月"], header_group, header, *data]
    xlsx = xlsx_bytes(rows, merges=("A1:G1", "B2:C2", "D2:G2", "A2:A3"))
    result = run({"商机.xlsx": xlsx})
    (file,) = result.files
    assert file.sheet == "Sheet1" and (file.rows_in, file.rows_loaded, file.rows_excluded) == (
        3,
        2,
        1,
    )
    assert reasons(result, "excluded") == [(1, "title-row")]
    mapped = {c.source: c.target for c in file.columns}
    assert mapped["客户信息/客户名称"] == "account" and mapped["商机信息/商机金额"] == "amount"
    opps = result.opportunities.set_index("opportunity_id")
    assert opps.loc["000123", "closed_at"] == pd.Timestamp("2024-04-01")  # Excel serial 45383
    assert opps.loc["000124", "amount"] == 8000
