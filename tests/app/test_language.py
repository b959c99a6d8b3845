"""One language at a time (issue 13): every page, rendered on the demo in each language, shows no
catalog string of the other language; the English pages show Chinese only inside user data, the
Chinese pages no "pp", no English month names, and every chart carries the page's Vega locale."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from dealscope import store
from dealscope.activity.store import read_activities
from dealscope.i18n import catalog
from dealscope.risk import registry
from tests.app.test_risk import wait_for_model
from tests.app.visible_text import (
    chart_locales,
    cjk_runs,
    english_only_fragments,
    literal_cells,
    visible_strings,
)
from ui.nav import PAGES

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """One model folder for the module: the Risk page trains once, then both languages read it."""
    directory = tmp_path_factory.mktemp("models")
    previous = os.environ.get(registry.MODEL_DIR_ENV)
    os.environ[registry.MODEL_DIR_ENV] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop(registry.MODEL_DIR_ENV, None)
    else:
        os.environ[registry.MODEL_DIR_ENV] = previous


def render(open_app, db_url, page, lang, model_dir, dataset):
    """The page after its first run; the Risk page once its model is trained (the card, table
    and chart are what carry its words)."""
    at = open_app(db_url, page.script, query={"lang": lang})
    if page.url_path == "risk":
        wait_for_model(model_dir, dataset, db_url=db_url)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.dataframe, "the risk page drew no table after training"
    return at


@pytest.fixture(scope="module")
def user_data_runs(demo_db_url) -> set[str]:
    """Chinese text the demo's own data holds (names, stages, regions, reasons, contacts …)."""
    engine = store.get_engine(demo_db_url)
    dataset = store.read_dataset(engine, "demo")
    frames = [dataset.opportunities, dataset.stage_events, read_activities(engine, dataset.id)]
    values = [dataset.name]
    for frame in frames:
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                values.extend(frame[column].dropna().astype(str).unique().tolist())
    return cjk_runs(values)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.url_path)
def test_english_pages_hold_no_chinese_outside_user_data(
    open_app, demo_db_url, demo_dataset, model_dir, page, user_data_runs
):
    at = render(open_app, demo_db_url, page, "en", model_dir, demo_dataset)
    shown = visible_strings(at)
    assert shown, "nothing collected: the collector is broken"
    # The language switch names each language in itself ("中文"): the one Chinese word allowed.
    allowed = user_data_runs | {"中文"}
    leaks = sorted(
        {f"{run!r} in {text[:120]!r}" for text in shown for run in cjk_runs([text]) - allowed}
    )
    assert leaks == []
    assert all(
        loc is not None and loc["time"]["months"][0] == "January" for loc in chart_locales(at)
    )
    assert literal_cells(at) == []  # missing shows as "—", yes / no as words


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.url_path)
def test_chinese_pages_hold_no_english_catalog_text(
    open_app, demo_db_url, demo_dataset, model_dir, page
):
    at = render(open_app, demo_db_url, page, "zh-CN", model_dir, demo_dataset)
    shown = visible_strings(at)
    assert shown
    fragments = english_only_fragments()
    leaks = sorted({f"{f!r} in {text[:120]!r}" for text in shown for f in fragments if f in text})
    assert leaks == []
    pp = [text for text in shown if re.search(r"\d\s*pp\b", text)]
    assert pp == []  # percentage points are 个百分点 in Chinese
    months = [text for text in shown for m in MONTHS if re.search(rf"\b{m}\b", text)]
    assert months == []
    assert literal_cells(at) == []  # no "None" / "True" in a table: "—" and 是 / 否
    zh_months = catalog("zh-CN")["format.vega.months"].split(", ")
    assert all(loc is not None and loc["time"]["months"] == zh_months for loc in chart_locales(at))


def test_the_leak_checks_can_fail():
    """The checks find what they look for: an English phrase and a Chinese word out of place."""
    assert "Median days to win" in english_only_fragments()
    assert "KM" not in english_only_fragments()  # codes and names are neutral
    assert cjk_runs(["Key contact changes (关键决策人变动)"]) == {"关键决策人变动"}
