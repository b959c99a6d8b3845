"""Issue 13: the CLI's errors in its language (--lang, else the system locale), one line, exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dealscope.cli import main

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def _locale(monkeypatch, value: str) -> None:
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", value)


def _chinese_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, lines
    prose = re.sub(r"`[^`]*`", "", lines[0])  # a command to type stays as it is
    assert CJK.search(prose) and not ENGLISH_PHRASE.search(prose), lines[0]
    return lines[0]


def test_a_chinese_locale_gets_a_chinese_one_line_error_from_the_cli(empty_db_url):
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    env["LANG"] = "zh_CN.UTF-8"
    done = subprocess.run(
        [sys.executable, "-m", "dealscope", "metrics", "--db", empty_db_url, "--dataset", "nope"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = _chinese_line(done.stderr)
    assert line.startswith("错误：没有名为“nope”的数据集。"), line


def test_a_command_without_lang_follows_the_locale(monkeypatch, capsys, empty_db_url):
    _locale(monkeypatch, "zh_CN.UTF-8")
    code = main(["datasets", "--db", empty_db_url, "rename", "missing", "new"])
    assert code == 2
    line = _chinese_line(capsys.readouterr().err)
    assert "“missing”" in line


def test_lang_wins_over_the_locale(monkeypatch, capsys, empty_db_url):
    _locale(monkeypatch, "zh_CN.UTF-8")
    code = main(["metrics", "--db", empty_db_url, "--dataset", "nope", "--lang", "en"])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        "error: No dataset named 'nope'. List them with `python -m dealscope datasets`, or "
        "create the demo with `python -m dealscope demo`.\n"
    )


@pytest.mark.parametrize("week", ["2026-46", "2025-W53"])
def test_a_bad_week_in_chinese(monkeypatch, capsys, tmp_path, demo_db_url, week):
    _locale(monkeypatch, "en_US.UTF-8")
    out = tmp_path / "r.html"
    code = main(["report", "--db", demo_db_url, "--dataset", "demo", "--week", week,
                 "--out", str(out), "--lang", "zh-CN"])  # fmt: skip
    assert code == 2
    line = _chinese_line(capsys.readouterr().err)
    assert f"“{week}”" in line and not out.exists()
