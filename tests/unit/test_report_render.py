"""Reports and downloads built from hostile data text: escaped in HTML and Markdown, formula-safe
in CSV and XLSX, and complete in both languages."""

import csv
import io
import re
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest

from dealscope.export import to_safe_csv, to_safe_xlsx
from dealscope.model import Dataset, demo_stage_table, normalise_opportunities
from dealscope.report.assemble import build_weekly_report
from dealscope.report.movements import MOVEMENT_KINDS
from dealscope.report.render_html import render_html
from dealscope.report.render_md import escape_md, render_markdown
from dealscope.report.snapshot_diff import CATEGORIES, snapshot_as_of

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](http://evil)"
FORMULA = '=HYPERLINK("http://evil","click")'
HOSTILE = (SCRIPT, IMG, LINK, FORMULA)


def _deal(i: int, text: str, status: str, stage: str, created: str, closed: str | None):
    return {
        "opportunity_id": f"o{i}",
        "name": text,
        "owner": text,
        "account": text,
        "amount": 1000.0 * (i + 1),
        "currency": "CNY",
        "stage": stage,
        "status": status,
        "created_at": pd.Timestamp(created),
        "closed_at": pd.Timestamp(closed) if closed else None,
        "last_activity_at": pd.Timestamp("2023-12-01"),
        "lost_reason": text if status == "lost" else None,
    }


@pytest.fixture(scope="module")
def hostile_report():
    # Each hostile text sits in a deal that is created, advanced, won or lost in 2024-W02, so it
    # reaches every table of the report.
    rows, events = [], []
    for i, text in enumerate(HOSTILE):
        rows.append(_deal(i, text, "lost", "输单", "2024-01-08 10:00", "2024-01-10 10:00"))
        events += [(f"o{i}", "线索", "2024-01-08 10:00"), (f"o{i}", "输单", "2024-01-10 10:00")]
        j = i + 10
        rows.append(_deal(j, text, "won", "赢单", "2024-01-02 10:00", "2024-01-11 10:00"))
        events += [
            (f"o{j}", "线索", "2024-01-02 10:00"),
            (f"o{j}", "需求确认", "2024-01-09 10:00"),
            (f"o{j}", "赢单", "2024-01-11 10:00"),
        ]
        k = i + 20
        rows.append(_deal(k, text, "open", "方案提交", "2023-11-01 10:00", None))
        events += [(f"o{k}", "方案提交", "2023-11-01 10:00")]
    # A deal created after the week, so that 2024-W02 is complete as of the data's date.
    rows.append(_deal(99, "later", "open", "线索", "2024-01-16 10:00", None))
    events += [("o99", "线索", "2024-01-16 10:00")]
    opps = normalise_opportunities(pd.DataFrame(rows))
    stage_events = pd.DataFrame(events, columns=["opportunity_id", "stage", "entered_at"])
    stage_events["entered_at"] = pd.to_datetime(stage_events["entered_at"])
    stages = demo_stage_table()
    dataset = Dataset(7, f"{SCRIPT} {LINK}", opps, stage_events, stages, {})
    old = Dataset(
        6,
        IMG,
        snapshot_as_of(opps, stage_events, pd.Timestamp("2024-01-09")),
        stage_events.iloc[:0],
        stages,
        {},
    )
    return build_weekly_report(dataset, "2024-W02", old)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def test_the_fixture_reaches_every_table(hostile_report):
    for kind in ("created", "advanced", "won", "lost"):
        assert set(hostile_report.movements[kind]["name"]) >= set(HOSTILE), kind
    assert set(hostile_report.comparison.deals["won"]["name"]) >= set(HOSTILE)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_html_report_escapes_data_text(hostile_report, lang):
    html = render_html(hostile_report, lang)
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags and "a" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    # Self-contained: nothing is fetched when the file is opened offline.
    assert not re.search(r"(src|href)\s*=\s*['\"]?https?:", html)
    assert "<svg" in html  # the charts are inline SVG


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_markdown_report_escapes_data_text(hostile_report, lang):
    md = render_markdown(hostile_report, lang)
    assert LINK not in md
    assert r"\[x\](http://evil)" in md
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    # No table row is broken by a data '|': every row of a table has its header's cell count.
    for block in re.findall(r"(?:^\|.*\|$\n?)+", md, flags=re.MULTILINE):
        lines = block.strip().splitlines()
        cells = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(cells) == 1, lines[:3]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", r"a\|b"),
        ("*bold* _it_", r"\*bold\* \_it\_"),
        ("![i](http://t)", r"!\[i\](http://t)"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("two\nlines", "two lines"),
        ("`code`", r"\`code\`"),
        ("¥1,234.5万 - 2024-01-08", "¥1,234.5万 - 2024-01-08"),
    ],
)
def test_escape_md(text, escaped):
    assert escape_md(text) == escaped


def _all_tables(report):
    tables = [report.movements[k] for k in MOVEMENT_KINDS]
    tables += [report.at_risk.table, report.lost_reasons]
    tables += [report.comparison.deals[c] for c in CATEGORIES]
    return [t for t in tables if not t.empty]


def test_csv_downloads_neutralise_formulas(hostile_report):
    for table in _all_tables(hostile_report):
        text = to_safe_csv(table).decode("utf-8-sig")
        for record in csv.reader(io.StringIO(text)):
            for cell in record:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        if (table == FORMULA).any().any():
            assert "'" + FORMULA.replace('"', '""') in text


def test_xlsx_downloads_hold_no_formula_cells(hostile_report):
    for table in _all_tables(hostile_report):
        book = openpyxl.load_workbook(io.BytesIO(to_safe_xlsx(table)))
        cells = [c for r in book.active.iter_rows() for c in r]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
