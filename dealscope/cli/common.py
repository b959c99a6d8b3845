"""Helpers every sub-command shares (kept out of cli/__init__, which imports the commands).

Input checks turn bad arguments into one-line errors before any work starts: `--out` and
`--save-mapping` must name a writable file, `--timezone` a known IANA zone, `--encoding` a codec
Python knows, `--db` a URL SQLAlchemy can load, and `--dataset` is `id:N` or a name.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from dealscope import store
from dealscope.errors import DealScopeError
from dealscope.i18n import LANGUAGES
from dealscope.model import Dataset
from dealscope.store import DatasetNotFound

DATASET_HELP = "dataset: id:N (the id shown by `datasets` and the app's ?dataset=N) or a name"


class CliInputError(DealScopeError):
    """A command-line argument that cannot be used (said in one line with how to fix it)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (no usage block), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}\n")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", help="SQLAlchemy URL (default: $DEALSCOPE_DB_URL, else sqlite:///data/dealscope.db)"
    )


def print_json(document: dict) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def writable_file(text: str) -> Path:
    """argparse type: a file path that can be written (not a folder; its folder writable)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name inside it")
    if path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written (permission denied)")
    folder = path.absolute().parent
    while not folder.exists():  # report.py creates missing folders: check the first existing one
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written: {folder} is not writable")
    return path


def time_zone(text: str) -> str:
    """argparse type: an IANA time zone name such as Asia/Shanghai."""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r}; use an IANA name such as Asia/Shanghai or UTC"
        ) from None
    return text


def encoding(text: str) -> str:
    """argparse type: a text encoding Python knows (utf-8, gb18030, big5 …)."""
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown encoding {text!r}; use e.g. utf-8, gb18030 or big5"
        ) from None
    return text


def open_engine(url: str | None) -> Engine:
    """The store's engine for `--db`, with a malformed or unsupported URL said in one line."""
    try:
        sa.make_url(store.resolve_db_url(url))
        return store.get_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise CliInputError(
            key="errors.cli.bad_db_url", url=url, error_type=type(exc).__name__
        ) from exc


def dataset_id(engine: Engine, reference: str) -> int:
    """`id:N` is the dataset with id N; anything else is a name (its newest version)."""
    if reference.startswith("id:"):
        number = reference[3:]
        if not number.isdigit():
            raise CliInputError(key="errors.cli.dataset_id_not_number", reference=reference)
        try:
            store.read_dataset_meta(engine, int(number))
        except (DatasetNotFound, KeyError, TypeError):
            raise DatasetNotFound(key="errors.cli.no_dataset_id", number=number) from None
        return int(number)
    found = store.resolve_dataset_id(engine, reference)
    if store.read_dataset_meta(engine, found)["name"] != reference:  # matched digits as an id
        raise DatasetNotFound(key="errors.cli.name_is_digits", reference=reference)
    return found


def add_as_of_option(parser) -> None:
    """`--as-of` for every command that computes (metrics, report, risk train / score)."""
    parser.add_argument(
        "--as-of",
        help="analysis date YYYY-MM-DD (end of that day) or a full timestamp; default: the "
        "export's date (latest created / activity / stage-entry time in the data)",
    )


def load_for_analysis(db: str | None, name_or_id: str, as_of: str | None) -> Dataset:
    """A stored dataset (`id:N` or a name) settled for analysis (Dataset.settled) as of `--as-of`."""
    engine = open_engine(db)
    dataset = store.read_dataset(engine, dataset_id(engine, name_or_id))
    return dataset.settled().at(parse_as_of(as_of))


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise DealScopeError(key="errors.cli.bad_as_of", value=value) from exc
    # A bare date means the end of that day.
    return (
        stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if len(value) <= 10 else stamp
    )


# POSIX precedence: LC_ALL overrides LC_MESSAGES (the category for messages), which overrides LANG.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
LANG_HELP = (
    "language of the words written (zh-CN or en); default: from the system locale "
    "(LC_ALL, else LC_MESSAGES, else LANG): zh-CN when it starts with 'zh', else en"
)


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's default language from the locale: zh-CN for zh_* locales, en otherwise.

    The first of LC_ALL, LC_MESSAGES, LANG that is set and non-empty decides (POSIX order). An
    unset, C or POSIX locale (servers, cron) gets English: the neutral choice for logs and mail.
    """
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return "zh-CN" if value.lower().startswith("zh") else "en"
    return "en"


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """--lang for every command that prints or writes words; defaults from the system locale."""
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=LANG_HELP)


def resolve_lang(args: argparse.Namespace) -> str:
    """The --lang given, else the system locale's language (read when the command runs)."""
    return args.lang or system_language()
