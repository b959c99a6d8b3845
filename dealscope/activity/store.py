"""The `activities` table: a dataset's follow-up log, beside its opportunities and stage events.

The table is declared in `dealscope/store.py` with the others (created with the schema, deleted
with its dataset); this module writes and reads it. A dataset has
at most one log: writing a log for a dataset replaces the one it had, in one transaction.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dealscope import store
from dealscope.activity.model import ACTIVITY_COLUMNS, empty_activities, normalise_activities

activities = store.activities


def ensure_table(engine: Engine) -> None:
    """Create the activities table in a database made before it existed (idempotent)."""
    activities.create(engine, checkfirst=True)


def write_activities(engine: Engine, dataset_id: int, frame: pd.DataFrame) -> int:
    """Replace the follow-up log of `dataset_id` with `frame` (canonical); return the row count."""
    store.read_dataset_meta(engine, dataset_id)  # raises DatasetNotFound with a clear message
    ensure_table(engine)
    log = normalise_activities(frame)
    with store.transaction(engine, " The follow-up log was not saved.") as conn:
        conn.execute(activities.delete().where(activities.c.dataset_id == dataset_id))
        if len(log):
            _insert(conn, log, dataset_id)
    return len(log)


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
