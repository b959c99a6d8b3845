"""The store: round trips, versions, one-transaction writes, SQLite settings, clear errors."""

import json
import sqlite3
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.errors import DatasetNotFound, StoreUnavailable
from dealscope.model import demo_stage_table, normalise_opportunities


def opportunities(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["007", "0123456789012345678", "NA"][:n],
            "name": ["商机 A", "None", '=HYPERLINK("x")'][:n],
            "owner": ["王伟", "李娜", None][:n],
            "amount": [1234.5, None, -10.0][:n],
            "currency": ["CNY"] * n,
            "stage": ["线索", "赢单", "输单"][:n],
            "status": ["open", "won", "lost"][:n],
            "created_at": pd.to_datetime(
                ["2024-03-05 10:00", "2024-01-01", None][:n], format="ISO8601"
            ),
            "closed_at": pd.to_datetime(
                [None, "2024-02-01 08:30:15", "2024-02-03"][:n], format="ISO8601"
            ),
            "extra": [json.dumps({"备注": "保留"}, ensure_ascii=False), None, None][:n],
        }
    )


def stage_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["007", "0123456789012345678"],
            "stage": ["线索", "赢单"],
            "entered_at": pd.to_datetime(
                ["2024-03-05 10:00", "2024-02-01 08:30:15"], format="ISO8601"
            ),
        }
    )


def test_round_trip_keeps_ids_text_and_timestamps(store_url):
    engine = store.get_engine(store_url)
    dataset_id = store.write_dataset(
        engine, "t", opportunities(), stage_events(), demo_stage_table()
    )
    loaded = store.read_dataset(engine, "t")
    assert loaded.id == dataset_id
    opps = loaded.opportunities
    assert opps["opportunity_id"].tolist() == ["007", "0123456789012345678", "NA"]
    assert opps["name"].tolist() == ["商机 A", "None", '=HYPERLINK("x")']
    assert opps["created_at"].iloc[0] == pd.Timestamp("2024-03-05 10:00")
    assert pd.isna(opps["created_at"].iloc[2])
    assert opps["closed_at"].iloc[1] == pd.Timestamp("2024-02-01 08:30:15")
    assert opps["amount"].iloc[0] == 1234.5 and pd.isna(opps["amount"].iloc[1])
    assert json.loads(opps["extra"].iloc[0]) == {"备注": "保留"}
    assert loaded.stage_events["entered_at"].tolist() == stage_events()["entered_at"].tolist()
    assert loaded.stages["stage"].tolist() == demo_stage_table()["stage"].tolist()
    assert loaded.has_history


def test_each_write_is_a_new_version_and_names_resolve_to_the_newest(store_url):
    engine = store.get_engine(store_url)
    first = store.write_dataset(
        engine, "weekly", opportunities(1), stage_events(), demo_stage_table()
    )
    second = store.write_dataset(
        engine, "weekly", opportunities(2), stage_events(), demo_stage_table()
    )
    listing = store.list_datasets(engine)
    assert listing["version"].tolist() == [2, 1]
    assert store.resolve_dataset_id(engine, "weekly") == second
    assert store.resolve_dataset_id(engine, str(first)) == first
    assert len(store.read_dataset(engine, first).opportunities) == 1
    with pytest.raises(DatasetNotFound, match="python -m dealscope datasets"):
        store.resolve_dataset_id(engine, "missing")


def test_failed_write_leaves_nothing_behind(store_url, monkeypatch):
    engine = store.get_engine(store_url)
    real_rows = store._arrow_rows

    def fail_on_events(table, frame, dataset_id, backend):
        if table is store.stage_events:  # after the catalog row and the opportunities
            raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))
        return real_rows(table, frame, dataset_id, backend)

    monkeypatch.setattr(store, "_arrow_rows", fail_on_events)
    with pytest.raises(StoreUnavailable, match="Nothing was saved"):
        store.write_dataset(engine, "broken", opportunities(), stage_events(), demo_stage_table())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.datasets)).scalar() == 0
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(store.opportunities)).scalar() == 0
        )


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(empty_db_url):
    engine = store.get_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store.SQLITE_BUSY_TIMEOUT_MS


HOLD_WRITE_LOCK = """
import sqlite3, sys
holder = sqlite3.connect(sys.argv[1])
holder.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
holder.rollback()
"""


def test_a_locked_database_gives_a_retry_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "SQLITE_WRITE_BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "locked.db"
    engine = store.get_engine(f"sqlite:///{path}")
    # Another process holds the write lock (as another server or CLI would).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreUnavailable, match="busy"):
            store.write_dataset(engine, "t", opportunities(), stage_events(), demo_stage_table())
    finally:
        holder.communicate("")
    assert store.list_datasets(engine).empty


def test_unusable_database_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.get_engine(f"sqlite:///{blocker / 'x.db'}")


def test_database_error_messages_hide_the_password():
    engine = SimpleNamespace(url=sa.make_url("postgresql+psycopg://user:s3cret@127.0.0.1:1/db"))
    error = sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    message = str(store._db_unavailable(engine, error))
    assert "connection refused" in message and "127.0.0.1" in message
    assert "s3cret" not in message


def test_db_url_precedence(monkeypatch):
    monkeypatch.setenv(store.DB_URL_ENV, "sqlite:///env.db")
    assert store.resolve_db_url("sqlite:///cli.db") == "sqlite:///cli.db"
    assert store.resolve_db_url(None) == "sqlite:///env.db"
    monkeypatch.delenv(store.DB_URL_ENV)
    assert store.resolve_db_url(None) == store.DEFAULT_DB_URL


def test_normalised_category_values_share_one_object_and_keep_missing_values():
    frame = pd.DataFrame(
        {
            "opportunity_id": ["1", "2", "3"],
            "region": ["".join(["华", "东"]), None, "".join(["华", "东"])],  # equal, not identical
        }
    )
    assert frame["region"][0] is not frame["region"][2]
    out = normalise_opportunities(frame)
    assert str(out["region"].dtype) == "string"
    assert out["region"][0] is out["region"][2] and out["region"][0] == "华东"
    assert out["region"].isna().tolist() == [False, True, False]


def test_db_values_are_plain_python_values_in_sqlalchemys_sqlite_datetime_form():
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2024-03-05 14:30:01.25", None]),
            "text": pd.array(["x", None], "string"),
            "amount": [1.5, float("nan")],
        }
    )
    values = store._db_values(frame, ("when", "text", "amount"), "sqlite")
    assert values == {
        "when": ["2024-03-05 14:30:01.250000", None],
        "text": ["x", None],
        "amount": [1.5, None],
    }
