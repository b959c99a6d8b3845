"""The one module that owns the database: schema, connection set-up, and dataset read/write.

SQLAlchemy 2 Core keeps the schema, the catalog (`datasets`) and the small queries. The bulk rows
of a dataset travel as Arrow tables through ADBC drivers (SQLite and PostgreSQL; on PostgreSQL
`adbc_ingest` and `fetch_arrow_table` use binary COPY): at 1M rows that is several times faster
than DBAPI `executemany` / `fetchall` of Python tuples. Other SQLAlchemy dialects (and in-memory
SQLite, which a second connection cannot see) use the portable Core path.

Every write happens in one transaction: a dataset is stored whole or not at all. Concurrent writes
of one name are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory
lock on the name) so each lands as its own version. Every database failure surfaces as
StoreUnavailable, which the app shows as the "database unavailable" banner with Retry.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import adbc_driver_manager
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from dealscope.errors import DatasetNotFound, DealScopeError, StoreUnavailable, Text, text
from dealscope.model import (
    DATE_COLUMNS,
    OPPORTUNITY_COLUMNS,
    STAGE_EVENT_COLUMNS,
    Dataset,
    is_canonical_opportunities,
    normalise_opportunities,
    normalise_stage_events,
    normalise_stages,
)

DEFAULT_DB_URL = "sqlite:///data/dealscope.db"
DB_URL_ENV = "DEALSCOPE_DB_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# A save waits this long for another save of the same SQLite file to finish (one writer at a time;
# a 1M-deal save holds the lock for several seconds).
SQLITE_WRITE_BUSY_TIMEOUT_MS = 120_000
# Seconds to establish a connection to a database server (TCP + start-up): an unreachable host
# answers "database unavailable" within this, instead of the OS's ~130 s TCP timeout.
CONNECT_TIMEOUT_S = 10
# Dataset names are stored as VARCHAR(200); longer names fail the same way on every backend.
MAX_NAME_LENGTH = 200
ROW_ORDER = "row_order"
# Attempts to allocate a version number when a concurrent save of the same name won the race.
VERSION_ATTEMPTS = 5
# Rows per executemany call: bounds driver memory without costing speed.
WRITE_BATCH_ROWS = 50_000
# Per engine: {table: {column}} of columns an older database lacks and may not add (read-only).
_MISSING_COLUMNS: weakref.WeakKeyDictionary[Engine, dict[str, set[str]]] = (
    weakref.WeakKeyDictionary()
)

metadata = sa.MetaData()


def _dataset_reference() -> sa.ForeignKeyConstraint:
    """dataset_id -> datasets.id, declared on SQLite only.

    PostgreSQL checks a foreign key with a trigger per inserted row: at 1M deals + 4M events that
    alone took longer than the whole COPY. The store writes the datasets row first and the rows
    after it in the same transaction, so the reference holds by construction on every backend.
    """
    return sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]).ddl_if(dialect="sqlite")


datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column(
        "source_files", sa.Text, nullable=False
    ),  # JSON list of {name, sha256, layout, encoding, …}
    sa.Column("mapping", sa.Text, nullable=True),  # JSON: the column mapping used
    sa.Column("settings", sa.Text, nullable=True),  # JSON: time zone, as-of, policies …
    sa.Column("rows_in", sa.Integer, nullable=False),
    sa.Column("rows_loaded", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
    sa.Column("rows_excluded", sa.Integer, nullable=False),
    sa.Column("opportunity_count", sa.Integer, nullable=False),
    sa.Column("stage_event_count", sa.Integer, nullable=False),
    sa.Column("saved_by", sa.String(320), nullable=True),  # who saved it; see _upgrade_schema
    sa.UniqueConstraint("name", "version", name="uq_dataset_name_version"),
)

opportunities = sa.Table(
    "opportunities",
    metadata,
    sa.Column("dataset_id", sa.Integer, nullable=False),
    _dataset_reference(),
    sa.Column("opportunity_id", sa.Text, nullable=False),
    *(sa.Column(c, sa.Text) for c in ("name", "account", "owner", "team", "region")),
    *(sa.Column(c, sa.Text) for c in ("industry", "source", "customer_type")),
    sa.Column("amount", sa.Float),
    sa.Column("currency", sa.Text),
    sa.Column("probability", sa.Float),  # added after the first release: see _upgrade_schema
    sa.Column("stage", sa.Text),
    sa.Column("status", sa.String(8), nullable=False),
    *(sa.Column(c, sa.DateTime) for c in DATE_COLUMNS),
    sa.Column("lost_reason", sa.Text),
    sa.Column("next_step", sa.Text),
    sa.Column("extra", sa.Text),
    sa.Column("flags", sa.Text),
    # Position of the row in the dataset as saved: PostgreSQL returns rows in no guaranteed
    # order, and reads must hand back exactly what was written (added later: nullable).
    sa.Column("row_order", sa.Integer),
    sa.Index("ix_opportunities_dataset", "dataset_id", "opportunity_id"),
)

stage_events = sa.Table(
    "stage_events",
    metadata,
    sa.Column("dataset_id", sa.Integer, nullable=False),
    _dataset_reference(),
    sa.Column("opportunity_id", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("entered_at", sa.DateTime, nullable=False),
    sa.Column("row_order", sa.Integer),  # as in opportunities
    sa.Index("ix_stage_events_dataset", "dataset_id", "opportunity_id"),
)

stages = sa.Table(
    "stages",
    metadata,
    sa.Column("dataset_id", sa.Integer, nullable=False),
    _dataset_reference(),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.UniqueConstraint("dataset_id", "stage", name="uq_stage_per_dataset"),
)

# A dataset's follow-up log (dealscope/activity): written and read by dealscope.activity.store.
activities = sa.Table(
    "activities",
    metadata,
    sa.Column("dataset_id", sa.Integer, nullable=False),
    _dataset_reference(),
    sa.Column("opportunity_id", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime, nullable=False),
    sa.Column("activity_type", sa.String(16), nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("contact", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Index("ix_activities_dataset", "dataset_id", "opportunity_id"),
)

# One row per dataset that has a follow-up log: who saved it, when, from which files, and the
# log's content hash (the UI's cache token: a replaced log of the same length still renews).
activity_logs = sa.Table(
    "activity_logs",
    metadata,
    sa.Column("dataset_id", sa.Integer, nullable=False),
    _dataset_reference(),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("saved_at", sa.DateTime, nullable=False),
    sa.Column("saved_by", sa.String(320), nullable=True),
    sa.Column("source_files", sa.Text, nullable=True),  # JSON list of {name, sha256, layout, …}
    sa.UniqueConstraint("dataset_id", name="uq_activity_log_per_dataset"),
)

# Every table whose rows belong to one dataset version (deleted with it; no foreign key enforces
# this on PostgreSQL, see _dataset_reference).
DATASET_ROW_TABLES = (stage_events, opportunities, stages, activities, activity_logs)


class InvalidDatasetName(DealScopeError):
    """A dataset name no backend can store (empty, too long, or with control characters)."""


# Per SQLite engine: (device, inode) of its database file when the engine was made. A file deleted
# or replaced under a running app must not keep answering from the open handle (and "save" into
# an unlinked inode that vanishes on restart).
_SQLITE_FILES: weakref.WeakKeyDictionary[Engine, tuple[Path, tuple[int, int] | None]] = (
    weakref.WeakKeyDictionary()
)


def resolve_db_url(cli_value: str | None = None) -> str:
    """The database URL: `--db`, then $DEALSCOPE_DB_URL, then the local SQLite file."""
    return cli_value or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


def _configure_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers work while one writer writes; the busy timeout makes a second writer wait
    # instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses at most the last commit on power loss, never consistency, and
    # makes bulk writes markedly faster; the larger page cache helps the index inserts.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """Create an engine for `url` (see resolve_db_url) and create the schema on first use."""
    url = resolve_db_url(url)
    try:
        sa_url = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreUnavailable(key="errors.store.bad_url", url=url) from exc
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            try:
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    key="errors.store.cannot_create_folder", url=url, detail=exc.strerror
                ) from exc
        # A file database gets no connection pool: see _sqlite_guard for why no connection of
        # Python's sqlite3 may stay open while the ADBC driver works on the same file.
        pool = (
            {} if not sa_url.database or sa_url.database == ":memory:" else {"poolclass": NullPool}
        )
        engine = sa.create_engine(
            sa_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pool
        )
        event.listen(engine, "connect", _configure_sqlite)
    else:
        # Both PostgreSQL drivers pass connect_timeout to libpq.
        timeout = {"connect_timeout": CONNECT_TIMEOUT_S} if backend == "postgresql" else {}
        try:
            engine = sa.create_engine(sa_url, pool_pre_ping=True, connect_args=timeout)
        except (sa.exc.NoSuchModuleError, ImportError) as exc:
            raise StoreUnavailable(key="errors.store.no_driver", driver=sa_url.drivername) from exc
    try:
        with _sqlite_guard(engine):
            metadata.create_all(engine)
            _upgrade_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise _db_unavailable(engine, exc) from exc
    file = _sqlite_file(engine)
    if file is not None:
        _SQLITE_FILES[engine] = (file, _file_identity(file))
    return engine


def _sqlite_file(engine: Engine) -> Path | None:
    """The database file of a file-backed SQLite engine, else None."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # URI filenames: left to SQLite
    return Path(database).resolve()


