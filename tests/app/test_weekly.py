"""AppTest of the Weekly review page on the demo data, checked against figures computed here
directly with pandas, plus the week picker, the snapshot comparison and the downloads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from dealscope import store
from dealscope.activity.store import read_activities
from dealscope.cli import main as cli_main
from dealscope.demo import DEMO_DATASET, write_demo
from dealscope.model import demo_stage_table

VIEW = "pages/weekly.py"


def _week_figures(opps: pd.DataFrame, events: pd.DataFrame, start: pd.Timestamp) -> dict:
    """The week's headline figures straight from the canonical frames (independent of report/)."""
    end = start + pd.Timedelta(days=7)
    created, closed = opps["created_at"], opps["closed_at"]
    closed_in = (closed >= start) & (closed < end)
    won = int((closed_in & (opps["status"] == "won")).sum())
    lost = int((closed_in & (opps["status"] == "lost")).sum())
    still_open = (opps["status"] == "open") | (closed >= end)
    return {
        "new": int(((created >= start) & (created < end)).sum()),
        "won": won,
        "lost": lost,
        "win_rate": f"{won / (won + lost) * 100:.1f}%",
        "pipeline": int(((created < end) & still_open).sum()),
    }


def _demo_week(dataset) -> pd.Timestamp:
    opps, events = dataset.opportunities, dataset.stage_events
    as_of = max(
        opps[["created_at", "closed_at", "last_activity_at"]].max().max(),
        events["entered_at"].max(),
    )
    monday = as_of.normalize() - pd.Timedelta(days=as_of.weekday())
    return monday - pd.Timedelta(days=7)


def _label(monday: pd.Timestamp) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _assert_figures(at, expected: dict) -> None:
    metrics = _metrics(at)
    assert metrics["新增商机"] == f"{expected['new']:,}"
    assert metrics["赢单"] == f"{expected['won']:,}"
    assert metrics["输单"] == f"{expected['lost']:,}"
    assert metrics["赢单率（按数量）"] == expected["win_rate"]
    assert metrics["进行中商机数"] == f"{expected['pipeline']:,}"


@pytest.fixture
def media(monkeypatch):
    """Keeps AppTest's in-memory media stores so a test can read what a download button serves."""
    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)

    def read(button) -> bytes:
        return stores[-1].get_file(button.proto.url.rsplit("/", 1)[1]).content

    return read


def _button(at, label: str):
    return next(b for b in at.download_button if b.label == label)


@pytest.fixture(autouse=True)
def no_stored_models(monkeypatch, tmp_path):
    """An empty model folder: the page must never find (or train) a risk model by accident."""
    monkeypatch.setenv("DEALSCOPE_MODEL_DIR", str(tmp_path / "models"))


def test_default_week_shows_the_demo_figures_and_changing_week_updates_them(
    open_app, demo_db_url, demo_dataset
):
    at = open_app(demo_db_url, VIEW)
    week = _demo_week(demo_dataset)
    picker = at.selectbox(key="weekly_week")
    assert picker.value == _label(week) == "2026-W46"
    _assert_figures(at, _week_figures(demo_dataset.opportunities, demo_dataset.stage_events, week))
    # The bottleneck sentence names the demo's weak stage of that week.
    assert any(t.value.startswith("方案提交：") for t in at.text)
    # Without a stored model the at-risk section says why it ranks by rule signals only.
    texts = " ".join(t.value for t in at.text)
    assert "仅按规则信号（停滞、沉默）排序" in texts
    assert not (tmp_models := list(Path(os.environ["DEALSCOPE_MODEL_DIR"]).glob("**/*"))), (
        tmp_models
    )

    earlier = week - pd.Timedelta(days=7 * 5)
    picker.set_value(_label(earlier)).run()
    assert not at.exception
    assert at.query_params["week"] in (_label(earlier), [_label(earlier)])  # bound to the URL
    _assert_figures(
        at, _week_figures(demo_dataset.opportunities, demo_dataset.stage_events, earlier)
    )


