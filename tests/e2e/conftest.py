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
from playwright.sync_api import expect, sync_playwright

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
# How long a wait on the app may take before it counts as a failure. Generous on purpose: a heavy
# page on a loaded 2-core machine takes tens of seconds, and every wait ends as soon as the app
# says its run finished, so a long limit costs nothing when the machine is idle.
APP_TIMEOUT_MS = 120_000
# `expect(...)` assertions retry until this; Playwright's default of 5 s failed under load.
expect.set_options(timeout=APP_TIMEOUT_MS)
# The app's own run state, as Streamlit's frontend publishes it on the root element.
RUN_FINISHED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.dataset.testScriptState === "notRunning"
        && app.dataset.testConnectionState === "CONNECTED"
        && document.querySelector('[data-testid="stMain"] h2') !== null
        && document.querySelector('[data-stale="true"]') === null;
}"""


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
    page.set_default_timeout(APP_TIMEOUT_MS)
    page.console_log = ConsoleLog()
    page.console_log.attach(page)
    yield page
    context.close()


def wait_for_app(page, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Wait until the app says its script run finished: Streamlit marks the root element
    `data-test-script-state="notRunning"` once a run ends (it reads "initial" before the first
    run and "running" / "rerunRequested" during one), the page's heading is drawn and no element
    is stale (left over from the previous run). Then wait for the browser's own requests (charts,
    media) to settle, so late console errors are seen. No fixed sleep anywhere."""
    page.wait_for_function(RUN_FINISHED, timeout=timeout_ms)
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    # A run that a late widget event or the frame guard started shows up only now; wait it out.
    page.wait_for_function(RUN_FINISHED, timeout=timeout_ms)
