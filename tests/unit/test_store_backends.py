"""The same data gives the same answers on SQLite and PostgreSQL, and many users share one store.

Every test here runs on both stores (the `store_url` / `demo_store_url` fixtures in conftest.py).
Figures on PostgreSQL are compared with the SQLite demo read independently (demo_dataset) or with
the same CLI run against SQLite, never with themselves.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.cli import main
from dealscope.errors import StoreUnavailable
from dealscope.model import demo_stage_table
from tests.conftest import MAVEN_DIR, _require_pg_server_url


def small_opportunities(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ids,
            "name": [f"deal {i}" for i in ids],
            "amount": [100.0] * len(ids),
            "stage": ["线索"] * len(ids),
            "status": ["open"] * len(ids),
            "created_at": pd.to_datetime(["2024-03-05 10:00"] * len(ids)),
        }
    )


NO_EVENTS = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"])


def _save(url: str, name: str, marker: str) -> int:
    engine = store.get_engine(url)
    try:
        return store.write_dataset(
            engine, name, small_opportunities([marker, "x"]), NO_EVENTS, demo_stage_table()
        )
    finally:
        engine.dispose()


def test_parallel_saves_of_one_name_all_land_as_versions(store_url):
    store.get_engine(store_url).dispose()  # schema first, as a running server has it
    saves = 8
    with ThreadPoolExecutor(max_workers=saves) as pool:
        ids = list(pool.map(lambda i: _save(store_url, "weekly", f"t{i}"), range(saves)))
    listing = store.list_datasets(store.get_engine(store_url))
    assert sorted(listing["version"]) == list(range(1, saves + 1))
    assert sorted(listing["id"]) == sorted(ids)
    engine = store.get_engine(store_url)
    first_ids = {store.read_dataset(engine, i).opportunities["opportunity_id"][0] for i in ids}
    assert first_ids == {f"t{i}" for i in range(saves)}  # every save kept its own rows


def test_parallel_saves_from_separate_processes(store_url):
    store.get_engine(store_url).dispose()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        ids = pool.starmap(_save, [(store_url, "shared", f"p{i}") for i in range(4)])
    listing = store.list_datasets(store.get_engine(store_url))
    assert sorted(listing["version"]) == [1, 2, 3, 4] and sorted(listing["id"]) == sorted(ids)


def test_reads_during_a_save_see_whole_versions(store_url):
    engine = store.get_engine(store_url)
    ids = [str(i) for i in range(20_000)]
    store.write_dataset(engine, "live", small_opportunities(ids), NO_EVENTS, demo_stage_table())
    seen, errors, done = [], [], threading.Event()

    def reader():
        while not done.is_set():
            try:
                seen.append(len(store.read_dataset(engine, "live").opportunities))
            except Exception as exc:
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            store.write_dataset(
                engine, "live", small_opportunities(ids), NO_EVENTS, demo_stage_table()
            )
    finally:
        done.set()
        thread.join()
    assert not errors
    assert seen and set(seen) == {20_000}  # never a half-written version
    assert store.list_datasets(engine)["version"].max() == 4


def test_long_names_and_control_characters_fail_the_same_way_everywhere(store_url):
    engine = store.get_engine(store_url)
    args = (small_opportunities(["a"]), NO_EVENTS, demo_stage_table())
    with pytest.raises(store.InvalidDatasetName, match="at most 200"):
        store.write_dataset(engine, "n" * 201, *args)
    with pytest.raises(store.InvalidDatasetName, match="control character"):
        store.write_dataset(engine, "bad\x00name", *args)
    stored = store.write_dataset(engine, "n" * 200, *args)  # the limit itself is fine
    assert store.resolve_dataset_id(engine, "n" * 200) == stored
    assert not store.dataset_exists(engine, "bad\x00name")
    assert not store.dataset_exists(engine, "n" * 201)


def test_nul_in_ids_and_text_is_removed_on_every_store(store_url):
    engine = store.get_engine(store_url)
    frame = small_opportunities(["A\x00B", "C"])
    frame["name"] = ["x\x00y", "\x00"]
    events = pd.DataFrame(
        {
            "opportunity_id": ["A\x00B"],
            "stage": ["线\x00索"],
            "entered_at": [pd.Timestamp(2024, 1, 1)],
        }
    )
    loaded = store.read_dataset(
        engine, store.write_dataset(engine, "nul", frame, events, demo_stage_table())
    )
    assert loaded.opportunities["opportunity_id"].tolist() == ["AB", "C"]
    assert loaded.opportunities["name"].tolist() == ["xy", ""]
    assert loaded.stage_events["stage"].tolist() == ["线索"]


def test_all_null_columns_and_nulls_before_values_read_back_typed(store_url):
    # SQLite's Arrow driver infers types from the rows it sees: a column null in its first
    # thousands of rows must still come back as text / numbers / dates.
    engine = store.get_engine(store_url)
    ids = [str(i) for i in range(5000)]
    frame = small_opportunities(ids)
    frame["owner"] = [None] * 4999 + ["王伟"]
    frame["amount"] = [None] * 4999 + [12.5]
    frame["closed_at"] = pd.to_datetime([None] * 4999 + ["2024-05-01 09:30:00.123456"])
    loaded = store.read_dataset(
        engine, store.write_dataset(engine, "sparse", frame, NO_EVENTS, demo_stage_table())
    ).opportunities
    assert loaded["owner"].iloc[-1] == "王伟" and loaded["owner"].isna().sum() == 4999
    assert loaded["amount"].iloc[-1] == 12.5
    assert loaded["closed_at"].iloc[-1] == pd.Timestamp("2024-05-01 09:30:00.123456")
    assert loaded["next_step"].isna().all() and str(loaded["next_step"].dtype) == "string"


def test_demo_loads_identically_from_both_stores(demo_store_url, demo_dataset):
    loaded = store.read_dataset(store.get_engine(demo_store_url), "demo")
    pd.testing.assert_frame_equal(loaded.opportunities, demo_dataset.opportunities)
    pd.testing.assert_frame_equal(loaded.stage_events, demo_dataset.stage_events)
    pd.testing.assert_frame_equal(loaded.stages, demo_dataset.stages)


def _run_json(capsys, *args) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_metrics_cli_gives_the_sqlite_figures(capsys, demo_store_url, demo_db_url):
    # demo_db_url: the session's SQLite demo, written independently of demo_store_url.
    args = ("metrics", "--dataset", "demo")
    assert _run_json(capsys, *args, "--db", demo_store_url) == _run_json(
        capsys, *args, "--db", demo_db_url
    )


def test_cli_ingest_of_the_maven_export_gives_the_sqlite_figures(capsys, store_url, tmp_path):
    if not (MAVEN_DIR / "sales_pipeline.csv").exists():
        pytest.skip(f"Maven CRM sample not found in {MAVEN_DIR}")
    files = [str(MAVEN_DIR / "sales_pipeline.csv")]
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    ingested = _run_json(capsys, "ingest", *files, "--dataset", "maven", "--db", store_url)
    expected = _run_json(capsys, "ingest", *files, "--dataset", "maven", "--db", reference)
    ingested.pop("dataset_id", None), expected.pop("dataset_id", None)
    assert ingested == expected
    metrics = _run_json(capsys, "metrics", "--dataset", "maven", "--db", store_url)
    assert metrics == _run_json(capsys, "metrics", "--dataset", "maven", "--db", reference)


def test_report_cli_writes_the_same_report_as_sqlite(demo_store_url, demo_db_url, tmp_path):
    outputs = []
    for url, name in ((demo_store_url, "store.md"), (demo_db_url, "sqlite.md")):
        out = tmp_path / name
        args = ["report", "--dataset", "demo", "--out", str(out), "--db", url]
        assert main(args) == 0
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]


def test_risk_scores_match_sqlite(demo_store_url, demo_db_url, tmp_path, capsys):
    scores = []
    for url, folder in ((demo_store_url, "a"), (demo_db_url, "b")):
        models = str(tmp_path / folder)
        _run_json(capsys, "risk", "train", "--dataset", "demo", "--db", url, "--model-dir", models)
        out = tmp_path / f"{folder}.csv"
        assert (
            main(
                ["risk", "score", "--dataset", "demo", "--db", url, "--model-dir", models]
                + ["--out", str(out)]
            )
            == 0
        )
        scores.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(scores[0], scores[1])


# ---- Failures: unreachable, deleted, corrupted ---------------------------------------------------


def test_a_server_that_never_answers_times_out(monkeypatch):
    # A socket that completes the TCP handshake (the kernel does, from the backlog) and never
    # says a word: without a connect timeout libpq waits for the OS's TCP timeout (~130 s).
    monkeypatch.setattr(store, "CONNECT_TIMEOUT_S", 2)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        with pytest.raises(StoreUnavailable, match="unavailable") as raised:
            store.get_engine(f"postgresql+psycopg://u:secret@127.0.0.1:{port}/db")
        assert "secret" not in str(raised.value)
    finally:
        silent.close()


def test_an_unknown_driver_is_a_clear_error():
    with pytest.raises(StoreUnavailable, match="No driver"):
        store.get_engine("postgresql+nosuchdriver://u@127.0.0.1:1/db")
    with pytest.raises(StoreUnavailable, match="not a database URL"):
        store.get_engine("not a url")


def test_a_deleted_sqlite_file_is_unavailable_never_saved(tmp_path):
    # The read path gives the same banner: see tests/app/test_store_postgres.py.
    path = tmp_path / "gone.db"
    engine = store.get_engine(f"sqlite:///{path}")
    store.write_dataset(engine, "a", small_opportunities(["1"]), NO_EVENTS, demo_stage_table())
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable, match="deleted or replaced"):
        store.write_dataset(engine, "b", small_opportunities(["2"]), NO_EVENTS, demo_stage_table())
    assert not path.exists()  # nothing recreated the file behind the user's back
    # Recovery without a restart: the next operation (the app's Retry) starts a fresh store.
    assert store.list_datasets(engine).empty
    store.write_dataset(engine, "c", small_opportunities(["3"]), NO_EVENTS, demo_stage_table())
    assert store.list_datasets(store.get_engine(f"sqlite:///{path}"))["name"].tolist() == ["c"]


def test_a_corrupted_sqlite_file_is_unavailable(tmp_path):
    path = tmp_path / "broken.db"
    engine = store.get_engine(f"sqlite:///{path}")
    store.write_dataset(engine, "a", small_opportunities(["1"]), NO_EVENTS, demo_stage_table())
    engine.dispose()
    with path.open("r+b") as handle:  # same file, garbage where the header and pages were
        handle.write(b"\xff" * 8192)
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.read_dataset(engine, "a")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.write_dataset(engine, "b", small_opportunities(["2"]), NO_EVENTS, demo_stage_table())
    with pytest.raises(StoreUnavailable, match="unavailable"):
        store.get_engine(f"sqlite:///{path}")


def test_pg_params_fail_under_ci_without_a_server(monkeypatch):
    monkeypatch.delenv("DEALSCOPE_TEST_PG_URL", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _require_pg_server_url()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="make test"):
        _require_pg_server_url()


def test_schema_tables_exist_on_both(store_url):
    inspector = sa.inspect(store.get_engine(store_url))
    assert {"datasets", "opportunities", "stage_events", "stages"} <= set(
        inspector.get_table_names()
    )


def test_a_sqlite_file_deleted_during_a_save_is_not_saved(tmp_path, monkeypatch):
    path = tmp_path / "vanishing.db"
    engine = store.get_engine(f"sqlite:///{path}")
    real_rows = store._arrow_rows

    def delete_midway(table, frame, dataset_id, backend):
        if table is store.stage_events:  # the transaction is open and has written rows
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return real_rows(table, frame, dataset_id, backend)

    monkeypatch.setattr(store, "_arrow_rows", delete_midway)
    with pytest.raises(StoreUnavailable, match="deleted or replaced"):
        store.write_dataset(engine, "a", small_opportunities(["1"]), NO_EVENTS, demo_stage_table())
