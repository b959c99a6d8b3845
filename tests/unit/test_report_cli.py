"""`python -m dealscope report`: files written in both formats, and actionable errors."""

import pytest

from dealscope.cli import main


@pytest.mark.parametrize(("suffix", "marker"), [(".html", "<!DOCTYPE html>"), (".md", "# Weekly")])
def test_report_writes_html_and_markdown(demo_db_url, tmp_path, suffix, marker):
    out = tmp_path / f"sub/report{suffix}"
    args = ["report", "--dataset", "demo", "--week", "2026-W45", "--lang", "en"]
    assert main([*args, "--out", str(out), "--db", demo_db_url]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith(marker)
    assert "2026-W45" in text and "Bottleneck stage of the week" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--week", "2026-46"], "not an ISO week"),
        (["--week", "2025-W53"], "does not exist"),
        (
            ["--week", "2026-W47"],
            "outside the data: choose a complete week from 2025-W10 to 2026-W46",
        ),
        (["--week", "2024-W01"], "outside the data"),
        (["--compare-to", "nope"], "No dataset named 'nope'"),
    ],
)
def test_report_errors_are_clear(demo_db_url, tmp_path, capsys, extra, message):
    out = tmp_path / "r.html"
    code = main(["report", "--dataset", "demo", "--out", str(out), "--db", demo_db_url, *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_report_rejects_an_unknown_output_format(demo_db_url, tmp_path, capsys):
    code = main(
        ["report", "--dataset", "demo", "--out", str(tmp_path / "r.pdf"), "--db", demo_db_url]
    )
    assert code == 2 and ".html or .md" in capsys.readouterr().err
