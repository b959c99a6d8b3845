"""The `metrics --json` document: one dict assembled from every metric module."""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.cycle_summary import compute_cycle_document
from dealscope.metrics.funnel import HISTORY, SNAPSHOT, compute_snapshot_funnel, funnel_document
from dealscope.metrics.kpis import compute_summary
from dealscope.metrics.reps import compute_report_reps
from dealscope.model import Dataset


def build_metrics_document(dataset: Dataset, as_of: pd.Timestamp | None = None) -> dict:
    """All CLI metrics of a dataset as of `as_of` (default: Dataset.as_of, the export's date)."""
    dataset = dataset.settled().at(as_of)
    as_of = dataset.as_of
    document = {"dataset": dataset.name, "dataset_id": dataset.id}
    document.update(compute_summary(dataset.opportunities, as_of))
    # Closed deals whose close date lies after the export's date: kept as won / lost, flagged.
    document["close_after_as_of"] = dataset.late_closes
    document["stages"] = [
        {"stage": str(s), "position": int(p), "kind": str(k)}
        for s, p, k in zip(
            dataset.stages["stage"], dataset.stages["position"], dataset.stages["kind"], strict=True
        )
    ]
    if dataset.has_history:
        document["funnel_basis"] = HISTORY
        document["funnel"] = funnel_document(
            dataset.opportunities, dataset.stage_events, dataset.stages, as_of
        )
    else:  # no stage history: the current-stage counts, which need no dates
        document["funnel_basis"] = SNAPSHOT
        document["funnel"] = snapshot_rows(dataset, as_of)
    document["cycle"] = compute_cycle_document(dataset, as_of)
    document["reps"] = compute_report_reps(dataset.opportunities, as_of)
    return document


def snapshot_rows(dataset: Dataset, as_of: pd.Timestamp) -> list[dict]:
    """The snapshot funnel as JSON rows: stage, position, kind, deals, value, at_or_beyond."""
    table = compute_snapshot_funnel(dataset.opportunities, dataset.stages, as_of)
    return [
        {
            "stage": str(r["stage"]),
            "position": int(r["position"]),
            "kind": str(r["kind"]),
            "deals": int(r["deals"]),
            "value": float(r["value"]),
            "at_or_beyond": int(r["at_or_beyond"]),
        }
        for r in table.to_dict("records")  # one row per stage: a handful
    ]
