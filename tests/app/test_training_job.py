"""A background training run always ends: an unexpected error marks the job failed (and is
logged for the operator) instead of leaving the page waiting on a job "running" for ever."""

from __future__ import annotations

import logging

from ui import training


def test_an_unexpected_error_ends_the_job_as_failed(demo_db_url, monkeypatch, caplog, tmp_path):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(training.service, "train_and_save", broken)
    job = training.TrainingJob()
    with caplog.at_level(logging.ERROR, logger="ui.training"):
        training._run(job, demo_db_url, 1, str(tmp_path))
    assert job.done.is_set() and job.state == training.FAILED
    assert job.error == "RuntimeError: boom"
    assert any("boom" in (r.exc_text or "") for r in caplog.records)