def _file_identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def _check_sqlite_file(engine: Engine) -> None:
    """Raise StoreUnavailable when the engine's SQLite file was deleted or replaced since.

    The operation that notices it fails (the app shows the "database unavailable" banner; nothing
    is saved into a file that no longer has a name). The next operation on the engine — Retry —
    adopts whatever file is at the path now, creating an empty store if there is none, so the
    app recovers without a restart.
    """
    known = _SQLITE_FILES.get(engine)
    if known is None:
        return
    path, identity = known
    if identity is None:  # noticed before: adopt the file now at the path
        metadata.create_all(engine)
        _upgrade_schema(engine)
        _SQLITE_FILES[engine] = (path, _file_identity(path))
        return
    try:
        same = _file_identity(path) == identity
    except OSError:
        same = False
    if not same:
        _SQLITE_FILES[engine] = (path, None)
        raise StoreUnavailable(key="errors.store.file_replaced", file=path.name)


_SQLITE_GUARDS: dict[Path, threading.RLock] = {}
_SQLITE_GUARDS_LOCK = threading.Lock()


@contextmanager
def _sqlite_guard(engine: Engine) -> Iterator[None]:
    """One store operation at a time per SQLite file within this process.

    The ADBC driver links its own copy of SQLite, and two copies of SQLite in one process do not
    see each other's file locks (POSIX locks belong to the process; closing one copy's handle
    drops the other's): https://www.sqlite.org/howtocorrupt.html §2.2. So within a process the
    store never has a Python-sqlite3 and an ADBC connection open on one file at the same time
    (the engine has no pool, and this lock serialises operations); between processes SQLite's
    own locking applies as usual (one writer, readers in WAL mode).
    """
    file = _sqlite_file(engine)
    if file is None:
        yield
        return
    with _SQLITE_GUARDS_LOCK:
        guard = _SQLITE_GUARDS.setdefault(file, threading.RLock())
    with guard:
        yield


