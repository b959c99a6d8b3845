"""Background training: saving a dataset (or opening one without a model) trains its risk model in
a thread, without a button; pages show "training…" with progress, then the result.

State lives in one process-level registry (st.cache_resource) keyed by (db url, dataset id): it
holds progress and outcome only, never user data; the thread reads the dataset from the store
itself. A dataset version is immutable, so a new version (a new id) trains a new model.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import streamlit as st

from dealscope import store
from dealscope.activity.store import read_activities
from dealscope.errors import DealScopeError
from dealscope.risk import service
from dealscope.risk.train import InsufficientData
from ui.auth import audit

_LOG = logging.getLogger(__name__)

RUNNING, DONE, FAILED, INSUFFICIENT = "running", "done", "failed", "insufficient"


@dataclass
class TrainingJob:
    """Progress of one dataset's training (fraction 0–1, step code) and its outcome."""

    state: str = RUNNING
    fraction: float = 0.0
    step: str = "snapshots"
    error: str | None = None
    # The DealScope error that ended the job, shown in the reader's language (error_message).
    failure: DealScopeError | None = None
    done: threading.Event = field(default_factory=threading.Event)


class TrainingRegistry:
    """The process's training jobs by (db url, dataset id); one job per key at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, int], TrainingJob] = {}

    def get(self, db_url: str, dataset_id: int) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get((db_url, int(dataset_id)))

    def start(self, db_url: str, dataset_id: int, model_dir: str | None = None) -> TrainingJob:
        """Start training unless a job for this key is running or finished in this process."""
        key = (db_url, int(dataset_id))
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in (RUNNING, DONE, INSUFFICIENT):
                return job
            job = self._jobs[key] = TrainingJob()
        thread = threading.Thread(
            target=_run, args=(job, db_url, int(dataset_id), model_dir), daemon=True
        )
        thread.start()
        return job

    def forget(self, db_url: str, dataset_id: int) -> None:
        """Drop a finished job (so an unusable model can be retrained)."""
        with self._lock:
            job = self._jobs.get((db_url, int(dataset_id)))
            if job is not None and job.state != RUNNING:
                del self._jobs[(db_url, int(dataset_id))]


def _run(job: TrainingJob, db_url: str, dataset_id: int, model_dir: str | None) -> None:
    def progress(fraction: float, step: str) -> None:
        job.fraction, job.step = min(max(fraction, 0.0), 1.0), step

    try:
        engine = store.get_engine(db_url)
        try:
            # Settled as the pages and the CLI analyse it, so the model's data hash is theirs.
            dataset = store.read_dataset(engine, dataset_id).settled()
            log = read_activities(engine, dataset_id)
        finally:
            engine.dispose()
        service.train_and_save(dataset, model_dir, progress=progress, activities=log)
        job.state = DONE
    except InsufficientData as exc:
        job.error, job.state = str(exc), INSUFFICIENT
    except (DealScopeError, OSError, ValueError) as exc:  # shown on the page, never a crash
        job.error, job.state = f"{type(exc).__name__}: {exc}", FAILED
        job.failure = exc if isinstance(exc, DealScopeError) else None
    except Exception as exc:  # a bug: the job still ends (never "running" for ever), and is logged
        _LOG.exception("training the risk model of dataset %s failed", dataset_id)
        job.error, job.state = f"{type(exc).__name__}: {exc}", FAILED
    finally:
        job.fraction = 1.0
        job.done.set()


@st.cache_resource(show_spinner=False)
def training_registry() -> TrainingRegistry:
    """The one registry of this server process."""
    return TrainingRegistry()


def start_training(db_url: str, dataset_id: int) -> TrainingJob:
    """Train the dataset's risk model in the background (after a save, or when the Risk page finds
    no usable model); logged on the audit logger with the session's user."""
    audit("train risk model", dataset_id=dataset_id)
    return training_registry().start(db_url, dataset_id)
