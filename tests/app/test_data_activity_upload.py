"""AppTests of the Data page's follow-up-log upload (issue 18): a GBK 跟进记录 CSV attached to the
demo dataset (link rate and row accounting recounted here, then the Cycle page's silence count
recomputed by hand after the save), and a file whose time column is not recognised, set in the
mapping step and saved."""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest

from dealscope import store
from dealscope.activity.store import activity_count, read_activities, read_log_record
from dealscope.demo import generate_demo
from dealscope.formatting import escape_markdown
from dealscope.risk import registry, service
from tests.unit.ingest_fixtures import csv_bytes

DATA = "pages/data.py"
CYCLE = "pages/cycle_time.py"
HEADERS = [
    "商机编号",
    "商机名称",
    "跟进时间",
    "跟进方式",
    "跟进人",
    "联系人",
    "跟进内容",
    "是否完成",
]
FACING = ["电话", "拜访", "微信", "邮件"]
# Background training after a save is waited for (an event, not a timing) up to this long.
TRAINING_WAIT_S = 900


@pytest.fixture(autouse=True)
def models(monkeypatch, tmp_path):
    """The retraining a save starts writes here, never into the checkout's models/."""
    directory = tmp_path / "models"
    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(directory))
    return directory


def _finished_training(url: str, dataset_id: int):
    """The background job the save started, once it has finished."""
    from ui.training import training_registry

    job = training_registry().get(url, dataset_id)
    assert job is not None, "saving a log starts the risk model's retraining"
    assert job.done.wait(TRAINING_WAIT_S)
    return job


def _copy_demo(demo_db_url: str, tmp_path) -> str:
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), tmp_path / "demo.db")
    return f"sqlite:///{tmp_path / 'demo.db'}"


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _design_log(opportunities: pd.DataFrame, as_of: pd.Timestamp):
    """A log whose touch days are always 2 days apart, so every rhythm (own, stage, all) is
    2 days and, with no won deal touched, the multiple is the default 3: a deal is suddenly
    silent exactly when its last touch (or creation) is more than 6 days before as-of."""
    names = opportunities["name"].value_counts()
    old_open = opportunities.loc[
        (opportunities["status"] == "open")
        & (opportunities["created_at"] < as_of - pd.Timedelta(days=40))
        & opportunities["name"].map(names).eq(1)
    ]
    deal_a, deal_b, deal_c = (old_open.iloc[i] for i in range(3))
    ambiguous = names.index[names > 1][0]
    day0 = as_of.normalize()

    def at(days_before: int) -> str:
        return (day0 - pd.Timedelta(days=days_before)).strftime("%Y-%m-%d") + " 10:00"

    def touch(deal_id, name, days_before, kind, done="是"):
        return [deal_id, name, at(days_before), kind, "王伟", "张总", "沟通", done]

    rows = [
        touch(deal_a["opportunity_id"], "", d, FACING[i]) for i, d in enumerate((20, 18, 16, 14))
    ]
    rows.append(touch(deal_a["opportunity_id"], "", 2, "备注"))  # loaded, not customer-facing
    rows += [touch("", deal_b["name"], d, "电话") for d in (7, 5, 3, 1)]  # linked by name
    rows += [touch(deal_c["opportunity_id"], "", d, "拜访") for d in (9, 7, 5, 3)]
    rows += [
        [deal_a["opportunity_id"], "", "2026-13-45", "电话", "王伟", "张总", "坏日期", "是"],
        [deal_c["opportunity_id"], "", "", "电话", "王伟", "张总", "没有日期", "是"],
        touch("NOPE-1", "", 4, "电话"),  # an id the dataset does not hold
        touch("", "不存在的商机", 4, "电话"),  # a name no deal has
        touch("", ambiguous, 4, "电话"),  # a name several deals have
        touch(deal_a["opportunity_id"], "", 1, "拜访", done="否"),  # planned: excluded
        touch("", "", 4, "电话"),  # on no deal: excluded
    ]
    return rows, (deal_a, deal_b, deal_c)