@contextmanager
def _store_errors(engine: Engine, suffix: str | Text = "") -> Iterator[None]:
    """Check the SQLite file is still there; turn any driver error into StoreUnavailable.

    Also holds the SQLite file's in-process guard (_sqlite_guard) for the operation.
    """
    with _sqlite_guard(engine), _translate_errors(engine, suffix):
        yield


@contextmanager
def _translate_errors(engine: Engine, suffix: str | Text) -> Iterator[None]:
    try:
        _check_sqlite_file(engine)
        yield
    except DBAPIError as exc:
        raise _db_unavailable(engine, exc, suffix) from exc
    except adbc_driver_manager.Error as exc:
        raise _store_unavailable(engine, str(exc), suffix) from exc


@contextmanager
def transaction(engine: Engine, suffix: str | Text = "") -> Iterator[Connection]:
    """One transaction for small writes outside write_dataset (rename, delete, a follow-up log):
    holds the SQLite file's in-process guard and reports driver errors as StoreUnavailable
    (with `suffix`, what was not done, e.g. text("errors.store.nothing_deleted"))."""
    with _store_errors(engine, suffix), engine.begin() as conn:
        yield conn


def _upgrade_schema(engine: Engine) -> None:
    """Add the nullable columns a newer release defines to tables an older one created.

    Additive only (`ALTER TABLE … ADD COLUMN`, portable to SQLite and PostgreSQL; names come from
    our own schema, never from users). Where the role may not alter (a read-only dashboard role),
    the missing columns are read as nulls instead (_MISSING_COLUMNS).
    """
    inspector = sa.inspect(engine)
    missing = {}
    for table in (opportunities, stage_events, datasets):
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing[table.name] = [c for c in table.columns if c.name not in present and c.nullable]
    if not any(missing.values()):
        return
    try:
        with engine.begin() as conn:
            for name, columns in missing.items():
                for column in columns:
                    _add_column(conn, metadata.tables[name], column)
    except DBAPIError:
        _MISSING_COLUMNS[engine] = {n: {c.name for c in cs} for n, cs in missing.items()}


def _add_column(conn: Connection, table: sa.Table, column: sa.Column) -> None:
    ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
    table_name = conn.dialect.identifier_preparer.format_table(table)
    conn.execute(sa.text(f"ALTER TABLE {table_name} ADD COLUMN {ddl}"))


def _db_unavailable(engine: Engine, exc: DBAPIError, suffix: str | Text = "") -> StoreUnavailable:
    detail = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return _store_unavailable(engine, detail, suffix)


