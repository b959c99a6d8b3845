"""The child side of parsing in a worker process (the pool itself lives in ui/ingest_worker.py).

A parse runs in a separate process so that one session's heavy or hostile upload holds neither the
server's GIL (every other session's reruns share it) nor its memory. Only our own objects cross the
process boundary: the uploaded bytes go in, the IngestResult (or one of ingest's own errors) comes
back, pickled by multiprocessing between two processes of this program — never a user's file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def call_reporting_progress(func: Callable[..., Any], args: tuple, kwargs: dict, queue) -> Any:
    """`func(*args, progress, **kwargs)` with each progress step put on `queue` (a multiprocessing
    queue proxy) as it happens, so the page can show the steps live; None: no progress argument."""
    if queue is None:
        return func(*args, **kwargs)
    return func(*args, queue.put, **kwargs)


def warm_up() -> bool:
    """Import what a parse needs, so the first upload after start-up does not pay for it."""
    import dealscope.ingest.pipeline
    import dealscope.ingest.read_sql  # noqa: F401

    return True
