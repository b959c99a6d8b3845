"""The week's movement tables: deals that advanced, moved back, were won, lost or created."""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.kpis import priced_amount
from dealscope.model import LOST, OPEN, WON
from dealscope.report.week import WEEK

MOVEMENT_KINDS = ("advanced", "regressed", "won", "lost", "created")


def compute_movements(
    opportunities: pd.DataFrame,
    intervals: pd.DataFrame,
    stages: pd.DataFrame,
    week: pd.Timestamp,
    currency: str | None,
) -> dict[str, pd.DataFrame]:
    """The week's movement tables, by kind (MOVEMENT_KINDS), largest amount first.

    Takes opportunities and compute_stage_intervals' frame. Every table has opportunity_id, name,
    owner, amount (in `currency`; NaN for other currencies), and: advanced / regressed →
    from_stage, to_stage, moved_at (one row per move); won → stage_before, closed_at; lost →
    lost_at_stage, lost_reason, closed_at; created → stage (current), created_at.
    """
    end = week + WEEK
    deals = opportunities.loc[:, ["opportunity_id", "name", "owner"]].assign(
        amount=priced_amount(opportunities, currency)
    )
    by_id = deals.set_index("opportunity_id")
    exits = intervals.loc[intervals["exited_at"].ge(week) & intervals["exited_at"].lt(end)]
    last_open = _last_open_stage(intervals)

    def moves(mask_column: str) -> pd.DataFrame:
        picked = exits.loc[
            exits[mask_column], ["opportunity_id", "stage", "next_stage", "exited_at"]
        ]
        picked = picked.rename(
            columns={"stage": "from_stage", "next_stage": "to_stage", "exited_at": "moved_at"}
        )
        return _attach(picked, by_id)

    closed_in = opportunities["closed_at"].ge(week) & opportunities["closed_at"].lt(end)
    won = opportunities.loc[
        closed_in & opportunities["status"].eq(WON), ["opportunity_id", "closed_at"]
    ]
    won = won.assign(stage_before=won["opportunity_id"].map(last_open))
    lost = opportunities.loc[
        closed_in & opportunities["status"].eq(LOST), ["opportunity_id", "lost_reason", "closed_at"]
    ]
    lost = lost.assign(lost_at_stage=lost["opportunity_id"].map(last_open))
    created_in = opportunities["created_at"].ge(week) & opportunities["created_at"].lt(end)
    created = opportunities.loc[created_in, ["opportunity_id", "stage", "created_at"]]
    return {
        "advanced": moves("advanced"),
        "regressed": moves("regressed"),
        "won": _attach(won.loc[:, ["opportunity_id", "stage_before", "closed_at"]], by_id),
        "lost": _attach(
            lost.loc[:, ["opportunity_id", "lost_at_stage", "lost_reason", "closed_at"]], by_id
        ),
        "created": _attach(created, by_id),
    }


def _last_open_stage(intervals: pd.DataFrame) -> pd.Series:
    """Per opportunity, the last open stage it was in (where a closed deal was won or lost)."""
    open_rows = intervals.loc[intervals["kind"].eq(OPEN), ["opportunity_id", "stage"]]
    return open_rows.groupby("opportunity_id", sort=False)["stage"].last()


def _attach(frame: pd.DataFrame, by_id: pd.DataFrame) -> pd.DataFrame:
    """Prefix the deal's name, owner and amount; sort by amount, largest first."""
    out = frame.join(by_id, on="opportunity_id")
    first = ["opportunity_id", "name", "owner", "amount"]
    rest = [c for c in frame.columns if c not in first]
    out = out.loc[:, first + rest].sort_values(
        ["amount", "opportunity_id"], ascending=[False, True], na_position="last", kind="stable"
    )
    return out.reset_index(drop=True)


def summarise_lost_reasons(lost: pd.DataFrame) -> pd.DataFrame:
    """Lost deals of the week by reason: lost_reason, count, value (missing reason kept as NaN)."""
    if lost.empty:
        return pd.DataFrame({"lost_reason": [], "count": [], "value": []})
    grouped = lost.groupby("lost_reason", dropna=False, sort=False)["amount"]
    out = pd.DataFrame({"count": grouped.size(), "value": grouped.sum(min_count=1)})
    out = out.reset_index().sort_values(["count", "value"], ascending=False, kind="stable")
    return out.reset_index(drop=True)