def test_gbk_log_uploaded_linked_accounted_saved_and_shown(open_app, demo_db_url, tmp_path, models):
    url = _copy_demo(demo_db_url, tmp_path)
    engine = store.get_engine(url)
    dataset = store.read_dataset(engine, "demo").settled()
    demo_log_rows = activity_count(engine, dataset.id)
    engine.dispose()
    opportunities, as_of = dataset.opportunities, dataset.as_of
    rows, (deal_a, deal_b, deal_c) = _design_log(opportunities, as_of)

    # Expected figures, counted here from the rows as written.
    ids = set(opportunities["opportunity_id"])
    name_counts = opportunities["name"].value_counts()
    by_id = sum(r[0] in ids for r in rows)
    needs_name = [r for r in rows if r[0] not in ids and (r[0] or r[1])]
    by_name = sum(name_counts.get(r[1], 0) == 1 for r in needs_name)
    excluded = sum(r[7] == "否" or not bool(r[0] or r[1]) for r in rows)
    rejected = sum(
        r[7] != "否" and bool(r[0] or r[1]) and (r[2] in ("", "2026-13-45") or (
            r[0] not in ids and name_counts.get(r[1], 0) != 1))
        for r in rows
    )  # fmt: skip
    loaded = len(rows) - excluded - rejected
    assert (len(rows), loaded, rejected, excluded) == (20, 13, 5, 2)  # the design, by hand
    assert (by_id, by_name, len(needs_name)) == (12, 4, 7)

    at = open_app(url, CYCLE, query={"lang": "en"})
    silent_before = _metric(at, "Suddenly silent")
    at.switch_page(DATA).run()
    assert any(s.value == "Follow-up records (activity log)" for s in at.subheader)
    upload = csv_bytes([HEADERS, *rows], "gbk")
    at.file_uploader(key="activity_upload").set_value([("跟进记录.csv", upload, "text/csv")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    summary = next(d.value for d in at.dataframe if "Role" in d.value.columns).set_index("Role")
    assert summary.at["Deal id", "Column"] == "商机编号"
    assert summary.at["Deal name", "Column"] == "商机名称"
    assert summary.at["Activity time", "Column"] == "跟进时间"
    assert summary.at["Activity type", "Column"] == "跟进方式"
    assert summary.at["Customer contact", "Column"] == "联系人"
    assert summary.at["Owner (rep)", "Column"] == "跟进人"
    assert _metric(at, "Rows in") == str(len(rows))
    assert _metric(at, "Loaded") == str(loaded)
    assert _metric(at, "Rejected") == str(rejected)
    assert _metric(at, "Excluded") == str(excluded)
    assert _metric(at, "Linked by deal id") == str(by_id)
    assert _metric(at, "Linked by deal name") == str(by_name)
    assert _metric(at, "Name match rate") == f"{by_name / len(needs_name) * 100:.1f}%"
    not_loaded = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert len(not_loaded) == rejected + excluded
    assert set(not_loaded["Reason"]) == {
        "Activity time could not be read (or is implausible)", "No activity time",
        "No deal of the dataset has this id or name", "Several deals have this name",
        "Planned, not done yet", "Logged on no deal (contact or company only)",
    }  # fmt: skip
    # The demo has a log: saving replaces it, only after the confirmation.
    assert any(f"({demo_log_rows:,} activities)" in w.value for w in at.warning)
    assert at.button(key="activity_upload_save").disabled
    at.checkbox(key="activity_upload_confirm").check().run()
    at.button(key="activity_upload_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Saved {loaded} activities" in s.value for s in at.success)

    engine = store.get_engine(url)
    stored = read_activities(engine, dataset.id)
    record = read_log_record(engine, dataset.id)
    engine.dispose()
    assert len(stored) == loaded
    assert record.saved_by == "anonymous" and record.source_files[0]["name"] == "跟进记录.csv"
    assert set(stored["opportunity_id"]) == {
        deal_a["opportunity_id"],
        deal_b["opportunity_id"],
        deal_c["opportunity_id"],
    }

    # By hand: every rhythm is 2 days and the multiple 3, so an open deal is suddenly silent when
    # its last touch day (A, B, C) or creation (every other) is more than 6 days before as-of.
    open_deals = opportunities.loc[
        (opportunities["status"] == "open") & (opportunities["created_at"] <= as_of)
    ]
    last = open_deals.set_index("opportunity_id")["created_at"].copy()
    day0 = as_of.normalize()
    for deal, days_before in ((deal_a, 14), (deal_b, 1), (deal_c, 3)):
        last[deal["opportunity_id"]] = day0 - pd.Timedelta(days=days_before)
    expected = int(((as_of - last) > pd.Timedelta(days=6)).sum())
    at.switch_page(CYCLE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metric(at, "Suddenly silent") == f"{expected:,}"
    assert silent_before != f"{expected:,}"  # the section reads the new log, not a cached one

    # The risk model was retrained on the dataset with this log: its card is stored under the
    # hash of both, and it uses the activity features.
    assert _finished_training(url, dataset.id).state == "done", job_error(url, dataset.id)
    _, card = registry.load_model(dataset.id, service.dataset_hash(dataset, stored), models)
    assert card.spec.activity


def job_error(url: str, dataset_id: int) -> str | None:
    from ui.training import training_registry

    return training_registry().get(url, dataset_id).error


HOSTILE_NAME = "[x](http://evil.example)*log*.csv"  # shown as text, never as a link
WHEN_ROWS = [
    ["Deal ID", "When it happened", "Type", "Owner"],
    ["{0}", "2026-01-05", "Call", "Ann"],
    ["{0}", "2026-01-09", "Email", "Ann"],
    ["{1}", "2026-01-07", "Meeting", "Bob"],
    ["UNKNOWN", "2026-01-08", "Call", "Bob"],
]


def test_missing_time_role_is_set_in_the_mapping_step_and_saved(open_app, empty_db_url, caplog):
    engine = store.get_engine(empty_db_url)
    opps, events, stages = generate_demo(n=200)
    dataset_id = store.write_dataset(engine, "small", opps, events, stages)
    engine.dispose()
    first, second = opps["opportunity_id"].iloc[0], opps["opportunity_id"].iloc[1]
    rows = [WHEN_ROWS[0]] + [[c.format(first, second) for c in r] for r in WHEN_ROWS[1:]]

    at = open_app(empty_db_url, DATA, query={"lang": "en"})
    at.file_uploader(key="activity_upload").set_value([(HOSTILE_NAME, csv_bytes(rows), "text/csv")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Missing role: activity time" in e.value for e in at.error)
    roles = at.data_editor(key="activity_upload_roles_0").value
    assert roles["source"].tolist() == rows[0]  # every column, with its samples
    assert roles.set_index("source").at["When it happened", "samples"] == (
        "2026-01-05 · 2026-01-09 · 2026-01-07"
    )
    assert not any(b.key == "activity_upload_save" for b in at.button)  # nothing to save yet

    at.selectbox(key="activity_upload_pick_date_0").set_value("When it happened").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Missing role" in e.value for e in at.error)
    assert _metric(at, "Loaded") == "3" and _metric(at, "Rejected") == "1"
    assert not any("replaces" in w.value for w in at.warning)  # no log yet: no confirmation
    with caplog.at_level(logging.INFO, logger="dealscope.audit"):
        at.button(key="activity_upload_save").click().run()
    assert any(
        r.getMessage().startswith("save activity log by anonymous") and f"dataset_id={dataset_id}"
        in r.getMessage() and "rows=3" in r.getMessage() for r in caplog.records
    ), [r.getMessage() for r in caplog.records]  # fmt: skip
    assert not at.exception, [e.value for e in at.exception]
    engine = store.get_engine(empty_db_url)
    stored = read_activities(engine, dataset_id)
    engine.dispose()
    assert stored["opportunity_id"].tolist() == sorted([first, first, second])
    assert sorted(stored["occurred_at"].dt.strftime("%Y-%m-%d")) == [
        "2026-01-05", "2026-01-07", "2026-01-09"
    ]  # fmt: skip
    current = next(c.value for c in at.caption if "Current follow-up log" in c.value)
    assert escape_markdown(HOSTILE_NAME) in current and HOSTILE_NAME not in current
    _finished_training(empty_db_url, dataset_id)  # done or too few outcomes: nothing left running


def test_a_workbook_with_several_sheets_reads_the_sheet_picked(open_app, empty_db_url):
    from tests.unit.ingest_fixtures import xlsx_bytes

    engine = store.get_engine(empty_db_url)
    opps, events, stages = generate_demo(n=200)
    dataset_id = store.write_dataset(engine, "small", opps, events, stages)
    engine.dispose()
    deal = opps["opportunity_id"].iloc[0]
    log = [
        ["商机编号", "跟进时间", "跟进方式"],
        [deal, "2026-01-05", "电话"],
        [deal, "2026-01-06", "微信"],
    ]
    summary = [["本月汇总", "次数"], ["电话", "1"]]
    workbook = xlsx_bytes(summary, sheet="汇总", extra_sheets={"跟进记录": log})

    at = open_app(empty_db_url, DATA, query={"lang": "en"})
    at.file_uploader(key="activity_upload").set_value([("book.xlsx", workbook, "application/zip")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sheet = next(s for s in at.selectbox if s.label == "Sheet of book.xlsx with the activities")
    assert sheet.options == ["汇总", "跟进记录"] and sheet.value == "汇总"
    assert any("Missing role" in e.value for e in at.error)  # the summary sheet has no log
    sheet.set_value("跟进记录").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Missing role" in e.value for e in at.error)
    assert _metric(at, "Rows in") == "2" and _metric(at, "Loaded") == "2"
    at.button(key="activity_upload_save").click().run()
    engine = store.get_engine(empty_db_url)
    assert activity_count(engine, dataset_id) == 2
    assert read_log_record(engine, dataset_id).source_files[0]["name"] == "book.xlsx"
    engine.dispose()
    _finished_training(empty_db_url, dataset_id)
