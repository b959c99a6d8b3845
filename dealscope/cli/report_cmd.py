"""`report`: write the weekly review of a dataset as a self-contained HTML or a Markdown file."""

from __future__ import annotations

from pathlib import Path

from dealscope.activity.store import read_activities
from dealscope.cli.common import (
    DATASET_HELP,
    add_as_of_option,
    add_db_option,
    add_lang_option,
    load_for_analysis,
    open_engine,
    print_json,
    resolve_lang,
    writable_file,
)
from dealscope.cli.text import catalog_labels, figure_lines
from dealscope.errors import DealScopeError
from dealscope.i18n import t
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
    add_lang_option(parser)
    parser.add_argument(
        "--out", required=True, type=writable_file, help="output file: FILE.html or FILE.md"
    )
    add_as_of_option(parser)
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print the key figures as JSON")
    parser.add_argument(
        "--model-dir", help="risk model folder (default: $DEALSCOPE_MODEL_DIR, else models/)"
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    out = Path(args.out)
    renderer = RENDERERS.get(out.suffix.lower())
    if renderer is None:
        raise DealScopeError(key="errors.cli.report_suffix", out=str(args.out))
    lang = resolve_lang(args)
    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    compare = load_for_analysis(args.db, args.compare_to, None) if args.compare_to else None
    risk_model, risk_status = _stored_model(open_engine(args.db), dataset, args.model_dir)
    document = build_weekly_report(
        dataset, args.week, compare, risk_model=risk_model, risk_status=risk_status
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(renderer(document, lang), encoding="utf-8")
    except OSError as exc:
        raise DealScopeError(
            key="errors.cli.cannot_write", out=str(out), detail=exc.strerror or str(exc)
        ) from exc
    figures = key_figures(document)
    if args.json:
        print_json({"out": str(out), **figures})
    else:
        print(
            t(
                "format.cli.report.wrote",
                lang,
                out=out,
                week=figures["week"],
                dataset=figures["dataset"],
            )
        )
        kinds = dict(zip(document.kpis["metric"], document.kpis["kind"], strict=True))
        kinds["at_risk_listed"] = "count"
        labels = catalog_labels("weekly.kpi.", kinds, lang)
        labels |= catalog_labels("format.cli.report.", figures, lang)
        for line in figure_lines(figures, labels, kinds, figures["currency"], lang):
            print(line)
    return 0


def _stored_model(engine, dataset, model_dir):
    """(estimator, card) of the model stored for this dataset, or (None, reason code): the CLI
    loads the model and passes it into the report (which never reads model files)."""
    from dealscope.risk import registry, service

    log = read_activities(engine, dataset.id)
    try:
        model = registry.load_model(dataset.id, service.dataset_hash(dataset, log), model_dir)
    except registry.ModelMissing:
        return None, service.RISK_NO_MODEL
    except registry.ModelUnavailable:
        return None, service.RISK_UNAVAILABLE
    return (*model, log), service.RISK_OK
