"""Cycle-time page (AppTest): the demo's figures, the silence threshold, and a dataset without
stage history. Expectations come from the pure functions or direct counting, never from the page."""

import pandas as pd
import pytest

from dealscope import store
from dealscope.formatting import format_count, format_days
from dealscope.i18n import t
from dealscope.metrics.cycle import close_outcomes, km_summary
from dealscope.metrics.kpis import infer_as_of
from dealscope.metrics.stall import compute_stage_intervals, compute_stall_lines, flag_open_deals

VIEW = "pages/cycle_time.py"


def metric(at, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, [m.label for m in at.metric]
    return values[0]


@pytest.fixture(scope="module")
def expected(demo_dataset):
    opps, events, stages = (
        demo_dataset.opportunities,
        demo_dataset.stage_events,
        demo_dataset.stages,
    )
    as_of = infer_as_of(opps, events)
    intervals = compute_stage_intervals(events, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    return {
        "summary": km_summary(close_outcomes(opps, as_of)),
        "flags": lambda days: flag_open_deals(opps, intervals, lines, as_of, days),
        "lines": lines,
        "closed_mean": (
            (opps["closed_at"] - opps["created_at"]).dt.total_seconds()[opps["status"] != "open"]
            / 86_400
        ).mean(),
    }


def test_demo_figures_and_silence_threshold(open_app, demo_db_url, expected):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    summary = expected["summary"]
    assert metric(at, t("cycle.kpi.median", "en")) == format_days(summary["median"], "en")
    assert metric(at, t("cycle.kpi.rmst", "en", horizon=365)) == format_days(summary["rmst"], "en")
    # The closed-only average, counted directly: visibly shorter than the KM restricted mean.
    assert metric(at, t("cycle.kpi.closed_only_mean", "en")) == format_days(
        expected["closed_mean"], "en"
    )
    assert expected["closed_mean"] < summary["rmst"] - 3
    flags = expected["flags"](14)
    open_deals = int((at.session_state["_dealscope_view"].opportunities["status"] == "open").sum())
    assert (
        metric(at, t("cycle.kpi.open", "en"))
        == format_count(open_deals)
        == format_count(len(flags))
    )
    stalled = int(flags["stalled"].sum())
    assert metric(at, t("cycle.kpi.stalled", "en")) == format_count(stalled) and stalled > 0
    silent_14 = int(flags["silent"].sum())
    assert metric(at, t("cycle.kpi.silent", "en", days=14)) == format_count(silent_14)

    # The stall lines table shows the whole dataset's lines.
    lines_table = next(
        df.value
        for df in at.dataframe
        if t("cycle.stall.col.stall_days", "en") in df.value.columns
        and t("cycle.stall.col.n_advanced", "en") in df.value.columns
    )
    shown = lines_table[t("cycle.stall.col.stall_days", "en")].to_numpy()
    assert shown == pytest.approx(expected["lines"]["stall_days"].to_numpy())

    at.number_input(key="cycle_silence_days").set_value(30).run()
    assert not at.exception
    silent_30 = int(expected["flags"](30)["silent"].sum())
    assert silent_30 < silent_14
    assert metric(at, t("cycle.kpi.silent", "en", days=30)) == format_count(silent_30)
    # Silent list = one row per silent deal (the stalled list is unaffected by the threshold).
    silent_title = t("cycle.list.col.days_silent", "en")
    lists = [df.value for df in at.dataframe if silent_title in df.value.columns]
    assert len(lists) == 1 and len(lists[0]) == silent_30
    assert (lists[0][silent_title] > 30).all()


def test_segment_choice_runs_a_log_rank_test(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    at.selectbox(key="cycle_segment").set_value("source").run()
    assert not at.exception
    texts = [x.value for x in at.text if x.value.startswith("Log-rank test across")]
    # The demo has six lead sources, all large: 6 groups, 5 degrees of freedom.
    assert len(texts) == 1 and "6 groups" in texts[0] and "df = 5" in texts[0]


def test_without_stage_history_the_page_says_what_it_cannot_compute(
    open_app, tmp_path, demo_dataset
):
    url = f"sqlite:///{tmp_path / 'nohistory.db'}"
    engine = store.get_engine(url)
    opps = demo_dataset.opportunities
    store.write_dataset(
        engine, "bare", opps, demo_dataset.stage_events.iloc[0:0], demo_dataset.stages
    )
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en"})
    warnings = [w.value for w in at.warning]
    assert any(t("cycle.history.item.time_in_stage", "en") in w for w in warnings)
    as_of = infer_as_of(opps, demo_dataset.stage_events.iloc[0:0])
    summary = km_summary(close_outcomes(opps, as_of))
    assert metric(at, t("cycle.kpi.median", "en")) == format_days(summary["median"], "en")
    assert metric(at, t("cycle.kpi.stalled", "en")) == "—"
    empty = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"])
    flags = flag_open_deals(
        opps,
        empty.assign(is_current=[], kind=[], days=[]),
        pd.DataFrame({"stage": [], "stall_days": []}),
        as_of,
    )
    assert metric(at, t("cycle.kpi.silent", "en", days=14)) == format_count(
        int(flags["silent"].sum())
    )
    assert not any(t("cycle.stage.title", "en") == s.value for s in at.subheader)
