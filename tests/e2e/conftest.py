"""The real server on a free port, driven by Playwright in Debian's chromium (never a downloaded one)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from dealscope import store
from dealscope.demo import write_demo

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90
# Streamlit's own page asks the browser for things this sandbox never serves; these are not ours.
# Nothing is ignored but the frontend's base-path probe: on a deep link (/data) it first asks
# /data/_stcore/health and /data/_stcore/host-config, gets 404, then uses the root.
BASE_PATH_PROBES = ("/_stcore/health", "/_stcore/host-config")

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(db_url: str, workdir: Path):
    """`streamlit run app.py` on db_url and a free port; yields its base URL, stops it after."""
    port = free_port()
    models = workdir / "models"
    models.mkdir(exist_ok=True)
    env = os.environ | {
        "DEALSCOPE_DB_URL": db_url,
        "DEALSCOPE_MODEL_DIR": str(models),
        "OMP_NUM_THREADS": "1",
    }
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def demo_db_file_url(tmp_path_factory) -> str:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
    write_demo(store.get_engine(db_url))
    return db_url


@pytest.fixture(scope="session")
def server_url(demo_db_file_url, tmp_path_factory) -> str:
    """The app on the demo database, shared by the browser tests; yields its base URL."""
    with running_server(demo_db_file_url, tmp_path_factory.mktemp("server")) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleLog(list):
    """Console errors and uncaught page errors seen by one page."""

    def attach(self, page) -> None:
        page.on(
            "console",
            lambda m: (
                m.type == "error" and self.append(f"console: {m.text} ({m.location.get('url')})")
            ),
        )
        page.on("pageerror", lambda e: self.append(f"pageerror: {e}"))

    def real_errors(self) -> list[str]:
        return [
            e for e in self if not ("404" in e and any(probe in e for probe in BASE_PATH_PROBES))
        ]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.console_log = ConsoleLog()
    page.console_log.attach(page)
    yield page
    context.close()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script run finished: the main block rendered and no run is in progress."""
    page.wait_for_selector('[data-testid="stMain"] h2', timeout=timeout_ms)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')""", timeout=timeout_ms
    )
    page.wait_for_timeout(500)
