"""AppTest of the Overview page: the demo's KPIs (equal to the CLI's), filters, links, languages."""

import pyarrow as pa

from dealscope.formatting import format_amount, format_count, format_days, format_pct
from dealscope.metrics.kpis import compute_summary, infer_as_of

VIEW = "pages/overview.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_kpis_equal_the_cli_figures(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    opps = demo_dataset.opportunities
    summary = compute_summary(opps, infer_as_of(opps, demo_dataset.stage_events))
    shown = metrics(at)
    assert shown["Total opportunities"] == format_count(summary["opportunities"]) == "6,000"
    assert shown["Open pipeline"] == format_count(summary["open"])
    assert shown["Won"] == format_count(summary["won"])
    assert shown["Won value"] == format_amount(summary["won_amount"], "CNY", "en")
    assert shown["Win rate (count)"] == format_pct(summary["win_rate_count"])
    assert shown["Win rate (value)"] == format_pct(summary["win_rate_value"])
    assert shown["Median days to win"] == format_days(summary["median_days_to_win"], "en")
    closed = opps[opps.status != "open"]
    assert shown["Win rate (count)"] == f"{(closed.status == 'won').mean() * 100:.1f}%"


def test_chinese_is_the_default_language(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW)
    assert at.header[0].value == "概览"
    assert metrics(at)["商机总数"] == "6,000"


def test_region_filter_updates_kpis_and_the_link(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    region = at.sidebar.multiselect(key="flt_region")
    region.set_value(["华东"]).run()
    east = demo_dataset.opportunities.query("region == '华东'")
    assert metrics(at)["Total opportunities"] == f"{len(east):,}"
    assert metrics(at)["Won"] == f"{(east.status == 'won').sum():,}"
    assert at.query_params["region"] == "华东"  # the link carries the filter


def test_shared_link_restores_filters_and_ignores_invalid_values(
    open_app, demo_db_url, demo_dataset
):
    # Opened as a link straight to the default page: the notice shows on that first run.
    query = {
        "lang": "en",
        "region": ["华南", "<script>"],
        "start": "2026-01-01",
        "end": "2026-03-31",
    }
    at = open_app(demo_db_url, None, query=query)
    assert at.header[0].value == "Overview"
    assert at.sidebar.multiselect(key="flt_region").value == ["华南"]
    # the rejected value is listed, escaped (Streamlit shows the entity as the literal text)
    assert any("&lt;script&gt;" in w.value for w in at.sidebar.warning)
    south = demo_dataset.opportunities.query("region == '华南'")
    created = south.created_at
    new = ((created >= "2026-01-01") & (created < "2026-04-01")).sum()
    assert metrics(at)["New opportunities"] == f"{new:,}"
    # a real previous period exists, so the won count carries a change
    won_delta = next(m.delta for m in at.metric if m.label == "Won")
    assert won_delta not in (None, "")


def test_period_with_no_deals_explains_instead_of_failing(open_app, demo_db_url):
    at = open_app(
        demo_db_url, VIEW, query={"lang": "en", "start": "2025-03-03", "end": "2025-03-03"}
    )
    assert not at.exception
    assert metrics(at)["Won"] == "0"
    assert metrics(at)["Win rate (count)"] == "—"


def test_empty_database_explains_what_to_do(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    assert "No datasets yet" in at.info[0].value
    assert len(at.metric) == 0


def test_weekly_chart_is_drawn_from_aggregates(open_app, demo_db_url, demo_dataset):
    at = open_app(demo_db_url, VIEW)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = charts[0].proto.spec
    assert '"week:T"' in spec or '"field": "week"' in spec or "week" in spec
    # aggregated: one row per week and series, not one per deal
    (dataset,) = charts[0].proto.datasets
    frame = pa.ipc.open_stream(dataset.data.data).read_all()
    assert set(frame.column_names) >= {"week", "series", "count"}
    assert frame.num_rows <= 3 * 95  # ~90 weeks x 3 series, not 6,000 deals
    opps = demo_dataset.opportunities
    assert sum(frame.column("count").to_pylist()) == len(opps) + (opps.status != "open").sum()


def test_unavailable_database_shows_a_banner_and_a_retry(open_app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    at = open_app(f"sqlite:///{blocker / 'x.db'}", None, query={"lang": "en"})
    assert "Database unavailable" in at.error[0].value
    assert at.button[0].label == "Retry"
    at.button[0].click().run()  # still unavailable: the same clear banner, no traceback
    assert not at.exception and "Database unavailable" in at.error[0].value


def test_markdown_in_a_crafted_link_is_shown_as_text(open_app, demo_db_url):
    # A link like ?region=![x](http://tracker/) must not make the browser load an image.
    at = open_app(demo_db_url, None, query={"lang": "en", "region": "![x](http://tracker/)"})
    (warning,) = at.sidebar.warning
    assert "!\\[x\\](http://tracker/)" in warning.value
    assert "![x](" not in warning.value


def test_switching_dataset_shows_the_new_one_whole(open_app, demo_db_url, tmp_path):
    """A period kept from the previous dataset must not slice the next one (seen after a save: the
    demo's start date, 2025-03, clamped into an export that starts earlier hid its won deals)."""
    import shutil
    from datetime import date

    import pandas as pd

    from dealscope import store

    copy = tmp_path / "copy.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    deals = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c", "d"],
            "stage": ["Closed Won", "Closed Lost", "Closed Won", "Qualify"],
            "status": ["won", "lost", "won", "open"],
            "amount": [100.0, 50.0, 25.0, 10.0],
            "created_at": pd.to_datetime(["2024-06-01", "2024-06-10", "2024-09-01", "2025-03-20"]),
            "closed_at": pd.to_datetime(["2024-07-01", "2024-07-10", "2024-10-01", None]),
        }
    )
    stages = pd.DataFrame(
        {"stage": ["Qualify", "Closed Won", "Closed Lost"], "position": [0, 1, 2],
         "kind": ["open", "won", "lost"]}
    )  # fmt: skip
    engine = store.get_engine(url)
    new_id = store.write_dataset(engine, "small", deals, deals.iloc[0:0][[]], stages)
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en", "dataset": "1"})
    at.sidebar.selectbox(key="flt_dataset").set_value(new_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.date_input(key="flt_period").value == (date(2024, 6, 1), date(2025, 3, 20))
    shown = metrics(at)
    assert (shown["Total opportunities"], shown["Won"]) == ("4", "2")  # all of it, by hand
    assert shown["Win rate (count)"] == "66.7%"  # 2 won of 3 closed
