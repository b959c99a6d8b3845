"""RELIABILITY A8: probability columns (`80%`, `0.8`, `80`) normalised to 0–1, the scale decided per
column, undecidable cells and values outside 0–100 % flagged (never rejected), the source text kept;
the canonical `probability` column is stored, read back from old databases, and never a feature."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.i18n import t
from dealscope.ingest.parse_probability import FRACTION, MIXED, PERCENT, parse_probabilities
from dealscope.ingest.persist import save_result
from dealscope.ingest.synonyms import match_header
from dealscope.model import demo_stage_table
from dealscope.risk import availability as A
from dealscope.risk.features import SEGMENT_FEATURES
from tests.unit.ingest_fixtures import conserved, csv_bytes, run, xlsx_bytes


def parse(cells):
    result = parse_probabilities(pd.Series(cells, dtype=object))
    return result.values.tolist(), result.issues.tolist(), result.scale


@pytest.mark.parametrize(
    "header",
    ["Probability (%)", "Probability", "Deal probability", "Deal - Probability", "赢率", "成交概率",
     "赢单率", "概率", "可能性", "赢率(%)", "Ｐｒｏｂａｂｉｌｉｔｙ"],
)  # fmt: skip
def test_probability_headers_in_both_languages_are_recognised(header):
    assert match_header(header)[0] == "probability"


@pytest.mark.parametrize(
    ("cells", "expected", "scale"),
    [
        (
            ["80%", "80 %", "８０％", "12,5%", "0%", "100%"],
            [0.8, 0.8, 0.8, 0.125, 0.0, 1.0],
            PERCENT,
        ),
        (["80", "10", "1", "0", "100"], [0.8, 0.1, 0.01, 0.0, 1.0], PERCENT),  # 80 ⇒ percent column
        (["0.8", "0.25", "1", "0", ".5"], [0.8, 0.25, 1.0, 0.0, 0.5], FRACTION),  # all ≤ 1
        (["80%", "20"], [0.8, 0.2], PERCENT),
    ],
)
def test_the_scale_is_decided_per_column_from_unambiguous_values(cells, expected, scale):
    values, issues, found = parse(cells)
    assert values == pytest.approx(expected) and issues == [None] * len(cells) and found == scale


def test_the_same_text_means_different_things_in_different_columns():
    assert parse(["1", "0.5"])[0] == [1.0, 0.5]  # a fraction column: 1 = 100 %
    assert parse(["1", "50"])[0] == pytest.approx([0.01, 0.5])  # a percent column: 1 = 1 %


def test_undecidable_cells_are_flagged_and_left_empty_not_guessed():
    values, issues, scale = parse(["80%", "0.8", "1", "0", "90"])
    assert scale == MIXED
    assert values[0] == 0.8 and values[3] == 0.0 and values[4] == pytest.approx(0.9)
    assert np.isnan(values[1]) and np.isnan(values[2])
    assert issues == [None, "ambiguous-probability", "ambiguous-probability", None, None]


def test_out_of_range_values_are_loaded_as_read_and_flagged():
    values, issues, _ = parse(["120%", "150", "-5", "50"])
    assert values == pytest.approx([1.2, 1.5, -0.05, 0.5])
    assert issues == ["probability-out-of-range"] * 3 + [None]
    assert parse(["-0.1", "0.5"])[:2] == ([-0.1, 0.5], ["probability-out-of-range", None])


def test_null_tokens_are_null_and_text_is_a_bad_probability():
    values, issues, scale = parse(["", "—", "N/A", "high", "80%%"])
    assert all(np.isnan(v) for v in values) and scale is None
    assert issues == [None, None, None, "bad-probability", "bad-probability"]


def test_whole_pipeline_loads_flags_and_keeps_the_source_text():
    rows = [["商机编号", "阶段", "赢率"], ["1", "需求确认", "80%"], ["2", "赢单", "120%"],
            ["3", "输单", "高"], ["4", "需求确认", "0.5"], ["5", "需求确认", ""]]  # fmt: skip
    result = run({"p.csv": csv_bytes(rows)})
    opps = result.opportunities.set_index("opportunity_id")
    assert (
        opps["probability"].tolist()[:2] == [0.8, 1.2] and opps["probability"].iloc[2:].isna().all()
    )
    assert result.files[0].rows_loaded == 5 and conserved(result)  # nothing rejected
    report = result.report
    flagged = report[(report["outcome"] == "flagged") & (report["column"] == "赢率")]
    assert list(
        zip(flagged["line"], flagged["column"], flagged["value"], flagged["reason"], strict=True)
    ) == [
        (3, "赢率", "120%", "probability-out-of-range"),
        (4, "赢率", "高", "bad-probability"),
        (5, "赢率", "0.5", "ambiguous-probability"),
    ]
    assert "probability-out-of-range" in opps.loc["2", "flags"]
    assert [json.loads(e)["赢率"] for e in opps["extra"]] == ["80%", "120%", "高", "0.5", ""]
    assert any("赢率: probability mixes" in note for note in result.files[0].notes)


def test_probability_round_trips_through_the_store(empty_db_url):
    rows = [["商机编号", "阶段", "Probability (%)"], ["1", "需求确认", "80"], ["2", "赢单", "100"]]
    result = run({"p.csv": csv_bytes(rows)})
    engine = store.get_engine(empty_db_url)
    dataset = store.read_dataset(engine, save_result(engine, "p", result))
    assert dataset.opportunities["probability"].tolist() == [0.8, 1.0]
    assert dataset.opportunities["probability"].dtype == "float64"


def _old_database(url: str) -> None:
    """A database written by a release without the probability column, holding one dataset."""
    engine = store.get_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE opportunities DROP COLUMN probability")
    opps = pd.DataFrame({"opportunity_id": ["1"], "stage": ["线索"], "status": ["open"]})
    columns = ("opportunity_id", "stage", "status")
    with engine.begin() as conn:
        conn.execute(
            store.datasets.insert().values(
                id=1, name="old", version=1, created_at=pd.Timestamp("2024-01-01"),
                source_files="[]", rows_in=1, rows_loaded=1, rows_rejected=0, rows_excluded=0,
                opportunity_count=1, stage_event_count=0,
            )
        )  # fmt: skip
        conn.exec_driver_sql(
            "INSERT INTO opportunities (dataset_id, opportunity_id, stage, status) VALUES (1, ?, ?, ?)",
            tuple(opps.loc[0, list(columns)]),
        )
        conn.execute(
            store.stages.insert(), [{"dataset_id": 1, **r} for r in demo_stage_table().to_dict("records")]
        )  # fmt: skip
    engine.dispose()


def _columns(url: str) -> set[str]:
    return {c["name"] for c in sa.inspect(sa.create_engine(url)).get_columns("opportunities")}


def test_an_old_database_gains_the_column_and_still_loads(empty_db_url):
    _old_database(empty_db_url)
    assert "probability" not in _columns(empty_db_url)
    engine = store.get_engine(empty_db_url)
    assert "probability" in _columns(empty_db_url)  # additive upgrade on connect
    old = store.read_dataset(engine, "old").opportunities
    assert old["opportunity_id"].tolist() == ["1"] and old["probability"].isna().all()
    rows = [["商机编号", "阶段", "赢率"], ["9", "需求确认", "30%"]]
    new_id = save_result(engine, "new", run({"p.csv": csv_bytes(rows)}))
    assert store.read_dataset(engine, new_id).opportunities["probability"].tolist() == [0.3]


def test_an_old_database_that_may_not_be_altered_is_still_readable(empty_db_url, monkeypatch):
    _old_database(empty_db_url)

    def refuse(*_args):
        raise sa.exc.OperationalError(
            "ALTER TABLE", {}, Exception("attempt to write a readonly database")
        )

    monkeypatch.setattr(store, "_add_column", refuse)
    engine = store.get_engine(empty_db_url)
    assert "probability" not in _columns(empty_db_url)
    old = store.read_dataset(engine, "old").opportunities
    assert old["opportunity_id"].tolist() == ["1"] and old["probability"].isna().all()


def test_probability_is_never_a_feature_and_is_listed_with_its_reason():
    assert "probability" in A.FINAL_STATE_FIELDS and "probability" not in SEGMENT_FEATURES
    opps = pd.DataFrame({"opportunity_id": ["1"], "probability": [0.8], "extra": [None]})
    spec = A.choose_spec(
        pd.DataFrame(
            {
                "opportunity_id": ["1"],
                "status": ["open"],
                "amount": [np.nan],
                "closed_at": [pd.NaT],
                "probability": [0.8],
            }
        ),
        pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"]),
        pd.Timestamp("2024-01-01"),
    )
    assert "probability" not in spec.columns
    table = A.availability_table(spec, "amount_absent", A.excluded_fields(opps))
    rows = [r for r in table if r.feature == "probability"]
    assert len(rows) == 1 and rows[0].used is False  # listed once, with its own reason
    why = {lang: t(f"risk.avail.{rows[0].code}", lang) for lang in ("en", "zh-CN")}
    assert "100% / 0%" in why["en"] and "赢率" in why["zh-CN"]


def test_xlsx_percent_cells_are_fractions_and_typed_percentages_are_percent():
    numbers = run(
        {"n.xlsx": xlsx_bytes([["商机编号", "阶段", "赢率"], ["1", "线索", 0.8], ["2", "线索", 1]])}
    )
    assert numbers.opportunities["probability"].tolist() == [0.8, 1.0]  # Excel stores 80% as 0.8
    typed = run(
        {
            "t.xlsx": xlsx_bytes(
                [["商机编号", "阶段", "赢率"], ["1", "线索", "80%"], ["2", "线索", 60]]
            )
        }
    )
    assert typed.opportunities["probability"].tolist() == [0.8, 0.6]
