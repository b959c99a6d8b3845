"""--lang on every command that prints or writes words, defaulting from the system locale
(LC_ALL, else LC_MESSAGES, else LANG: zh-CN when it starts with "zh", else English)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from dealscope.cli import build_parser, main
from dealscope.cli.common import system_language
from dealscope.formatting import format_amount, format_pct
from dealscope.metrics.kpis import compute_summary, infer_as_of

CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({}, "en"),
        ({"LANG": ""}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "zh_CN.GB18030", "LC_MESSAGES": "en_US", "LANG": "en_US"}, "zh-CN"),
        ({"LC_ALL": "", "LANG": "zh_SG.UTF-8"}, "zh-CN"),  # empty LC_ALL does not count
    ],
)
def test_system_language_follows_posix_precedence(environ, expected):
    assert system_language(environ) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--dataset", "d", "--out", "r.html"],
        ["metrics", "--dataset", "d"],
        ["risk", "train", "--dataset", "d"],
        ["risk", "score", "--dataset", "d", "--out", "s.csv"],
    ],
)
def test_every_command_with_words_takes_lang(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    assert parser.parse_args([*argv, "--lang", "en"]).lang == "en"
    assert parser.parse_args([*argv, "--lang", "zh-CN"]).lang == "zh-CN"
    assert parser.parse_args(argv).lang is None  # resolved from the locale when the command runs
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--lang", "fr"])


def _set_locale(monkeypatch, value: str | None) -> None:
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if value is not None:
        monkeypatch.setenv("LANG", value)


def _metrics_text(capsys, demo_db_url, *extra) -> str:
    assert main(["metrics", "--dataset", "demo", "--db", demo_db_url, *extra]) == 0
    return capsys.readouterr().out


def test_metrics_text_follows_the_locale_and_lang(capsys, monkeypatch, demo_db_url, demo_dataset):
    opps = demo_dataset.opportunities
    summary = compute_summary(opps, infer_as_of(opps, demo_dataset.stage_events))
    _set_locale(monkeypatch, "zh_CN.UTF-8")
    chinese = _metrics_text(capsys, demo_db_url)
    assert "赢单金额: " + format_amount(summary["won_amount"], "CNY", "zh-CN") in chinese
    assert format_amount(summary["won_amount"], "CNY", "zh-CN").endswith("亿")
    assert "赢单率（按数量）: " + format_pct(summary["win_rate_count"]) in chinese
    _set_locale(monkeypatch, "en_US.UTF-8")
    english = _metrics_text(capsys, demo_db_url)
    assert "Won value: " + format_amount(summary["won_amount"], "CNY", "en") in english
    assert "Median days to win: " in english and " days\n" in english
    assert not CJK.search(english.replace("demo", ""))
    # --lang wins over the locale; no locale at all means English.
    assert "赢单金额" in _metrics_text(capsys, demo_db_url, "--lang", "zh-CN")
    _set_locale(monkeypatch, None)
    assert "Won value" in _metrics_text(capsys, demo_db_url)


def test_report_language_defaults_from_the_locale(monkeypatch, demo_db_url, tmp_path, capsys):
    args = ["report", "--dataset", "demo", "--week", "2026-W45", "--db", demo_db_url]
    _set_locale(monkeypatch, "en_US.UTF-8")
    assert main([*args, "--out", str(tmp_path / "en.md")]) == 0
    english = (tmp_path / "en.md").read_text(encoding="utf-8")
    assert "Bottleneck stage of the week" in english and "个百分点" not in english
    assert "Win rate (count)" in capsys.readouterr().out
    _set_locale(monkeypatch, "zh_CN.UTF-8")
    assert main([*args, "--out", str(tmp_path / "zh.md")]) == 0
    chinese = (tmp_path / "zh.md").read_text(encoding="utf-8")
    assert "本周瓶颈阶段" in chinese
    assert not re.search(r"\d pp\b", chinese)  # percentage points are 个百分点 in Chinese
    assert "赢单率（按数量）" in capsys.readouterr().out


def test_risk_scores_csv_has_no_chinese_in_english(monkeypatch, demo_db_url, tmp_path):
    """The tier names and reasons of `risk score` follow --lang (and the locale)."""
    monkeypatch.setenv("DEALSCOPE_MODEL_DIR", str(tmp_path / "models"))
    _set_locale(monkeypatch, "en_US.UTF-8")
    out = tmp_path / "scores.csv"
    assert main(["risk", "score", "--dataset", "demo", "--db", demo_db_url, "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["tag"] for r in rows} <= {"At risk", "Follow up", "Likely to win"}
    # Reasons name stages and segments from the data (Chinese in the demo): only those may be.
    words = " ".join(r["reasons"] + r["signals"] for r in rows)
    assert "流失" not in words and "停滞" not in words
