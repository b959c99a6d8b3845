"""The server's pool of worker processes that parse uploads (dealscope/ingest/worker.py says why).

One pool per server process, created on the first upload: a process resource like the database
engine, holding no user's state. Workers are started with "spawn" (forking a threaded server is
unsafe) and kept warm between uploads. A worker that dies (the OS killing it for memory) breaks
the pool; the upload gets a one-line error and the next upload starts a fresh pool.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from queue import Empty
from typing import Any, TypeVar

from dealscope.ingest.errors import UploadError
from dealscope.ingest.worker import call_reporting_progress, warm_up

# One worker per core, at most two: parsing is the heavy part of an upload, and a third parse at
# once would only share the same cores.
WORKERS = max(1, min(2, os.cpu_count() or 1))
POLL_SECONDS = 0.1
_CONTEXT = multiprocessing.get_context("spawn")
_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None
_MANAGER = None  # a multiprocessing manager, for the progress queues (started on first need)
T = TypeVar("T")


def _shutdown() -> None:
    global _POOL, _MANAGER
    with _LOCK:
        pool, manager, _POOL, _MANAGER = _POOL, _MANAGER, None, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.shutdown()


atexit.register(_shutdown)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(WORKERS, mp_context=_CONTEXT)
            _POOL.submit(warm_up)
        return _POOL


def _progress_queue():
    global _MANAGER
    with _LOCK:
        if _MANAGER is None:
            _MANAGER = _CONTEXT.Manager()
        return _MANAGER.Queue()


def _drain(queue, progress: Callable[[str], None]) -> None:
    while True:
        try:
            step = queue.get_nowait()
        except Empty:
            return
        progress(step)


def run_in_worker(
    func: Callable[..., T],
    *args: Any,
    progress: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> T:
    """`func(*args, **kwargs)` (with a progress callback last when `progress` is given) in a worker process.

    `progress` is called here, in the caller's thread, with each step the worker reports, so it
    may draw Streamlit elements. Errors raised by `func` are raised here as they were raised there.
    """
    global _POOL
    queue = _progress_queue() if progress is not None else None
    try:
        future = _pool().submit(call_reporting_progress, func, args, kwargs, queue)
        while True:
            wait([future], timeout=POLL_SECONDS)
            finished = future.done()  # read before draining: its last steps are queued by then
            if queue is not None:
                _drain(queue, progress)
            if finished:
                return future.result()
    except BrokenProcessPool:
        with _LOCK:
            _POOL = None
        raise UploadError(key="errors.ingest.worker_died") from None
