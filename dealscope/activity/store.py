"""The `activities` table: a dataset's follow-up log, beside its opportunities and stage events.

The table is declared in `dealscope/store.py` with the others (created with the schema, deleted
with its dataset); this module writes and reads it. A dataset has
at most one log: writing a log for a dataset replaces the one it had, in one transaction.

Beside the rows, `activity_logs` records each log's provenance (who saved it, when, from which
files) and its content hash: `log_token` hands the UI a cache key that changes whenever the log
does, even when a replacement has as many rows as the log it replaced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dealscope import store
from dealscope.activity.model import ACTIVITY_COLUMNS, empty_activities, normalise_activities
from dealscope.errors import text

activities = store.activities
activity_logs = store.activity_logs


@dataclass(frozen=True)
class ActivityLogRecord:
    """Provenance of a dataset's stored follow-up log."""

    dataset_id: int
    rows: int
    content_hash: str
    saved_at: datetime
    saved_by: str | None
    source_files: tuple[dict, ...]


def ensure_table(engine: Engine) -> None:
    """Create the activity tables in a database made before they existed (idempotent)."""
    activities.create(engine, checkfirst=True)
    activity_logs.create(engine, checkfirst=True)


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a canonical log's values (row order included; the log is sorted canonically)."""
    log = normalise_activities(frame)
    digest = hashlib.sha256(",".join(log.columns).encode())
    digest.update(pd.util.hash_pandas_object(log, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def write_activities(
    engine: Engine,
    dataset_id: int,
    frame: pd.DataFrame,
    *,
    saved_by: str | None = None,
    source_files: list[dict] | None = None,
) -> int:
    """Replace the follow-up log of `dataset_id` with `frame` (canonical) and its provenance
    record, in one transaction; return the row count."""
    store.read_dataset_meta(engine, dataset_id)  # raises DatasetNotFound with a clear message
    ensure_table(engine)
    log = normalise_activities(frame)
    record = {
        "dataset_id": dataset_id,
        "rows": len(log),
        "content_hash": content_hash(log),
        "saved_at": datetime.now(UTC).replace(tzinfo=None),
        "saved_by": saved_by,
        "source_files": json.dumps(source_files or [], ensure_ascii=False),
    }
    with store.transaction(engine, text("errors.store.follow_up_not_saved")) as conn:
        conn.execute(activities.delete().where(activities.c.dataset_id == dataset_id))
        conn.execute(activity_logs.delete().where(activity_logs.c.dataset_id == dataset_id))
        if len(log):
            _insert(conn, log, dataset_id)
        conn.execute(activity_logs.insert().values(**record))
    return len(log)


def read_log_record(engine: Engine, dataset_id: int) -> ActivityLogRecord | None:
    """The provenance of the dataset's log; None when it has no log (or one written before
    provenance was recorded: then `activity_count` still tells whether a log exists)."""
    if not sa.inspect(engine).has_table(activity_logs.name):
        return None
    query = sa.select(activity_logs).where(activity_logs.c.dataset_id == dataset_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return ActivityLogRecord(
        dataset_id=int(row["dataset_id"]),
        rows=int(row["rows"]),
        content_hash=str(row["content_hash"]),
        saved_at=row["saved_at"],
        saved_by=row["saved_by"],
        source_files=tuple(json.loads(row["source_files"] or "[]")),
    )


def log_token(engine: Engine, dataset_id: int) -> str:
    """A cache key that changes whenever the dataset's log does: its content hash, or (a log
    stored before hashes were recorded) its row count."""
    record = read_log_record(engine, dataset_id)
    if record is not None:
        return f"sha256:{record.content_hash}"
    return f"rows:{activity_count(engine, dataset_id)}"


def _insert(conn, log: pd.DataFrame, dataset_id: int) -> None:
    """One driver-level executemany of row tuples (SQLAlchemy Core's per-row processing costs
    seconds for the demo's 60k rows). SQLite gets times in the text form SQLAlchemy reads back."""
    columns = ["dataset_id", *ACTIVITY_COLUMNS]
    frame = log.astype(object).where(log.notna(), None)
    if conn.dialect.name == "sqlite":
        frame["occurred_at"] = log["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        frame["occurred_at"] = log["occurred_at"].astype(object).tolist()  # datetimes, not numpy
    frame.insert(0, "dataset_id", dataset_id)
    compiled = activities.insert().compile(dialect=conn.dialect)
    positional = conn.dialect.paramstyle in ("qmark", "numeric", "format")
    if positional:
        frame = frame[list(compiled.positiontup)]
        params = list(zip(*(frame[c].tolist() for c in frame.columns), strict=True))
    else:
        params = frame[columns].to_dict("records")
    conn.exec_driver_sql(str(compiled), params)


def read_activities(engine: Engine, dataset_id: int) -> pd.DataFrame:
    """The canonical follow-up log of one dataset (empty when it has none)."""
    if not sa.inspect(engine).has_table(activities.name):
        return empty_activities()
    query = sa.select(*(activities.c[c] for c in ACTIVITY_COLUMNS)).where(
        activities.c.dataset_id == dataset_id
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(ACTIVITY_COLUMNS))
    return normalise_activities(frame) if len(frame) else empty_activities()


def activity_count(engine: Engine, dataset_id: int) -> int:
    """How many activities the dataset's log holds (a cheap cache token for the UI)."""
    if not sa.inspect(engine).has_table(activities.name):
        return 0
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(activities.c.dataset_id == dataset_id)
            ).scalar()
        )