def _store_unavailable(engine: Engine, detail: str, suffix: str | Text = "") -> StoreUnavailable:
    """The driver's error as StoreUnavailable: busy (retry) or unavailable (with its first line);
    `suffix` says what was not done ("Nothing was saved.")."""
    # The target names the database without the server's file path or password.
    url = engine.url
    target: str | Text = (
        text("errors.store.target_file", file=Path(url.database).name)
        if url.get_backend_name() == "sqlite" and url.database
        else url.set(password=None, query={}).render_as_string(hide_password=True)
    )
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    if lines and ("locked" in lines[0].lower() or "busy" in lines[0].lower()):
        return StoreUnavailable(key="errors.store.busy", target=target, suffix=suffix)
    first = lines[0] if lines else text("errors.store.unknown_error")
    return StoreUnavailable(
        key="errors.store.unavailable", target=target, detail=first, suffix=suffix
    )


def _check_name(name: object) -> str:
    """The dataset name, or InvalidDatasetName with what to change (same rule on every backend)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidDatasetName(key="errors.store.name_empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidDatasetName(
            key="errors.store.name_too_long", length=len(name), limit=MAX_NAME_LENGTH
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise InvalidDatasetName(key="errors.store.name_control_character")
    return name


def _select_all(engine: Engine, table: sa.Table) -> sa.Select:
    """SELECT of every column, columns a read-only role could not add read as nulls."""
    absent = _MISSING_COLUMNS.get(engine, {}).get(table.name, set())
    return sa.select(*(sa.null().label(c.name) if c.name in absent else c for c in table.columns))


def _present(engine: Engine, table: sa.Table, **values) -> dict:
    """`values` without the columns the database lacks (a role that could not add them)."""
    absent = _MISSING_COLUMNS.get(engine, {}).get(table.name, set())
    return {key: value for key, value in values.items() if key not in absent}


# ---- Arrow I/O (ADBC) ---------------------------------------------------------------------------


def _arrow_backend(engine: Engine) -> str | None:
    """'sqlite' or 'postgresql' when the bulk rows can go through ADBC, else None (Core path)."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        return backend
    if backend == "sqlite" and _sqlite_file(engine) is not None:
        return backend
    return None


