"""The command line: the same functions the UI calls, for scripts, cron jobs and tests.

Each sub-command lives in its own module with `register(subparsers)`; the module list below is
the only place a new command is added. Errors DealScope raises on purpose are printed to stderr
as one actionable line with exit code 2; `--json` output is one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
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
from dealscope.errors import DealScopeError

COMMAND_MODULES = (demo_cmd, datasets_cmd, metrics_cmd, risk_cmd, ingest_cmd, report_cmd)
COMMAND_MODULES += (activities_cmd,)  # issue 18: follow-up records


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dealscope", description=__doc__.splitlines()[0]
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", help="SQLAlchemy URL (default: $DEALSCOPE_DB_URL, else sqlite:///data/dealscope.db)"
    )


def print_json(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except DealScopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