def test_page_and_cli_report_have_the_same_figures(
    open_app, demo_db_url, demo_dataset, media, tmp_path, capsys
):
    at = open_app(demo_db_url, VIEW)
    page_html = media(_button(at, "下载 HTML 报告")).decode("utf-8")
    out = tmp_path / "weekly.html"
    code = cli_main(
        # The page is in Chinese; the CLI's language follows the system locale unless given.
        ["report", "--dataset", DEMO_DATASET, "--out", str(out), "--db", demo_db_url, "--json"]
        + ["--lang", "zh-CN"]
    )
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    metrics = _metrics(at)
    assert figures["week"] == at.selectbox(key="weekly_week").value
    assert f"{figures['new_count']:,}" == metrics["新增商机"]
    assert f"{figures['won_count']:,}" == metrics["赢单"]
    assert f"{figures['lost_count']:,}" == metrics["输单"]
    assert f"{figures['pipeline_count']:,}" == metrics["进行中商机数"]
    assert f"{figures['win_rate'] * 100:.1f}%" == metrics["赢单率（按数量）"]
    assert f"{figures['advances']:,}" == metrics["阶段推进"]
    # Same document, same renderer: the CLI's file is the page's download, byte for byte.
    assert out.read_text(encoding="utf-8") == page_html
    expected = _week_figures(
        demo_dataset.opportunities, demo_dataset.stage_events, _demo_week(demo_dataset)
    )
    assert (figures["new_count"], figures["won_count"], figures["lost_count"]) == (
        expected["new"],
        expected["won"],
        expected["lost"],
    )