@contextmanager
def _arrow_connection(engine: Engine, *, writing: bool = False):
    """An autocommit ADBC connection to the engine's database (transactions are explicit)."""
    backend = _arrow_backend(engine)
    if backend == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        # mode=rw: never create a file (a deleted database must not come back empty on save).
        path = quote(str(_sqlite_file(engine)))
        conn = adbc_sqlite.connect(f"file:{path}?mode=rw", autocommit=True)
        busy = SQLITE_WRITE_BUSY_TIMEOUT_MS if writing else SQLITE_BUSY_TIMEOUT_MS
        with conn.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout={int(busy)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
    else:
        import adbc_driver_postgresql.dbapi as adbc_postgresql

        url = engine.url.set(drivername="postgresql")
        if "connect_timeout" not in url.query:
            url = url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
        conn = adbc_postgresql.connect(url.render_as_string(hide_password=False), autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def _placeholders(backend: str, count: int) -> list[str]:
    return ["?"] * count if backend == "sqlite" else [f"${i + 1}" for i in range(count)]


def _quote(engine: Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def _strip_nul(values: pa.Array) -> pa.Array:
    # PostgreSQL text cannot hold NUL (SQLite can): removed on every backend so both store the
    # same value. Searching first is cheaper than rewriting a column that has none.
    if not pc.any(pc.match_substring(values, "\x00")).as_py():
        return values
    return pc.replace_substring(values, "\x00", "")


def _arrow_column(series: pd.Series, column: sa.Column, backend: str) -> pa.Array:
    """One canonical frame column as the Arrow array the backend's table column takes."""
    if isinstance(column.type, sa.DateTime):
        stamps = pa.array(series.to_numpy(dtype="datetime64[us]"), from_pandas=True)
        # SQLite: the 'YYYY-MM-DD hh:mm:ss.ffffff' text SQLAlchemy's SQLite DateTime reads back.
        return pc.cast(stamps, pa.string()) if backend == "sqlite" else stamps
    if isinstance(column.type, sa.Float):
        return pa.array(series.to_numpy(dtype="float64", na_value=float("nan")), from_pandas=True)
    if isinstance(column.type, sa.Integer):
        # int32: binary COPY into PostgreSQL INTEGER needs the exact width.
        return pa.array(series.to_numpy(dtype="int32"))
    values = pa.array(series.array) if isinstance(series.dtype, pd.StringDtype) else None
    if values is None:
        values = pa.array(series.astype("string").array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return _strip_nul(values.cast(pa.string()))


def _arrow_rows(table: sa.Table, frame: pd.DataFrame, dataset_id: int, backend: str) -> pa.Table:
    """A canonical frame as an Arrow table with the columns (and order) of `table`."""
    arrays = {}
    for column in table.columns:
        if column.name == "dataset_id":
            arrays[column.name] = pa.array([dataset_id] * len(frame), pa.int32())
        elif column.name == ROW_ORDER:
            arrays[column.name] = pa.array(np.arange(len(frame), dtype=np.int32))
        else:
            arrays[column.name] = _arrow_column(frame[column.name], column, backend)
    return pa.table(arrays)


def _catalog_row(name: str, counts: dict, opps_count: int, event_count: int, **texts) -> dict:
    return {
        "name": name,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
        "source_files": json.dumps(texts["source_files"] or [], ensure_ascii=False),
        "mapping": json.dumps(texts["mapping"], ensure_ascii=False) if texts["mapping"] else None,
        "settings": (
            json.dumps(texts["settings"], ensure_ascii=False) if texts["settings"] else None
        ),
        "rows_in": int(counts["rows_in"]),
        "rows_loaded": int(counts["rows_loaded"]),
        "rows_rejected": int(counts["rows_rejected"]),
        "rows_excluded": int(counts["rows_excluded"]),
        "opportunity_count": opps_count,
        "stage_event_count": event_count,
    }


def _write_arrow(engine: Engine, row: dict, frames: dict[str, pd.DataFrame]) -> int:
    """Catalog row + bulk rows in one transaction on one ADBC connection; returns the id."""
    backend = _arrow_backend(engine)
    values = dict(row)
    if backend == "sqlite":
        values["created_at"] = values["created_at"].isoformat(sep=" ", timespec="microseconds")
    columns = list(values)
    marks = _placeholders(backend, len(columns) + 1)
    # The next version is computed inside the INSERT, under the per-name write lock below.
    insert = (
        f"INSERT INTO {_quote(engine, datasets.name)} "
        f"({', '.join(_quote(engine, c) for c in [*columns, 'version'])}) "
        f"SELECT {', '.join(marks[:-1])}, COALESCE(MAX({_quote(engine, 'version')}), 0) + 1 "
        f"FROM {_quote(engine, datasets.name)} WHERE {_quote(engine, 'name')} = {marks[-1]} "
        f"RETURNING {_quote(engine, 'id')}"
    )
    with _arrow_connection(engine, writing=True) as conn, conn.cursor() as cursor:
        # SQLite: IMMEDIATE takes the one write lock now (waiting up to the busy timeout), so
        # MAX(version) is read by the only writer. PostgreSQL: writers of one name queue on an
        # advisory lock held until commit; READ COMMITTED then sees the previous version.
        cursor.execute("BEGIN IMMEDIATE" if backend == "sqlite" else "BEGIN")
        try:
            if backend == "postgresql":
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    ("dealscope.dataset:" + values["name"],),
                )
                cursor.fetchall()
            cursor.execute(insert, (*values.values(), values["name"]))
            dataset_id = int(cursor.fetchone()[0])
            for table in (opportunities, stage_events, stages):
                rows = _arrow_rows(table, frames[table.name], dataset_id, backend)
                if rows.num_rows:
                    cursor.adbc_ingest(table.name, rows, mode="append")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    return dataset_id


def _write_core(engine: Engine, row: dict, frames: dict[str, pd.DataFrame]) -> int:
    """The portable path (other dialects, in-memory SQLite): Core insert + driver executemany."""
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with engine.begin() as conn:
                latest = conn.execute(
                    sa.select(sa.func.max(datasets.c.version)).where(datasets.c.name == row["name"])
                ).scalar()
                dataset_id = conn.execute(
                    datasets.insert().values(**row, version=(latest or 0) + 1)
                ).inserted_primary_key[0]
                for table in (opportunities, stage_events, stages):
                    _bulk_insert(conn, table, frames[table.name], dataset_id)
            return int(dataset_id)
        except IntegrityError:
            # Another save of this name took the version between our read and insert.
            if attempt == VERSION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _db_values(frame: pd.DataFrame, columns: tuple[str, ...], dialect_name: str) -> dict[str, list]:
    """Each column of a canonical frame as a list of plain Python values the DBAPI driver accepts."""
    out = {}
    for column in columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series) and dialect_name == "sqlite":
            stamps = pa.array(series.to_numpy(dtype="datetime64[us]"), from_pandas=True)
            out[column] = pc.cast(stamps, pa.string()).to_pylist()
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series.astype(object).to_numpy()
        else:
            values = series.to_numpy(dtype=object)
        values[series.isna().to_numpy()] = None
        if pd.api.types.is_string_dtype(series):
            values = _strip_nul(pa.array(values, pa.string())).to_numpy(zero_copy_only=False)
        out[column] = values.tolist()
    return out


def _bulk_insert(conn: Connection, table: sa.Table, frame: pd.DataFrame, dataset_id: int) -> None:
    """Insert a canonical frame through the driver's executemany (5× faster than Core's)."""
    if frame.empty:
        return
    columns = tuple(c.name for c in table.columns if c.name not in ("dataset_id", ROW_ORDER))
    column_values = _db_values(frame, columns, conn.dialect.name)
    column_values["dataset_id"] = [dataset_id] * len(frame)
    if ROW_ORDER in table.c:
        column_values[ROW_ORDER] = list(range(len(frame)))
    compiled = table.insert().compile(dialect=conn.dialect)
    positional = conn.dialect.paramstyle in ("qmark", "numeric", "format")
    names = list(compiled.positiontup) if positional else list(column_values)
    for start in range(0, len(frame), WRITE_BATCH_ROWS):
        stop = start + WRITE_BATCH_ROWS
        chunk = zip(*(column_values[c][start:stop] for c in names), strict=True)
        params = (
            list(chunk) if positional else [dict(zip(names, row, strict=True)) for row in chunk]
        )
        conn.exec_driver_sql(str(compiled), params)


def write_dataset(
    engine: Engine,
    name: str,
    opportunity_frame: pd.DataFrame,
    stage_event_frame: pd.DataFrame,
    stage_frame: pd.DataFrame,
    *,
    source_files: list[dict] | None = None,
    mapping: dict | None = None,
    settings: dict | None = None,
    counts: dict | None = None,
    saved_by: str | None = None,
) -> int:
    """Store a new version of dataset `name` in one transaction and return its id.

    Takes canonical frames (model.OPPORTUNITY_COLUMNS, model.STAGE_EVENT_COLUMNS,
    model.STAGE_COLUMNS). `counts` carries rows_in / rows_loaded / rows_rejected / rows_excluded;
    without it every opportunity row counts as read and loaded. Saves of the same name at the same
    time each get their own version. NUL characters in text are removed (PostgreSQL cannot store
    them); a name no backend can store raises InvalidDatasetName.
    """
    _check_name(name)
    # The ingest pipeline hands over canonical frames: normalising again costs seconds at 1M rows.
    opps = (
        opportunity_frame
        if is_canonical_opportunities(opportunity_frame)
        else normalise_opportunities(opportunity_frame)
    )
    events = normalise_stage_events(stage_event_frame)
    stage_table = normalise_stages(stage_frame)
    loaded = len(opps)
    counts = {"rows_in": loaded, "rows_loaded": loaded, "rows_rejected": 0, "rows_excluded": 0} | (
        counts or {}
    )
    row = _catalog_row(
        name,
        counts,
        loaded,
        len(events),
        source_files=source_files,
        mapping=mapping,
        settings=settings,
    ) | _present(engine, datasets, saved_by=saved_by)
    frames = {opportunities.name: opps, stage_events.name: events, stages.name: stage_table}
    with _store_errors(engine, text("errors.store.nothing_saved")):
        dataset_id = (_write_arrow if _arrow_backend(engine) else _write_core)(engine, row, frames)
        # A file deleted while the save ran took the save with it: say so, never "Saved".
        _check_sqlite_file(engine)
    return dataset_id


def list_datasets(engine: Engine) -> pd.DataFrame:
    """All stored datasets, newest first: id, name, version, created_at, source_files (list), counts."""
    with _store_errors(engine), engine.connect() as conn:
        rows = conn.execute(_select_all(engine, datasets).order_by(datasets.c.id.desc()))
        rows = rows.mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in datasets.columns])
    frame["source_files"] = frame["source_files"].map(json.loads)
    return frame


