"""AppTests of the store on PostgreSQL: the demo's figures equal SQLite's; an unreachable server
shows the "database unavailable" banner with Retry, and the app recovers without a restart."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.demo import write_demo
from ui.loaders import clear_caches

VIEW = "pages/overview.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("demo_store_url", ["postgresql"], indirect=True)
def test_overview_on_postgresql_shows_the_sqlite_figures(open_app, demo_store_url, demo_db_url):
    on_postgres = metrics(open_app(demo_store_url, VIEW, query={"lang": "en"}))
    on_sqlite = metrics(open_app(demo_db_url, VIEW, query={"lang": "en"}))
    assert on_postgres["Total opportunities"] == "6,000"
    assert on_postgres == on_sqlite


class Forwarder:
    """A TCP port that forwards to the PostgreSQL server once switched on (the server "comes back");
    until then it accepts and closes every connection, as a restarting proxy would."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.on = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.on:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_unreachable_postgresql_shows_the_banner_and_retry_recovers(open_app, store_url):
    real = sa.make_url(store_url)
    engine = store.get_engine(store_url)  # the schema and the demo, written directly
    write_demo(engine, n=300)
    engine.dispose()
    forwarder = Forwarder((real.host, real.port))
    try:
        url = real.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
        at = open_app(url, VIEW, query={"lang": "en"})
        assert any("Database unavailable" in e.value for e in at.error)
        retry = next(b for b in at.button if b.label == "Retry")
        retry.click().run()
        assert any("Database unavailable" in e.value for e in at.error)  # still down
        forwarder.on = True  # the server is back: same URL, same app process
        next(b for b in at.button if b.label == "Retry").click().run()
        assert not at.exception
        assert not any("Database unavailable" in e.value for e in at.error)
        assert metrics(at)["Total opportunities"] == "300"
    finally:
        forwarder.close()


def test_a_deleted_sqlite_file_shows_the_banner_then_retry_starts_fresh(open_app, tmp_path):
    path = tmp_path / "app.db"
    url = f"sqlite:///{path}"
    write_demo(store.get_engine(url), n=200)
    at = open_app(url, VIEW, query={"lang": "en"})
    assert metrics(at)["Total opportunities"] == "200"
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    clear_caches()  # what the 30 s list cache would do by itself
    at.run()
    assert any("deleted or replaced" in e.value for e in at.error)
    next(b for b in at.button if b.label == "Retry").click().run()
    assert not at.exception
    assert not any("Database unavailable" in e.value for e in at.error)