def _last_week_export(opps: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A hand-edited 'last week' copy of the demo export and the categories it must produce."""
    old = opps.copy()
    open_ids = opps.loc[opps["status"] == "open"].sort_values("created_at")["opportunity_id"]
    later_open = opps.set_index("opportunity_id").loc[open_ids]
    advanced = later_open.loc[later_open["stage"] != "线索"].index
    won_ids = opps.loc[opps["status"] == "won", "opportunity_id"].tail(4)
    lost_ids = opps.loc[opps["status"] == "lost", "opportunity_id"].tail(3)
    new_ids = open_ids.tail(5)
    pool = [i for i in advanced if i not in set(new_ids)]
    forward, up, down, pulled = pool[:2], pool[2:8], pool[8:10], pool[10:13]
    by_id = old.set_index("opportunity_id")
    old = old.loc[~old["opportunity_id"].isin(new_ids)]
    idx = old.set_index("opportunity_id").index
    was_open = idx.isin(won_ids) | idx.isin(lost_ids)
    old.loc[was_open, ["status", "stage"]] = ["open", "价格谈判"]
    old.loc[was_open, ["closed_at", "lost_reason"]] = [pd.NaT, None]
    old.loc[idx.isin(forward), "stage"] = "线索"
    old.loc[idx.isin(up), "amount"] = by_id.loc[up, "amount"].to_numpy() - 1_000
    old.loc[idx.isin(down), "amount"] = by_id.loc[down, "amount"].to_numpy() + 500
    old.loc[idx.isin(pulled), "expected_close_at"] = by_id.loc[
        pulled, "expected_close_at"
    ].to_numpy() + pd.Timedelta(days=10)
    gone = old.loc[old["status"] == "open"].head(2).assign(opportunity_id=["GONE-1", "GONE-2"])
    old = pd.concat([old, gone], ignore_index=True)
    expected = {
        "新增": 5,
        "赢单": 4,
        "输单": 3,
        "重新打开": 0,
        "移除（新导出中缺失）": 2,
        "阶段前进": 2,
        "阶段后退": 0,
        "金额增加": 6,
        "金额减少": 2,
        "预计成交日期提前": 3,
        "预计成交日期推迟": 0,
    }
    return old, expected


def test_picking_an_earlier_export_shows_the_snapshot_diff(open_app, tmp_path, media):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    engine = store.get_engine(url)
    demo_id = write_demo(engine)
    demo = store.read_dataset(engine, demo_id)
    old, expected = _last_week_export(demo.opportunities)
    old_id = store.write_dataset(engine, "last-week", old, demo.stage_events.iloc[:0], demo.stages)
    engine.dispose()

    at = open_app(url, VIEW, query={"dataset": str(demo_id)})
    assert "选择同一管道的另一份导出" in " ".join(t.value for t in at.text)
    at.selectbox(key="weekly_compare").set_value(old_id).run()
    assert not at.exception
    summary = next(d.value for d in at.dataframe if "变化" in d.value.columns)
    counts = dict(zip(summary["变化"], summary["商机数"], strict=True))
    assert counts == expected
    # The waterfall's deal list follows the category picker.
    at.selectbox(key="weekly_category").set_value("amount_down").run()
    down = next(d.value for d in at.dataframe if "原金额" in d.value.columns)
    assert len(down) == 2 and (down["新金额"] - down["原金额"] == -500).all()
    html = media(_button(at, "下载 HTML 报告")).decode("utf-8")
    assert "last-week" in html and "移除（新导出中缺失）" in html


def test_downloads_from_the_page_escape_and_neutralise_data_text(open_app, tmp_path, media):
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    engine = store.get_engine(url)
    demo = store.read_dataset(engine, write_demo(engine))
    opps = demo.opportunities.copy()
    lost = opps.index[opps["status"].eq("lost")]
    opps.loc[lost, "lost_reason"] = '=HYPERLINK("http://evil","x")'
    opps.loc[:, "name"] = "<script>alert(1)</script>"
    opps.loc[:, "owner"] = "[x](http://evil)"
    store.write_dataset(engine, "hostile", opps, demo.stage_events, demo.stages)
    engine.dispose()

    at = open_app(url, VIEW, query={"dataset": "hostile"})
    html = media(_button(at, "下载 HTML 报告")).decode("utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = media(_button(at, "下载 Markdown 报告")).decode("utf-8")
    assert "[x](http://evil)" not in markdown and r"\[x\](http://evil)" in markdown
    at.selectbox(key="weekly_table_pick").set_value("lost").run()
    csv_text = media(_button(at, "下载 CSV")).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text
    assert "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text


def test_sidebar_segment_filter_applies_to_the_week(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW, query={"region": "华东"})
    opps = demo_dataset.opportunities
    east = opps.loc[opps["region"] == "华东"]
    events = demo_dataset.stage_events
    expected = _week_figures(east, events, _demo_week(demo_dataset))
    _assert_figures(at, expected)
    assert expected["new"] < _week_figures(opps, events, _demo_week(demo_dataset))["new"]


def test_data_without_a_complete_week_explains_instead_of_failing(open_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'young.db'}"
    engine = store.get_engine(url)
    opps = pd.DataFrame(
        {
            "opportunity_id": ["1", "2"],
            "stage": ["线索", "线索"],
            "status": ["open", "open"],
            "amount": [100.0, 200.0],
            # Wednesday and Thursday of the same week: no Monday-to-Sunday week has ended yet.
            "created_at": pd.to_datetime(["2026-11-18 10:00", "2026-11-19 10:00"]),
        }
    )
    events = pd.DataFrame(
        {"opportunity_id": ["1", "2"], "stage": ["线索", "线索"], "entered_at": opps["created_at"]}
    )
    store.write_dataset(engine, "young", opps, events, demo_stage_table())
    engine.dispose()
    at = open_app(url, VIEW)
    assert not at.exception
    assert any("还没有一个完整的 ISO 周" in i.value for i in at.info)
    assert not at.metric


def test_a_model_trained_for_the_dataset_adds_risk_to_the_at_risk_list(
    open_app, demo_db_url, demo_dataset
):
    from dealscope import store
    from dealscope.risk import service

    # The autouse fixture points DEALSCOPE_MODEL_DIR at an empty temporary folder; the demo
    # has a follow-up log, which the model uses.
    log = read_activities(store.get_engine(demo_db_url), demo_dataset.id)
    service.train_and_save(demo_dataset, activities=log)
    at = open_app(demo_db_url, VIEW)
    assert "风险 = 已保存模型给出的该商机最终输单的概率；规则信号列在旁边。" in [
        t.value for t in at.text
    ]
    table = next(d.value for d in at.dataframe if "流失风险" in d.value.columns)
    assert len(table) == 10
    assert table["流失风险"].is_monotonic_decreasing and table["流失风险"].between(0, 1).all()
    assert table["风险原因"].notna().all()
