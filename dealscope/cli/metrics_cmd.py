"""`metrics`: the dataset's metrics as of a date."""

from __future__ import annotations

from dealscope.cli.common import (
    DATASET_HELP,
    add_as_of_option,
    add_db_option,
    add_lang_option,
    load_for_analysis,
    print_json,
    resolve_lang,
)
from dealscope.cli.text import catalog_labels, figure_lines
from dealscope.i18n import t
from dealscope.metrics.report import build_metrics_document

# How the text output formats each headline figure (--json prints the raw numbers).
FIGURE_KINDS = {
    **dict.fromkeys(
        ("opportunities", "open", "won", "lost", "undated", "close_after_as_of"), "count"
    ),
    **dict.fromkeys(("won_amount", "open_amount", "avg_won_amount"), "amount"),
    **dict.fromkeys(("win_rate_count", "win_rate_value"), "pct"),
    "median_days_to_win": "days",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("metrics", help="compute a dataset's metrics")
    parser.add_argument("--dataset", required=True, help=DATASET_HELP)
    add_as_of_option(parser)
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_lang_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    document = build_metrics_document(dataset)
    if args.json:
        print_json(document)
    else:
        lang = resolve_lang(args)
        figures = dict(document)
        basis = f"funnel.basis.{figures.get('funnel_basis')}"
        if basis in catalog_labels("", [basis], lang):
            figures["funnel_basis"] = t(basis, lang)
        labels = catalog_labels("format.cli.metrics.", figures, lang)
        for line in figure_lines(figures, labels, FIGURE_KINDS, document.get("currency"), lang):
            print(line)
    return 0
