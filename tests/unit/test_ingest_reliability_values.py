"""RELIABILITY.md §5.3: dates (D1–D7), amounts (A1–A8), ids, categories and logic (I1–I8)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dealscope.export import to_safe_csv
from dealscope.ingest.parse_amounts import parse_amounts
from dealscope.ingest.parse_dates import parse_dates
from tests.unit.ingest_fixtures import csv_bytes, reasons, run

T = pd.Timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/3/5", T("2024-03-05")),  # D1
        ("2024-03-05", T("2024-03-05")),
        ("2024.3.5", T("2024-03-05")),
        ("2024年3月5日", T("2024-03-05")),  # D3
        ("2024年03月05日 14:30", T("2024-03-05 14:30")),
        ("45356", T("2024-03-05")),  # D4, 1900 system
        ("45356.5", T("2024-03-05 12:00")),
        ("1709604000000", T("2024-03-05 10:00")),  # epoch ms, shown in Asia/Shanghai
        ("2024-03-05T10:00+08:00", T("2024-03-05 10:00")),  # D7
        ("2024-03-05T02:00Z", T("2024-03-05 10:00")),
        ("2024-03-05T10:00", T("2024-03-05 10:00")),  # naive = already in the declared zone
    ],
)
def test_d1_d3_d4_d7_date_forms(text, expected):
    result = parse_dates(pd.Series([text]))
    assert result.values.iloc[0] == expected and pd.isna(result.issues.iloc[0])


def test_d4_1904_system_and_implausible_serials():
    assert parse_dates(pd.Series(["43894"]), epoch="1904").values.iloc[0] == T("2024-03-05")
    result = parse_dates(pd.Series(["12000"]))
    assert pd.isna(result.values.iloc[0]) and result.issues.iloc[0] == "implausible-date"


def test_d2_day_month_order_inferred_per_column_or_flagged():
    assert parse_dates(pd.Series(["05.03.2024", "13.03.2024"])).values.tolist() == [
        T("2024-03-05"),
        T("2024-03-13"),
    ]
    assert parse_dates(pd.Series(["03/05/2024", "03/13/2024"])).values.tolist() == [
        T("2024-03-05"),
        T("2024-03-13"),
    ]
    undecided = parse_dates(pd.Series(["03/05/2024", "04/04/2024"]))
    assert undecided.issues.tolist()[0] == "ambiguous-date" and pd.isna(undecided.values.iloc[0])
    assert undecided.values.iloc[1] == T("2024-04-04") and undecided.note == "ambiguous-date-order"
    chosen = parse_dates(pd.Series(["03/05/2024"]), day_first=True)
    assert chosen.values.iloc[0] == T("2024-05-03")


def test_d3_no_year_is_flagged():
    result = parse_dates(pd.Series(["3月5日"]))
    assert pd.isna(result.values.iloc[0]) and result.issues.iloc[0] == "no-year-date"


def test_d5_mixed_formats_parsed_per_cell_failures_flagged_row_kept():
    rows = [["id", "stage", "created"], ["1", "Won", "2024-03-05"], ["2", "Won", "2024年3月6日"],
            ["3", "Won", "45358"], ["4", "Won", "soon"]]  # fmt: skip
    result = run({"d.csv": csv_bytes(rows)})
    created = result.opportunities["created_at"].tolist()
    assert created[:3] == [T("2024-03-05"), T("2024-03-06"), T("2024-03-07")] and pd.isna(
        created[3]
    )
    assert (5, "bad-date") in reasons(result, "flagged") and result.files[0].rows_loaded == 4


@pytest.mark.parametrize("text", ["0000-00-00", "1900-01-00", "9999-12-31", "待定"])
def test_d6_placeholders_flagged_not_epoch(text):
    result = parse_dates(pd.Series([text]))
    assert pd.isna(result.values.iloc[0]) and result.issues.iloc[0] == "placeholder-date"


def test_d6_dash_is_a_null_not_an_issue():
    result = parse_dates(pd.Series(["--"]))
    assert pd.isna(result.values.iloc[0]) and pd.isna(result.issues.iloc[0])


def test_d7_offsets_normalised_to_the_declared_zone():
    result = parse_dates(pd.Series(["2024-03-05T10:00+08:00", "2024-03-05T10:00"]), zone="UTC")
    assert result.values.tolist() == [T("2024-03-05 02:00"), T("2024-03-05 10:00")]


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("¥1,234.50", 1234.5, "CNY"),  # A1
        ("￥1,234.50", 1234.5, "CNY"),
        ("RMB 1234.5", 1234.5, "CNY"),
        ("1234.50元", 1234.5, "CNY"),
        ("$2,361", 2361.0, "USD"),
        ("12.5万", 125_000.0, None),  # A3
        ("3亿", 300_000_000.0, None),
        ("1.2千", 1200.0, None),
        ("一万二千", 12_000.0, None),
        ("(1,234)", -1234.0, None),  # A4
        ("-1234", -1234.0, None),
        ("1234-", -1234.0, None),
        ("１２３４", 1234.0, None),  # A5
        ("1\u00a0234.50", 1234.5, None),
        ("1\u2009234.50", 1234.5, None),
        ("1.2E+07", 12_000_000.0, None),  # A6
        ("5k", 5000.0, None),
    ],
)
def test_a1_a6_amount_forms(text, value, currency):
    result = parse_amounts(pd.Series([text]))
    assert result.values.iloc[0] == pytest.approx(value)
    assert (None if pd.isna(result.currency.iloc[0]) else result.currency.iloc[0]) == currency


def test_a2_european_decimals_inferred_per_column_and_mixed_flagged():
    result = parse_amounts(pd.Series(["1.234,50 €", "1 234,50", "1’234,50"]))
    assert result.values.tolist() == [1234.5, 1234.5, 1234.5] and result.decimal == ","
    mixed = parse_amounts(pd.Series(["1,234", "2.50", "3,75"]))
    assert mixed.issues.iloc[0] == "ambiguous-number"


@pytest.mark.parametrize("token", ["-", "—", "N/A", "NA", "None", "null", "暂无", "/", ""])
def test_a7_null_tokens_in_amounts(token):
    result = parse_amounts(pd.Series([token]))
    assert pd.isna(result.values.iloc[0]) and pd.isna(result.issues.iloc[0])


def test_a7_names_keep_na_none_literally_and_a8_probability_kept_verbatim():
    rows = [["商机编号", "商机名称", "客户名称", "阶段", "Probability (%)"], ["1", "NA", "None", "赢单", "80%"],
            ["2", "null", "N/A", "输单", "120%"]]  # fmt: skip
    opps = run({"n.csv": csv_bytes(rows)}).opportunities
    assert opps["name"].tolist() == ["NA", "null"] and opps["account"].tolist() == ["None", "N/A"]
    assert json.loads(opps["extra"].iloc[0]) == {"Probability (%)": "80%"}


def test_a6_id_in_scientific_notation_rejected():
    rows = [["商机编号", "阶段"], ["1.23457E+17", "赢单"], ["123456789012345678", "赢单"]]
    result = run({"sci.csv": csv_bytes(rows)})
    assert reasons(result, "rejected") == [(2, "id-precision-lost")]
    assert result.opportunities["opportunity_id"].tolist() == ["123456789012345678"]  # I2


def test_a4_negative_amount_loaded_and_flagged():
    result = run({"n.csv": csv_bytes([["商机编号", "阶段", "金额"], ["1", "需求确认", "(1,234)"]])})
    assert (
        result.opportunities["amount"].iloc[0] == -1234
        and "negative-amount" in result.opportunities["flags"].iloc[0]
    )


DUPES = [["商机编号", "阶段"], ["A-1", "赢单"], ["a-1 ", "输单"], ["Ａ－１", "输单"], ["B", "赢单"]]


def test_i1_duplicate_ids_reported_with_both_lines_keep_first():
    result = run({"dup.csv": csv_bytes(DUPES)})
    rejected = result.rejects
    assert rejected["reason"].tolist() == ["duplicate-id", "duplicate-id"]
    assert rejected["detail"].tolist()[0] == "kept line 2; lines 2, 3, 4 (policy keep-first)"
    assert result.opportunities["opportunity_id"].tolist() == ["A-1", "B"]


@pytest.mark.parametrize(
    ("policy", "kept"), [("keep-last", ["Ａ－１", "B"]), ("reject-all", ["B"])]
)
def test_i1_duplicate_policies(policy, kept):
    result = run({"dup.csv": csv_bytes(DUPES)}, duplicate_policy=policy)
    assert result.opportunities["opportunity_id"].tolist() == kept


def test_i2_leading_zeros_and_long_ids_stay_strings():
    rows = [["商机编号", "阶段"], ["000123", "赢单"], ["12345678901234567890", "赢单"]]
    assert run({"i.csv": csv_bytes(rows)}).opportunities["opportunity_id"].tolist() == [
        "000123",
        "12345678901234567890",
    ]


def test_i3_stage_synonyms_and_unknown_stages_kept_and_flagged():
    rows = [
        ["id", "stage"],
        ["1", "赢单"],
        ["2", "Closed Won"],
        ["3", "closed-won "],
        ["4", "阶段5"],
        ["5", "流失"],
    ]
    result = run({"s.csv": csv_bytes(rows)})
    opps = result.opportunities
    assert opps["status"].tolist() == ["won", "won", "won", "open", "lost"]
    assert result.unknown_stages == ["阶段5"] and opps["stage"].iloc[3] == "阶段5"
    assert "unknown-stage" in opps["flags"].iloc[3]


def test_i4_logic_flags_rows_kept():
    rows = [["id", "stage", "amount", "created", "close date"],
            ["1", "Won", "100", "2024-03-05", "2024-03-01"], ["2", "Won", "0", "2024-03-05", "2024-04-01"],
            ["3", "Won", "5", "2024-03-05", "2030-01-01"]]  # fmt: skip
    result = run({"l.csv": csv_bytes(rows)})
    flags = result.opportunities["flags"].tolist()
    assert (
        "close-before-create" in flags[0]
        and "won-zero-amount" in flags[1]
        and "future-date" in flags[2]
    )
    assert result.files[0].rows_loaded == 3


def test_i5_owner_variants_normalised():
    rows = [
        ["id", "stage", "负责人"],
        ["1", "Won", " 王伟 "],
        ["2", "Won", "王伟"],
        ["3", "Won", "Ann  Lee"],
        ["4", "Won", "Ａｎｎ Lee"],
    ]
    assert run({"o.csv": csv_bytes(rows)}).opportunities["owner"].tolist() == [
        "王伟",
        "王伟",
        "Ann Lee",
        "Ann Lee",
    ]


def test_i6_i7_risky_text_stored_verbatim_and_escaped_on_export():
    rows = [["id", "stage", "name"], ["1", "Won", '=HYPERLINK("http://x","click")'], ["2", "Won", "<script>alert(1)</script>"],
            ["3", "Won", "[x](http://t) ![i](http://t/p.png)"]]  # fmt: skip
    result = run({"x.csv": csv_bytes(rows)})
    names = result.opportunities["name"].tolist()
    assert names[0].startswith("=HYPERLINK") and names[1] == "<script>alert(1)</script>"
    exported = to_safe_csv(result.opportunities.loc[:, ["name"]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in exported and "\n=" not in exported


def test_i8_long_notes_control_chars_nul_stripped_with_flag():
    rows = [
        ["id", "stage", "name", "next step"],
        ["1", "Won", "a\x00b\x1b😀\u200b\u202e", "n" * 100_000],
    ]
    result = run({"c.csv": csv_bytes(rows)})
    deal = result.opportunities.iloc[0]
    assert deal["name"] == "ab\x1b😀\u200b\u202e" and len(deal["next_step"]) == 100_000
    assert "nul-stripped" in deal["flags"]
