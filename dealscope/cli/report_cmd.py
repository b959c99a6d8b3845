"""`report`: write the weekly review of a dataset as a self-contained HTML or a Markdown file."""

from __future__ import annotations

from pathlib import Path

from dealscope import store
from dealscope.cli.common import (
    DATASET_HELP,
    add_db_option,
    dataset_id,
    open_engine,
    print_json,
    writable_file,
)
from dealscope.errors import DealScopeError
from dealscope.i18n import LANGUAGES
from dealscope.report.assemble import build_weekly_report, key_figures
from dealscope.report.render_html import render_html
from dealscope.report.render_md import render_markdown

RENDERERS = {".html": render_html, ".htm": render_html, ".md": render_markdown}


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="write the weekly review (HTML or Markdown)")
    parser.add_argument("--dataset", required=True, help=DATASET_HELP)
    parser.add_argument(
        "--week", help="ISO week YYYY-Www (default: the last complete week of the data)"
    )
    parser.add_argument(
        "--compare-to", help="an earlier export (id:N or a name) for the two-snapshot diff"
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="zh-CN", help="report language")
    parser.add_argument(
        "--out", required=True, type=writable_file, help="output file: FILE.html or FILE.md"
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print the key figures as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    out = Path(args.out)
    renderer = RENDERERS.get(out.suffix.lower())
    if renderer is None:
        raise DealScopeError(f"--out {args.out!r} must end in .html or .md")
    engine = open_engine(args.db)
    dataset = store.read_dataset(engine, dataset_id(engine, args.dataset))
    compare = (
        store.read_dataset(engine, dataset_id(engine, args.compare_to)) if args.compare_to else None
    )
    document = build_weekly_report(dataset, args.week, compare)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(renderer(document, args.lang), encoding="utf-8")
    except OSError as exc:
        raise DealScopeError(f"cannot write {out}: {exc.strerror or exc}") from exc
    figures = key_figures(document)
    if args.json:
        print_json({"out": str(out), **figures})
    else:
        print(f"wrote {out} (week {figures['week']} of dataset {figures['dataset']!r})")
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
    return 0
