"""Headline KPIs against hand-computed expectations."""

import pandas as pd
import pytest

from dealscope.metrics.kpis import (
    compute_overview,
    compute_period_kpis,
    compute_summary,
    infer_as_of,
    main_currency,
    main_priced_amount,
    priced_amount,
    status_as_of,
    weekly_flow,
)

D = pd.Timestamp


def fixture() -> pd.DataFrame:
    # Jan = previous period, Feb = current period.
    rows = [
        # id, status, created, closed, amount, currency
        ("w1", "won", D("2024-01-05"), D("2024-02-04"), 100.0, "CNY"),  # 30 days to win
        ("w2", "won", D("2024-02-01"), D("2024-02-11"), 300.0, "CNY"),  # 10 days
        ("l1", "lost", D("2024-01-10"), D("2024-02-20"), 600.0, "CNY"),
        ("l0", "lost", D("2024-01-02"), D("2024-01-20"), 50.0, "CNY"),  # closed in Jan
        ("o1", "open", D("2024-02-10"), pd.NaT, 1000.0, "CNY"),
        ("o2", "open", D("2024-01-15"), pd.NaT, 40.0, "USD"),  # other currency: not priced
        ("late", "won", D("2024-02-25"), D("2024-03-10"), 70.0, "CNY"),  # open at Feb's end
        ("nodate", "open", pd.NaT, pd.NaT, 5.0, "CNY"),
    ]
    return pd.DataFrame(
        rows, columns=["opportunity_id", "status", "created_at", "closed_at", "amount", "currency"]
    )


FEB, MAR = D("2024-02-01"), D("2024-03-01")


def test_period_kpis_by_hand():
    k = compute_period_kpis(fixture(), FEB, MAR, "CNY")
    assert k.total == 7  # all dated deals created before March
    assert k.new == 3  # w2, o1, late
    assert k.open_count == 3  # o1, o2, late (won only in March)
    assert k.open_value == 1070.0  # o1 + late; o2 is USD
    assert (k.won_count, k.won_value) == (2, 400.0)
    assert (k.lost_count, k.lost_value) == (1, 600.0)
    assert k.win_rate_count == pytest.approx(2 / 3)  # open deals never in the denominator
    assert k.win_rate_value == pytest.approx(400 / 1000)
    assert k.median_days_to_win == pytest.approx(20.0)  # median of 30 and 10
    assert k.avg_won_value == 200.0
    assert k.undated == 1


def test_overview_compares_with_the_previous_period_of_equal_length():
    overview = compute_overview(fixture(), FEB, MAR)
    previous = overview.previous  # 2024-01-03 .. 2024-02-01 (29 days back)
    assert overview.currency == "CNY"
    assert overview.other_currency_count == 1
    assert previous.lost_count == 1 and previous.won_count == 0
    assert previous.win_rate_count == 0.0


def test_empty_period_has_no_rates():
    k = compute_period_kpis(fixture(), D("2030-01-01"), D("2030-02-01"), "CNY")
    assert k.win_rate_count is None and k.win_rate_value is None and k.median_days_to_win is None


def test_status_as_of_reopens_deals_closed_later():
    status = status_as_of(fixture(), D("2024-02-15"))
    assert status.tolist() == ["won", "won", "open", "lost", "open", "open", "open", "open"]


def test_summary_is_all_time_as_of_the_date():
    s = compute_summary(fixture(), D("2024-03-31"))
    # The undated open deal counts as open: won + lost + open = opportunities.
    assert (s["opportunities"], s["open"], s["won"], s["lost"]) == (8, 3, 3, 2)
    assert s["won_amount"] == 470.0
    assert s["win_rate_count"] == pytest.approx(3 / 5)
    assert s["median_days_to_win"] == pytest.approx(14.0)  # 30, 10, 14 days
    early = compute_summary(fixture(), D("2024-02-15"))
    assert (early["won"], early["lost"]) == (2, 1)


def test_infer_as_of_is_the_latest_creation_not_a_later_close():
    # Latest created 2024-02-25; the close on 2024-03-10 lies beyond it and does not count.
    assert infer_as_of(fixture().assign(last_activity_at=pd.NaT)) == D("2024-02-25")


def test_weekly_flow_counts_per_monday_week():
    flow = weekly_flow(fixture(), FEB, MAR).set_index(["week", "series"])["count"]
    assert flow[(D("2024-02-05"), "created")] == 1  # o1 on Sat 10 Feb
    assert flow[(D("2024-01-29"), "created")] == 1  # w2 on Thu 1 Feb
    assert flow[(D("2024-02-19"), "lost")] == 1
    assert flow.sum() == 3 + 2 + 1


def test_main_currency_is_the_most_common_and_the_first_seen_on_a_tie():
    frame = pd.DataFrame(
        {"currency": pd.array(["USD", None, "CNY", "CNY", "USD", "EUR"], "string")}
    )
    assert main_currency(frame.iloc[:4]) == "CNY"
    assert main_currency(frame) == "USD"  # USD and CNY both twice: USD appears first
    assert main_currency(frame.iloc[1:2]) is None


def test_priced_amount_keeps_the_currency_and_rows_without_one():
    frame = pd.DataFrame(
        {
            "currency": pd.array(["CNY", None, "USD", "CNY"], "string"),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert priced_amount(frame, "CNY").tolist()[:2] == [1.0, 2.0]
    assert pd.isna(priced_amount(frame, "CNY").iloc[2])
    assert priced_amount(frame, "JPY").isna().tolist() == [True, False, True, True]
    assert priced_amount(frame, None).tolist() == [1.0, 2.0, 3.0, 4.0]
    pd.testing.assert_series_equal(main_priced_amount(frame), priced_amount(frame, "CNY"))
