"""The command line: the same functions the UI calls, for scripts, cron jobs and tests.

Each sub-command lives in its own module with `register(subparsers)`; the module list below is
the only place a new command is added. Errors DealScope raises on purpose are printed to stderr
as one actionable line in the command's language (--lang, else the system locale's) with exit
code 2; `--json` output is one JSON object on stdout.
"""

from __future__ import annotations

import sys

from dealscope.cli import (
    activities_cmd,
    datasets_cmd,
    demo_cmd,
    ingest_cmd,
    metrics_cmd,
    report_cmd,
    risk_cmd,
)
from dealscope.cli.common import OneLineParser, add_db_option, print_json, system_language
from dealscope.errors import DealScopeError, error_text
from dealscope.i18n import t

__all__ = ["add_db_option", "build_parser", "main", "print_json"]  # helpers live in cli.common

COMMAND_MODULES = (
    demo_cmd,
    datasets_cmd,
    metrics_cmd,
    risk_cmd,
    ingest_cmd,
    activities_cmd,
    report_cmd,
)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m dealscope", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    lang = getattr(args, "lang", None) or system_language()  # --lang, else the locale's
    try:
        return int(args.handler(args) or 0)
    except DealScopeError as exc:
        message = " ".join(error_text(exc, lang).split())
        print(t("errors.cli.prefix", lang, message=message), file=sys.stderr)
        return 2
    except OSError as exc:  # a file the OS refused after the checks (disk full, raced away …)
        message = f"{exc.filename or ''}: {exc.strerror or exc}"
        print(t("errors.cli.prefix", lang, message=message), file=sys.stderr)
        return 2
