"""Data page helpers: the stored-datasets table in the session's language."""

from __future__ import annotations

import pandas as pd

from ui.state import tr

DATASET_COLUMNS = (
    "id",
    "name",
    "version",
    "created_at",
    "source_files",
    "rows_in",
    "rows_loaded",
    "rows_rejected",
    "rows_excluded",
    "opportunity_count",
    "stage_event_count",
)


def datasets_table(datasets: pd.DataFrame) -> pd.DataFrame:
    """The datasets listing with source file names joined and translated headers."""
    table = datasets.loc[:, list(DATASET_COLUMNS)].copy()
    table["source_files"] = table["source_files"].map(
        lambda files: ", ".join(str(f.get("name", "")) for f in files)
    )
    return table.rename(columns={c: tr(f"data.col.{c}") for c in DATASET_COLUMNS})
