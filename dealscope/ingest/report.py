"""The per-row report of one ingest: every rejected or excluded row and every flagged cell or row,
with file, physical line (or sheet row), column, raw value, reason code and detail."""

from __future__ import annotations

import pandas as pd

from dealscope.ingest.build import ISSUE_COLUMNS
from dealscope.ingest.rawtable import EXCLUDED, REJECTED
from dealscope.ingest.validate import LOADED

REPORT_COLUMNS = ("file", "sheet", "line", "outcome", "reason", "column", "value", "detail")
FLAGGED = "flagged"


def cell_flag_masks(opps: pd.DataFrame, issues: list[pd.DataFrame]) -> dict[str, pd.Series]:
    """{code: mask over opportunity rows} for the cell issues found in those rows."""
    frames = [i for i in issues if not i.empty]
    if not frames or "_table" not in opps:
        return {}
    cells = pd.concat(frames, ignore_index=True)
    row_key = opps["_table"].astype("int64") * 2**32 + opps["_pos"].astype("int64")
    cell_key = cells["_table"].astype("int64") * 2**32 + cells[
        "_pos" if "_pos" in cells else "pos"
    ].astype("int64")
    return {
        code: row_key.isin(cell_key[cells["code"] == code])
        for code in cells["code"].dropna().unique()
    }


def _piece(frame: pd.DataFrame, **constants) -> pd.DataFrame:
    """A report piece with exactly REPORT_COLUMNS as object columns (concat-safe)."""
    frame = frame.assign(**constants).reindex(columns=list(REPORT_COLUMNS))
    return frame.astype(object).where(frame.notna(), None)


def build_report(tables, outcomes, issues, opps, masks) -> pd.DataFrame:
    """Every rejected / excluded row and every flagged cell or row, with its physical line."""
    frames = []
    cells = [i for i in issues if not i.empty]
    cells = (
        pd.concat(cells, ignore_index=True)
        if cells
        else pd.DataFrame(columns=[*ISSUE_COLUMNS, "_table"])
    )
    for t, raw in enumerate(tables):
        where = {"file": raw.file, "sheet": raw.sheet}
        frames.append(_piece(raw.settled, **where))
        decided = outcomes[t][outcomes[t]["outcome"] != LOADED]
        frames.append(_piece(decided, line=raw.lines[decided.index.to_numpy()], **where))
        issue = cells[cells["_table"] == t]
        lines = raw.lines[issue["pos"].astype("int64").to_numpy()]
        frames.append(_piece(issue, line=lines, outcome=FLAGGED, reason=issue["code"], **where))
    if "_table" in opps and len(opps):
        for code, mask in masks.items():
            sub = opps.loc[mask.to_numpy(), ["_table", "_pos", "opportunity_id"]].dropna(
                subset=["_table"]
            )
            for t in sub["_table"].unique():
                raw, part = tables[int(t)], sub[sub["_table"] == t]
                lines = raw.lines[part["_pos"].astype("int64").to_numpy()]
                frames.append(_piece(part.rename(columns={"opportunity_id": "value"}), file=raw.file,
                                     sheet=raw.sheet, line=lines, outcome=FLAGGED, reason=code))  # fmt: skip
    frames = [f for f in frames if not f.empty]
    report = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(REPORT_COLUMNS))
    )
    report["line"] = pd.to_numeric(report["line"]).astype("Int64")
    order = {REJECTED: 0, EXCLUDED: 1, FLAGGED: 2}
    report = report.assign(_o=report["outcome"].map(order)).sort_values(
        ["_o", "file", "line"], kind="stable"
    )
    text = {c: "string" for c in REPORT_COLUMNS if c != "line"}
    return report.drop(columns="_o").reset_index(drop=True).astype(text)
