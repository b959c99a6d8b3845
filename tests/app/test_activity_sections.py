"""Follow-up sections (issue 18) on the demo through the real app: Cycle, Weekly and Reps."""

import pandas as pd

from dealscope import store
from dealscope.activity.store import read_activities
from dealscope.metrics.kpis import infer_as_of


def _log(demo_db_url, dataset):
    engine = store.get_engine(demo_db_url)
    try:
        return read_activities(engine, dataset.id)
    finally:
        engine.dispose()


def _frame_with(at, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with column {column!r}"
    return frames[0]


def test_cycle_lists_suddenly_silent_deals_against_own_rhythm(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, "pages/cycle_time.py", query={"lang": "en"})
    assert any("Suddenly silent deals" in s.value for s in at.subheader)
    table = _frame_with(at, "Silence ÷ rhythm")
    # Independent check of one flagged row: days silent = as-of minus the last customer-facing
    # touch day, counted straight from the stored log.
    log = _log(demo_db_url, demo_dataset)
    as_of = infer_as_of(demo_dataset.opportunities, demo_dataset.stage_events)
    top = table.iloc[0]
    touches = log.loc[
        (log["opportunity_id"] == top["Deal ID"])
        & log["activity_type"].isin(["call", "meeting", "email", "message"])
    ]
    last_day = touches["occurred_at"].max().normalize()
    assert round((as_of - last_day) / pd.Timedelta(days=1), 1) == top["Days since last touch"]
    multiple = float(
        next(c.value for c in at.caption if "Rule:" in c.value).split("×")[0].split()[-1]
    )
    assert (table["Silence ÷ rhythm"] > multiple - 0.05).all()
    assert any("Key contact changes" in t.value for t in at.text)


def test_weekly_shows_follow_up_signals_of_the_at_risk_deals(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, "pages/weekly.py", query={"lang": "en"})
    assert any("Suddenly silent deals" in s.value for s in at.subheader)
    assert len(_frame_with(at, "Silence ÷ rhythm")) <= 10
    signals = _frame_with(at, "Suddenly silent")
    at_risk = next(d.value for d in at.dataframe if "Stall line (days)" in d.value.columns)
    assert signals.iloc[:, 0].tolist() == at_risk.iloc[:, 0].tolist()  # the same deals, in order
    # Days silent at the week's moment, recounted from the stored log for one at-risk deal.
    moment_text = next(t.value for t in at.text if "at-risk deals at the end" in t.value)
    moment = pd.Timestamp(moment_text.split("(")[1].split(")")[0])
    log = _log(demo_db_url, demo_dataset)
    row = signals.dropna(subset=["Days since last touch"]).iloc[0]
    touches = log.loc[
        (log["opportunity_id"] == row["Deal ID"])
        & (log["occurred_at"] <= moment)
        & log["activity_type"].isin(["call", "meeting", "email", "message"])
    ]
    last_day = touches["occurred_at"].max().normalize()
    assert round((moment - last_day) / pd.Timedelta(days=1), 1) == row["Days since last touch"]


def test_reps_activity_table_and_drill_down(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, "pages/reps.py", query={"lang": "en"})
    table = _frame_with(at, "Touches per week").set_index("Owner")
    assert len(table) == demo_dataset.opportunities["owner"].nunique()
    log = _log(demo_db_url, demo_dataset)
    facing = log.loc[log["activity_type"].isin(["call", "meeting", "email", "message"])]
    busiest = facing["owner"].value_counts().idxmax()
    assert table["Touches per week"].idxmax() == busiest
    box = next(s for s in at.selectbox if s.label == "Owner's weekly touches")
    box.set_value(busiest).run()
    assert not at.exception
    metric = next(m for m in at.metric if m.label == "Owner's touches per week")
    weeks = (
        pd.Timestamp(infer_as_of(demo_dataset.opportunities, demo_dataset.stage_events))
        - demo_dataset.opportunities["created_at"].min().normalize()
    ) / pd.Timedelta(days=7)
    assert metric.value == f"{(facing['owner'] == busiest).sum() / weeks:.1f}"


def test_without_a_log_the_fixed_rule_is_stated(open_app, tmp_path):
    from dealscope.demo import generate_demo

    url = f"sqlite:///{tmp_path / 'nolog.db'}"
    engine = store.get_engine(url)
    opps, events, stages = generate_demo(n=400)
    store.write_dataset(engine, "nolog", opps, events, stages)  # no follow-up log
    engine.dispose()
    at = open_app(url, "pages/cycle_time.py", query={"lang": "en", "dataset": "nolog"})
    assert any("the fixed rule applies" in c.value for c in at.caption)
    as_of = infer_as_of(opps, events)
    open_now = opps.loc[opps["status"] == "open"]
    silent = (as_of - open_now["last_activity_at"].fillna(open_now["created_at"])) > pd.Timedelta(
        days=14
    )
    metric = next(m for m in at.metric if m.label == "Suddenly silent")
    assert metric.value == str(int(silent.sum()))
    reps = open_app(url, "pages/reps.py", query={"lang": "en", "dataset": "nolog"})
    assert any("No follow-up log" in i.value for i in reps.info)


def test_sections_in_chinese(open_app, demo_db_url):
    at = open_app(demo_db_url, "pages/cycle_time.py")
    assert any(s.value == "客户突然沉默（跟进记录）" for s in at.subheader)
    assert any("关键决策人变动" in t.value for t in at.text)
    assert "沉默 ÷ 节奏" in _frame_with(at, "沉默 ÷ 节奏").columns
