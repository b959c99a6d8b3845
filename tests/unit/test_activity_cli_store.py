"""`python -m dealscope ingest-activities`, the activities table, and the demo's follow-up log."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dealscope import store
from dealscope.activity.contacts import contact_changes
from dealscope.activity.store import read_activities, write_activities
from dealscope.cli import main
from dealscope.demo import DEMO_SEED, generate_demo
from dealscope.demo_activity import generate_demo_activities
from dealscope.model import LOST, WON

DEALS = [
    ["商机编号", "商机名称", "阶段", "金额", "负责人", "创建时间"],
    ["S1", "甲公司-ERP", "需求确认", "1000", "王伟", "2026-01-05"],
    ["S2", "乙公司-CRM", "方案提交", "2000", "李娜", "2026-01-06"],
]
LOG = [
    ["商机编号", "商机名称", "跟进时间", "跟进方式", "跟进人", "联系人", "跟进内容"],
    ["S1", "", "2026-01-07 10:00", "电话", "王伟", "张总", "初次沟通"],
    ["", "乙公司-CRM", "2026-01-08", "拜访", "李娜", "赵总", "上门"],
    ["S9", "", "2026-01-09", "微信", "王伟", "张总", "不存在"],
    ["S1", "", "", "邮件", "王伟", "张总", "没有日期"],
]


def write_csv(path, rows, encoding="utf-8"):
    path.write_bytes(pd.DataFrame(rows[1:], columns=rows[0]).to_csv(index=False).encode(encoding))
    return path


def test_ingest_activities_json_report_and_store(tmp_path, capsys, empty_db_url):
    deals = write_csv(tmp_path / "deals.csv", DEALS)
    assert main(["ingest", str(deals), "--db", empty_db_url, "--dataset", "crm"]) == 0
    capsys.readouterr()
    log = write_csv(tmp_path / "跟进记录.csv", LOG, "gbk")
    code = main(["ingest-activities", str(log), "--dataset", "crm", "--db", empty_db_url, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["activities_stored"] == 2
    assert (document["rows_in"], document["rows_loaded"], document["rows_rejected"]) == (4, 2, 2)
    (file,) = document["files"]
    assert file["layout"] == "chinese" and file["linked_by_id"] == 2 and file["linked_by_name"] == 1
    reasons = {r["line"]: r["reason"] for r in document["rows_not_loaded"]}
    assert reasons == {4: "deal-not-found", 5: "missing-date"}
    engine = store.get_engine(empty_db_url)
    stored = read_activities(engine, store.resolve_dataset_id(engine, "crm"))
    assert stored["opportunity_id"].tolist() == ["S1", "S2"]
    assert stored["occurred_at"].tolist() == [
        pd.Timestamp("2026-01-07 10:00"),
        pd.Timestamp("2026-01-08"),
    ]
    assert stored["activity_type"].tolist() == ["call", "meeting"]
    engine.dispose()


def test_unknown_dataset_is_exit_code_2(tmp_path, capsys, empty_db_url):
    log = write_csv(tmp_path / "log.csv", LOG)
    assert main(["ingest-activities", str(log), "--dataset", "nope", "--db", empty_db_url]) == 2
    assert "No dataset named 'nope'" in capsys.readouterr().err


def test_writing_a_log_replaces_the_previous_one(tmp_path, empty_db_url):
    engine = store.get_engine(empty_db_url)
    opps = pd.DataFrame({"opportunity_id": ["A"], "status": ["open"]})
    events = pd.DataFrame({"opportunity_id": [], "stage": [], "entered_at": []})
    stages = pd.DataFrame({"stage": [], "position": [], "kind": []})
    dataset_id = store.write_dataset(engine, "d", opps, events, stages)
    frame = pd.DataFrame(
        {
            "opportunity_id": ["A", "A"],
            "occurred_at": pd.to_datetime(["2026-01-02 09:30:15", "2026-01-01"], format="mixed"),
            "activity_type": ["call", "note"],
            "owner": ["王伟", None],
            "contact": ["张总", None],
            "subject": ["电话", None],
        }
    )
    assert write_activities(engine, dataset_id, frame) == 2
    back = read_activities(engine, dataset_id)
    assert back["occurred_at"].tolist() == [
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-01-02 09:30:15"),
    ]
    assert back["owner"].isna().tolist() == [True, False]
    write_activities(engine, dataset_id, frame.iloc[:1])
    assert len(read_activities(engine, dataset_id)) == 1
    engine.dispose()


def test_demo_log_is_deterministic_and_tells_the_truth():
    opps, _, _ = generate_demo(n=1500)
    first = generate_demo_activities(opps, DEMO_SEED)
    pd.testing.assert_frame_equal(first, generate_demo_activities(opps, DEMO_SEED))
    # The log ends on each deal's stored last activity (log and deals table agree).
    last = first.groupby("opportunity_id")["occurred_at"].max()
    stored = opps.set_index("opportunity_id")["last_activity_at"].reindex(last.index)
    assert (last == stored).all()
    # Lost deals slow down: the median of each deal's last gap over its own median gap is larger.
    gaps = first.groupby("opportunity_id")["occurred_at"].diff().dt.total_seconds() / 86_400
    ratio = (
        gaps.groupby(first["opportunity_id"]).last()
        / gaps.groupby(first["opportunity_id"]).median()
    )
    status = opps.set_index("opportunity_id")["status"].reindex(ratio.index)
    assert ratio[status == LOST].median() > 1.5 * ratio[status == WON].median()
    # A main-contact change is more common among lost deals than won ones.
    changed = status.index.isin(contact_changes(first)["opportunity_id"])
    assert changed[(status == LOST).to_numpy()].mean() > changed[(status == WON).to_numpy()].mean()
    assert np.isin(
        first["activity_type"].unique(), ["call", "meeting", "email", "message", "note"]
    ).all()