def resolve_dataset_id(engine: Engine, name_or_id: str | int) -> int:
    """The id of the newest version of dataset `name_or_id`: an int is only ever an id (the CLI's
    `--dataset id:N`, the app's ?dataset=N); a string is a name, or digits naming no dataset an id."""
    key = str(name_or_id)
    dataset_id = None
    with _store_errors(engine), engine.connect() as conn:
        # A name no backend can store matches nothing (PostgreSQL would reject the NUL outright).
        if not isinstance(name_or_id, int) and len(key) <= MAX_NAME_LENGTH and "\x00" not in key:
            dataset_id = conn.execute(
                sa.select(datasets.c.id)
                .where(datasets.c.name == key)
                .order_by(datasets.c.version.desc())
                .limit(1)
            ).scalar()
        if dataset_id is None and key.isascii() and key.isdigit() and len(key) < 10:
            dataset_id = conn.execute(
                sa.select(datasets.c.id).where(datasets.c.id == int(key))
            ).scalar()
    if dataset_id is None:
        raise DatasetNotFound(key="errors.store.no_dataset_named_or_demo", name=name_or_id)
    return int(dataset_id)


def count_shared_ids(engine: Engine, ids: list[str], dataset_ids: list[int]) -> dict[int, int]:
    """Per dataset of `dataset_ids`: how many of `ids` (opportunity ids) it holds — a sign that two
    exports come from one pipeline. One indexed query per dataset (dataset_id, opportunity_id),
    ids bound as parameters; pass a sample of a big dataset's ids, not all of them."""
    if not ids or not dataset_ids:
        return {int(d): 0 for d in dataset_ids}
    query = (
        sa.select(sa.func.count(sa.distinct(opportunities.c.opportunity_id)))
        .where(opportunities.c.dataset_id == sa.bindparam("dataset_id"))
        .where(opportunities.c.opportunity_id.in_(sa.bindparam("ids", expanding=True)))
    )
    counts = {}
    with _store_errors(engine), engine.connect() as conn:
        for dataset_id in dataset_ids:  # a handful of stored datasets
            found = conn.execute(query, {"dataset_id": int(dataset_id), "ids": list(ids)}).scalar()
            counts[int(dataset_id)] = int(found or 0)
    return counts


