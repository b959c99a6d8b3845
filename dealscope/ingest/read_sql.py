"""Database source: a SQLAlchemy URL and a table or view chosen from the inspector's list.

Never SQL text from the user: the name must be in `inspect(engine)`'s list, then the table is
reflected (`Table(..., autoload_with=engine)`) and read with a Core select and a row cap.

SQLite files are opened read-only and only when they already exist under `sqlite_root` (by default
the project's data/ folder; the CLI, run by the operator, passes None): the path is resolved first,
so `..` and symlinks pointing out of the folder are refused, and no empty file is ever created.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from dealscope.errors import text
from dealscope.ingest.errors import NoDataError, SourceError
from dealscope.ingest.limits import (
    MAX_ROWS,
    check_cell_lengths,
    check_header_lengths,
    limit_error,
)
from dealscope.ingest.rawtable import RawTable, normalise_headers, settled_frame

STRING = pd.StringDtype("pyarrow")
# The only folder the app's database-table source may open SQLite files in (read at call time).
DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class _AppData:
    """Default `sqlite_root`: the module's DATA_DIR when the call is made."""


APP_DATA = _AppData()


def _root(sqlite_root: Path | None | _AppData) -> Path | None:
    return DATA_DIR if isinstance(sqlite_root, _AppData) else sqlite_root


def sqlite_file(url: str, sqlite_root: Path | None) -> Path | None:
    """The existing SQLite file a sqlite URL names (None for other back ends), refusing in-memory
    databases, URI options, missing files and, with `sqlite_root`, any file outside it."""
    try:
        parsed = sa.make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise SourceError(key="errors.source.bad_url") from exc
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or parsed.query:
        raise SourceError(key="errors.source.sqlite_needs_file")
    path = Path(database)
    if sqlite_root is not None and not path.is_absolute():
        path = sqlite_root.parent / path  # relative to the project, like data/dealscope.db
    resolved = path.resolve()  # follows symlinks and removes `..` before the check
    if sqlite_root is not None and not resolved.is_relative_to(sqlite_root.resolve()):
        raise SourceError(
            key="errors.source.sqlite_outside_root", folder=sqlite_root.name, database=database
        )
    if not resolved.is_file():
        raise SourceError(key="errors.source.no_sqlite_file", database=database)
    return resolved


def _engine(url: str, sqlite_root: Path | None | _AppData = APP_DATA) -> sa.Engine:
    path = sqlite_file(url, _root(sqlite_root))
    if path is not None:  # read-only: the source is never written, and no file is created
        uri = f"file:{quote(str(path))}?mode=ro"
        return sa.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise SourceError(key="errors.source.bad_url_type", error_type=type(exc).__name__) from exc


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid URL>"


def list_source_tables(url: str, sqlite_root: Path | None | _AppData = APP_DATA) -> list[str]:
    """Tables and views the database offers (the only names a user may pick)."""
    engine = _engine(url, sqlite_root)
    try:
        inspector = sa.inspect(engine)
        return sorted(set(inspector.get_table_names()) | set(inspector.get_view_names()))
    except SQLAlchemyError as exc:
        raise SourceError(
            key="errors.source.cannot_list", url=_safe_url(url), error_type=type(exc).__name__
        ) from exc
    finally:
        engine.dispose()


def read_database_table(
    url: str, table_name: str, sqlite_root: Path | None | _AppData = APP_DATA
) -> RawTable:
    """Read one allowed table or view as text cells; `line` is the row's ordinal (1-based)."""
    allowed = list_source_tables(url, sqlite_root)
    if table_name not in allowed:
        raise SourceError(
            key="errors.source.no_table", url=_safe_url(url), table=table_name, tables=allowed
        )
    engine = _engine(url, sqlite_root)
    try:
        table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(table).limit(MAX_ROWS + 1)).fetchall()
    except SQLAlchemyError as exc:
        raise SourceError(
            key="errors.source.cannot_read",
            table=table_name,
            url=_safe_url(url),
            error_type=type(exc).__name__,
        ) from exc
    finally:
        engine.dispose()
    if len(rows) > MAX_ROWS:
        table_what = text("errors.limit.what.table", table=table_name)
        raise limit_error(None, table_what, len(rows), MAX_ROWS, "rows", "smaller_view")
    if not rows:
        raise NoDataError(key="errors.source.empty_table", table=table_name)
    check_header_lengths(
        text("errors.label.table", table=table_name), [c.name for c in table.columns]
    )
    headers, notes = normalise_headers([c.name for c in table.columns])
    raw = pd.DataFrame.from_records(rows, columns=range(len(headers)))
    data = pd.DataFrame(
        {
            name: raw[i].astype(str).where(raw[i].notna(), "").astype(STRING)
            for i, name in enumerate(headers)
        }
    )
    check_cell_lengths(f"Table {table_name!r}", data, 0)
    return RawTable(
        file=f"{table_name}", kind="sql", data=data, lines=np.arange(1, len(data) + 1),
        settled=settled_frame([]), rows_in=len(data), headers=headers, notes=notes,
    )  # fmt: skip
