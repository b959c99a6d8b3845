"""The Maven CRM pipeline loads whole: 8,800 rows in, 8,800 accounted for, published figures."""

from __future__ import annotations

import pytest

from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.metrics.kpis import compute_summary, infer_as_of
from dealscope.model import settle_late_closes
from tests.unit.ingest_fixtures import maven_dir

MAVEN = maven_dir()
pytestmark = pytest.mark.skipif(
    not (MAVEN / "sales_pipeline.csv").exists(),
    reason=f"Maven dataset not found at {MAVEN} (../shared is absent)",
)


@pytest.fixture(scope="module")
def maven():
    names = ("sales_pipeline.csv", "sales_teams.csv")
    return ingest_files([SourceFile(n, (MAVEN / n).read_bytes()) for n in names])


def test_every_row_accounted_for(maven):
    pipeline, teams = maven.files
    assert (pipeline.layout, teams.layout) == ("generic", "lookup")
    assert pipeline.rows_in == 8_800 and pipeline.rows_loaded == 8_800
    assert pipeline.rows_rejected == pipeline.rows_excluded == 0
    assert len(maven.opportunities) == 8_800


def test_mapping_stages_and_join(maven):
    mapping = maven.mapping["sales_pipeline.csv"]["columns"]
    assert mapping["engage_date"] == "created_at" and mapping["close_value"] == "amount"
    assert mapping["deal_stage"] == "stage" and mapping["product"] is None  # kept in extra
    assert maven.stages["stage"].tolist() == ["Prospecting", "Engaging", "Won", "Lost"]
    assert maven.stages["kind"].tolist() == ["open", "open", "won", "lost"]
    opps = maven.opportunities
    assert opps["team"].notna().all() and set(opps["region"]) == {"Central", "East", "West"}
    assert opps["extra"].str.contains('"product":"GTXPro"').sum() > 0  # verbatim, not "corrected"


def test_prospecting_rows_loaded_and_flagged_without_created_date(maven):
    opps = maven.opportunities
    prospecting = opps[opps["stage"] == "Prospecting"]
    assert prospecting["created_at"].isna().all()
    assert prospecting["flags"].str.contains("missing-created").all()
    assert (maven.report["reason"] == "missing-created").sum() == len(prospecting)


def test_published_figures(maven):
    # As the app and CLI analyse it: the export's date is the latest engage date, and deals the
    # export calls won / lost with a close date after that stay won / lost (Dataset.settled).
    as_of = infer_as_of(maven.opportunities)
    opps = settle_late_closes(maven.opportunities, as_of)
    summary = compute_summary(opps, as_of)
    assert (summary["won"], summary["lost"]) == (4_238, 2_473)
    assert round(summary["win_rate_count"] * 100, 1) == 63.2
    assert round(summary["avg_won_amount"]) == 2_361