def read_dataset_meta(engine: Engine, dataset_id: int) -> dict:
    """The datasets row of `dataset_id` with its JSON fields decoded."""
    with _store_errors(engine), engine.connect() as conn:
        row = (
            conn.execute(_select_all(engine, datasets).where(datasets.c.id == dataset_id))
            .mappings()
            .first()
        )
    if row is None:
        raise DatasetNotFound(key="errors.store.no_dataset_id", dataset_id=dataset_id)
    meta = dict(row)
    for key in ("source_files", "mapping", "settings"):
        meta[key] = json.loads(meta[key]) if meta[key] else ({} if key != "source_files" else [])
    return meta


# Arrow type each column type reads back as (SQLite hands back what it stored, possibly null-typed).
def _arrow_type(column: sa.Column) -> pa.DataType:
    if isinstance(column.type, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(column.type, sa.Float):
        return pa.float64()
    if isinstance(column.type, sa.Integer):
        return pa.int64()
    return pa.string()


def _fetch_arrow(engine: Engine, table: sa.Table, dataset_id: int, columns: tuple[str, ...]):
    """The rows of one dataset in `table` as an Arrow table typed after the schema."""
    backend = _arrow_backend(engine)
    absent = _MISSING_COLUMNS.get(engine, {}).get(table.name, set())
    ordered = ROW_ORDER in table.c
    selected = ", ".join(
        f"NULL AS {_quote(engine, c)}" if c in absent else _quote(engine, c)
        for c in (*columns, ROW_ORDER)
        if c in columns or ordered
    )
    query = (
        f"SELECT {selected} FROM {_quote(engine, table.name)} "
        f"WHERE {_quote(engine, 'dataset_id')} = {_placeholders(backend, 1)[0]}"
    )
    with _arrow_connection(engine) as conn, conn.cursor() as cursor:
        if backend == "sqlite":
            # SQLite's driver infers each column's type from its first batch; one batch for the
            # whole result keeps a column whose first rows are null from failing later.
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        cursor.execute(query, (int(dataset_id),))
        fetched = cursor.fetch_arrow_table()
    if ordered:  # stable: rows saved before row_order existed keep the order they came in
        order = pc.sort_indices(
            fetched.column(len(columns)).cast(pa.int64()),
            options=pc.SortOptions([("", "ascending", "at_end")]),
        )
        fetched = fetched.take(order)
    arrays = []
    for index, name in enumerate(columns):
        values = fetched.column(index)
        target = _arrow_type(table.c[name])
        if values.type != target:
            values = values.cast(target)
        arrays.append(values)
    return pa.table(arrays, names=list(columns))


def _read_table(engine: Engine, table: sa.Table, dataset_id: int, columns: tuple[str, ...]):
    if _arrow_backend(engine):
        fetched = _fetch_arrow(engine, table, dataset_id, columns)
        # Arrow-backed strings convert without a copy; normalise_* makes the canonical dtypes.
        return fetched.to_pandas(
            types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, self_destruct=True
        )
    absent = _MISSING_COLUMNS.get(engine, {}).get(table.name, set())
    selected = (sa.null().label(c) if c in absent else table.c[c] for c in columns)
    query = sa.select(*selected).where(table.c.dataset_id == dataset_id)
    if ROW_ORDER in table.c and ROW_ORDER not in absent:
        query = query.order_by(table.c[ROW_ORDER])
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame.from_records(rows, columns=list(columns))


def read_opportunities(engine: Engine, dataset_id: int) -> pd.DataFrame:
    """The canonical opportunities frame (model.OPPORTUNITY_COLUMNS) of one dataset."""
    with _store_errors(engine):
        frame = _read_table(engine, opportunities, dataset_id, OPPORTUNITY_COLUMNS)
    return normalise_opportunities(frame)


def read_stage_events(engine: Engine, dataset_id: int) -> pd.DataFrame:
    """Stage events (opportunity_id, stage, entered_at) of one dataset, by opportunity and time."""
    with _store_errors(engine):
        frame = _read_table(engine, stage_events, dataset_id, STAGE_EVENT_COLUMNS)
    return normalise_stage_events(frame)


def read_stages(engine: Engine, dataset_id: int) -> pd.DataFrame:
    """The stage table (stage, position, kind) of one dataset, in pipeline order."""
    with _store_errors(engine):
        frame = _read_table(engine, stages, dataset_id, ("stage", "position", "kind"))
    return normalise_stages(frame)


def read_dataset(engine: Engine, name_or_id: str | int) -> Dataset:
    """Load a whole dataset (newest version of a name, or an id) with its metadata."""
    dataset_id = resolve_dataset_id(engine, name_or_id)
    meta = read_dataset_meta(engine, dataset_id)
    return Dataset(
        id=dataset_id,
        name=meta["name"],
        opportunities=read_opportunities(engine, dataset_id),
        stage_events=read_stage_events(engine, dataset_id),
        stages=read_stages(engine, dataset_id),
        meta=meta,
    )


def dataset_exists(engine: Engine, name: str) -> bool:
    """Whether any version of dataset `name` is stored."""
    if len(name) > MAX_NAME_LENGTH or "\x00" in name:
        return False
    with _store_errors(engine), engine.connect() as conn:
        return (
            conn.execute(sa.select(datasets.c.id).where(datasets.c.name == name).limit(1)).first()
            is not None
        )


# ---- Rename / delete ---------------------------------------------------------------------------


class DatasetNameTaken(DealScopeError):
    """A rename would give a dataset the name another dataset already has."""


def _dataset_name(conn: Connection, name_or_id: str | int) -> str:
    """The name of dataset `name_or_id` (a name, or an id given as int/digits)."""
    found = conn.execute(
        sa.select(datasets.c.name).where(datasets.c.name == str(name_or_id)).limit(1)
    ).scalar()
    if found is None and str(name_or_id).isdigit():
        found = conn.execute(
            sa.select(datasets.c.name).where(datasets.c.id == int(name_or_id))
        ).scalar()
    if found is None:
        raise DatasetNotFound(key="errors.store.no_dataset_named", name=name_or_id)
    return str(found)


def rename_dataset(engine: Engine, name_or_id: str | int, new_name: str) -> int:
    """Give every version of dataset `name_or_id` the name `new_name` (one transaction); returns
    how many versions were renamed. Refuses a name no backend can store or one another dataset
    already has."""
    new_name = _check_name(str(new_name).strip())
    with transaction(engine, text("errors.store.nothing_renamed")) as conn:
        old_name = _dataset_name(conn, name_or_id)
        if old_name == new_name:
            return 0
        taken = conn.execute(
            sa.select(datasets.c.id).where(datasets.c.name == new_name).limit(1)
        ).first()
        if taken is not None:
            raise DatasetNameTaken(key="errors.store.name_taken", new_name=new_name)
        renamed = conn.execute(
            sa.update(datasets).where(datasets.c.name == old_name).values(name=new_name)
        )
        return int(renamed.rowcount)


def delete_dataset(engine: Engine, name_or_id: str | int) -> int:
    """Delete every version of dataset `name_or_id` with all its rows (opportunities, stage
    events, stages, follow-up log) in one transaction; returns how many versions were deleted."""
    with transaction(engine, text("errors.store.nothing_deleted")) as conn:
        name = _dataset_name(conn, name_or_id)
        ids = sa.select(datasets.c.id).where(datasets.c.name == name).scalar_subquery()
        for table in DATASET_ROW_TABLES:
            conn.execute(sa.delete(table).where(table.c.dataset_id.in_(ids)))
        deleted = conn.execute(sa.delete(datasets).where(datasets.c.name == name))
        return int(deleted.rowcount)
