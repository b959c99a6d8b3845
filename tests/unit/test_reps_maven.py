"""The Maven CRM dataset: per-agent win rates equal a direct count of the publisher's file.

The ingestion module is built in parallel, so this test maps the CSV to canonical columns itself.
"""

import pandas as pd
import pytest

from dealscope.metrics.kpis import infer_as_of
from dealscope.metrics.reps import compute_performance, compute_report_reps
from dealscope.model import normalise_opportunities, settle_late_closes
from tests.conftest import MAVEN_DIR

PIPELINE = MAVEN_DIR / "sales_pipeline.csv"
TEAMS = MAVEN_DIR / "sales_teams.csv"
STATUS = {"Won": "won", "Lost": "lost", "Engaging": "open", "Prospecting": "open"}

pytestmark = pytest.mark.skipif(
    not PIPELINE.exists(), reason=f"Maven dataset not found at {PIPELINE} (../shared is absent)"
)


@pytest.fixture(scope="module")
def maven():
    raw = pd.read_csv(PIPELINE)
    teams = pd.read_csv(TEAMS)
    merged = raw.merge(teams, on="sales_agent", how="left")
    opps = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": merged["opportunity_id"],
                "owner": merged["sales_agent"],
                "team": merged["manager"],
                "region": merged["regional_office"],
                "status": merged["deal_stage"].map(STATUS),
                "stage": merged["deal_stage"],
                "created_at": merged["engage_date"],
                "closed_at": merged["close_date"],
                "amount": merged["close_value"],
                "currency": "USD",
            }
        )
    )
    # As the app and CLI analyse it (Dataset.settled): the export's date is the latest engage
    # date; deals it says are won / lost with a close date after that stay won / lost.
    return raw, settle_late_closes(opps, infer_as_of(opps))


def test_per_agent_win_rates_equal_a_direct_count(maven):
    raw, opps = maven
    as_of = infer_as_of(opps)
    end = as_of + pd.Timedelta(days=1)
    # All history (no period chosen): deals closed after the export's date count by their status.
    table, prior = compute_performance(opps, None, end, as_of)
    closed = raw.loc[raw["deal_stage"].isin(["Won", "Lost"])]
    direct = closed.groupby("sales_agent")["deal_stage"].agg(
        won=lambda s: (s == "Won").sum(), closed="size"
    )
    direct["win_rate"] = direct["won"] / direct["closed"]
    ours = table.set_index("owner").loc[direct.index]
    assert len(direct) == 30  # the 30 agents who closed anything (35 are on the roster)
    assert (ours["won"] == direct["won"]).all()
    assert (ours["closed"] == direct["closed"]).all()
    assert ours["win_rate"].to_numpy() == pytest.approx(direct["win_rate"].to_numpy(), abs=1e-12)
    # The published pooled figure: 4,238 won of 6,711 closed = 63.2%; the prior centres near it.
    assert (int(ours["won"].sum()), int(ours["closed"].sum())) == (4238, 6711)
    assert prior.mean == pytest.approx(4238 / 6711, abs=0.01)
    # Every agent has far more than 20 closed deals: none greyed; shrinkage pulls every rate
    # towards the prior's mean, never past it.
    assert not ours["small_sample"].any()
    assert (
        (ours["win_rate_shrunk"] - prior.mean).abs() <= (ours["win_rate"] - prior.mean).abs()
    ).all()


def test_cli_rows_match_the_direct_count(maven):
    raw, opps = maven
    report = {row["owner"]: row for row in compute_report_reps(opps, infer_as_of(opps))}
    won = raw.loc[raw["deal_stage"].eq("Won")].groupby("sales_agent")
    for agent, value in won["close_value"].sum().items():
        assert report[agent]["won_amount"] == pytest.approx(value)
    lost = raw.loc[raw["deal_stage"].eq("Lost")].groupby("sales_agent").size()
    assert {a: report[a]["lost"] for a in lost.index} == lost.to_dict()
