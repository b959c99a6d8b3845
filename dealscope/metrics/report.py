"""The `metrics --json` document: one dict assembled from every metric module."""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.cycle_summary import compute_cycle_document
from dealscope.metrics.funnel import funnel_document
from dealscope.metrics.kpis import compute_summary
from dealscope.metrics.reps import compute_report_reps
from dealscope.model import Dataset


def build_metrics_document(dataset: Dataset, as_of: pd.Timestamp | None = None) -> dict:
    """All CLI metrics of a dataset as of `as_of` (default: Dataset.as_of, the export's date)."""
    dataset = dataset.at(as_of)
    as_of = dataset.as_of
    document = {"dataset": dataset.name, "dataset_id": dataset.id}
    document.update(compute_summary(dataset.opportunities, as_of))
    document["funnel"] = funnel_document(
        dataset.opportunities, dataset.stage_events, dataset.stages, as_of
    )
    document["cycle"] = compute_cycle_document(dataset, as_of)
    document["reps"] = compute_report_reps(dataset.opportunities, as_of)
    return document
