"""Database source: a SQLAlchemy URL and a table or view chosen from the inspector's list.

Never SQL text from the user: the name must be in `inspect(engine)`'s list, then the table is
reflected (`Table(..., autoload_with=engine)`) and read with a Core select and a row cap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from dealscope.ingest.errors import LimitExceeded, NoDataError, SourceError
from dealscope.ingest.limits import MAX_ROWS, limit_message
from dealscope.ingest.rawtable import RawTable, normalise_headers, settled_frame

STRING = pd.StringDtype("pyarrow")


def _engine(url: str) -> sa.Engine:
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise SourceError(f"The database URL is not valid ({type(exc).__name__}): check its form, "
                          "e.g. postgresql+psycopg://user@host/db or sqlite:///path.db.") from exc  # fmt: skip


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<invalid URL>"


def list_source_tables(url: str) -> list[str]:
    """Tables and views the database offers (the only names a user may pick)."""
    engine = _engine(url)
    try:
        inspector = sa.inspect(engine)
        return sorted(set(inspector.get_table_names()) | set(inspector.get_view_names()))
    except SQLAlchemyError as exc:
        raise SourceError(
            f"Cannot list the tables of {_safe_url(url)}: {type(exc).__name__}."
        ) from exc
    finally:
        engine.dispose()


def read_database_table(url: str, table_name: str) -> RawTable:
    """Read one allowed table or view as text cells; `line` is the row's ordinal (1-based)."""
    allowed = list_source_tables(url)
    if table_name not in allowed:
        raise SourceError(
            f"{_safe_url(url)} has no table or view {table_name!r}; choose one of {allowed}."
        )
    engine = _engine(url)
    try:
        table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(table).limit(MAX_ROWS + 1)).fetchall()
    except SQLAlchemyError as exc:
        raise SourceError(
            f"Cannot read {table_name!r} from {_safe_url(url)}: {type(exc).__name__}."
        ) from exc
    finally:
        engine.dispose()
    if len(rows) > MAX_ROWS:
        raise LimitExceeded(limit_message(f"Table {table_name!r}", len(rows), MAX_ROWS, "rows",
                                          "Create a view with fewer rows and pick that."))  # fmt: skip
    if not rows:
        raise NoDataError(f"Table {table_name!r} has no rows.")
    headers, notes = normalise_headers([c.name for c in table.columns])
    raw = pd.DataFrame.from_records(rows, columns=range(len(headers)))
    data = pd.DataFrame(
        {
            name: raw[i].astype(str).where(raw[i].notna(), "").astype(STRING)
            for i, name in enumerate(headers)
        }
    )
    return RawTable(
        file=f"{table_name}", kind="sql", data=data, lines=np.arange(1, len(data) + 1),
        settled=settled_frame([]), rows_in=len(data), headers=headers, notes=notes,
    )  # fmt: skip
