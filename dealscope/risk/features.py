"""Point-in-time features for the churn-risk model (DESIGN §5, METHODS §6.5).

Every feature of a row "deal d at time t" is computed from what was known at t: the stage events
entered at or before t, the deal's creation fields, and the outcomes of *other* deals that closed
strictly before t. Final-state fields (final stage, status, close date, days to close, lost reason,
next step, expected close date, last activity, anything in `extra`, probability / forecast / score
columns) are never read. Which features a dataset supports is decided in availability.py. Training rows are snapshots of deals closed before the as-of date, taken
at fixed ages so every deal is seen at the same points of its life; each deal's snapshots share a
total weight of 1 so long deals do not dominate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON

HISTORY, FALLBACK = "history", "fallback"
# Ages (days since creation) at which a closed deal is snapshotted while it was still open.
SNAPSHOT_AGES_DAYS = (0, 7, 14, 21, 30, 45, 60, 90, 120, 150, 180, 240, 300, 365, 450, 540, 730)
# Pseudo-deals at the global win rate added to every owner's record (shrinks small samples).
OWNER_PRIOR_STRENGTH = 10.0
# Categorical levels seen on fewer training deals than this are pooled into OTHER.
MIN_CATEGORY_DEALS = 30
MAX_CATEGORIES = 40
OTHER, MISSING = "(other)", "(missing)"
SEGMENT_FEATURES = ("region", "team", "industry", "source", "customer_type", "account")
HISTORY_NUMERIC = (
    "age_days",
    "days_in_stage",
    "stage_changes",
    "regressions",
    "owner_win_rate",
)
# The owner's count of closed deals is left out on purpose: it only grows with calendar time, so
# open deals (scored at the as-of date) sit beyond every training value — a trend, not a signal.
FALLBACK_NUMERIC = ("owner_win_rate",)
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a model uses and the categorical levels it was trained with."""

    mode: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Model input column names: categoricals first, then numbers."""
        return [*self.categorical, *self.numeric]

    def to_json(self) -> dict:
        """A JSON-serialisable dict (stored in the model card)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> FeatureSpec:
        """The spec stored by to_json."""
        return cls(
            mode=data["mode"],
            categorical=tuple(data["categorical"]),
            numeric=tuple(data["numeric"]),
            categories={k: list(v) for k, v in data["categories"].items()},
        )


def _owner_records(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Closed deals by close time with running won / closed counts, per owner and overall."""
    status = status_as_of(opportunities, as_of)
    closed = status.isin([WON, LOST]) & opportunities["closed_at"].notna()
    rec = pd.DataFrame(
        {
            "owner": opportunities.loc[closed, "owner"].astype("string"),
            "closed_at": opportunities.loc[closed, "closed_at"].astype("datetime64[ns]"),
            "won": status[closed].eq(WON).astype("int64"),
        }
    ).sort_values("closed_at", kind="stable")
    rec["g_won"] = rec["won"].cumsum()
    rec["g_n"] = np.arange(1, len(rec) + 1)
    by_owner = rec.groupby("owner", dropna=True, sort=False)
    rec["o_won"] = by_owner["won"].cumsum()
    rec["o_n"] = by_owner.cumcount() + 1
    return rec.reset_index(drop=True)


def _owner_rate_at(points: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """owner_win_rate and owner_closed at each point's time, from deals closed strictly before it.

    Takes points (row, owner, snapshot_at) and _owner_records; a vectorised as-of join.
    """
    pts = points.loc[:, ["row", "owner", "snapshot_at"]].sort_values("snapshot_at", kind="stable")
    glob = pd.merge_asof(
        pts,
        records.loc[:, ["closed_at", "g_won", "g_n"]],
        left_on="snapshot_at",
        right_on="closed_at",
        direction="backward",
        allow_exact_matches=False,
    )
    owned = records.dropna(subset=["owner"]).loc[:, ["owner", "closed_at", "o_won", "o_n"]]
    # merge_asof's `by` needs one dtype and no nulls: deals without an owner get a key nobody has.
    pts_key = pts.assign(owner=pts["owner"].astype(object).where(pts["owner"].notna(), "\0none"))
    own = pd.merge_asof(
        pts_key,
        owned.assign(owner=owned["owner"].astype(object)),
        left_on="snapshot_at",
        right_on="closed_at",
        by="owner",
        direction="backward",
        allow_exact_matches=False,
    )
    g_won = glob["g_won"].fillna(0).to_numpy()
    g_n = glob["g_n"].fillna(0).to_numpy()
    global_rate = (g_won + 1.0) / (g_n + 2.0)
    o_won = own["o_won"].fillna(0).to_numpy()
    o_n = own["o_n"].fillna(0).to_numpy()
    rate = (o_won + OWNER_PRIOR_STRENGTH * global_rate) / (o_n + OWNER_PRIOR_STRENGTH)
    return pd.DataFrame({"row": pts["row"].to_numpy(), "owner_win_rate": rate, "owner_closed": o_n})


def _event_table(
    stage_events: pd.DataFrame, stages: pd.DataFrame, codes: pd.Index, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Stage entries up to `as_of` with the stage-change and regression counts so far."""
    ev = stage_events.loc[stage_events["entered_at"] <= as_of]
    ev = ev.sort_values(["opportunity_id", "entered_at"], kind="stable")
    code = codes.get_indexer(ev["opportunity_id"])
    position = ev["stage"].map(stages.set_index("stage")["position"]).astype("float64")
    kind = ev["stage"].map(stages.set_index("stage")["kind"])
    is_open = kind.eq(OPEN).to_numpy()
    same = np.r_[False, code[1:] == code[:-1]]
    prev_pos = np.r_[np.nan, position.to_numpy()[:-1]]
    prev_open = np.r_[False, is_open[:-1]]
    regressed = same & is_open & prev_open & (position.to_numpy() < prev_pos)
    out = pd.DataFrame(
        {
            "code": code,
            "entered_at": ev["entered_at"].to_numpy(dtype="datetime64[ns]"),
            "stage_at": ev["stage"].to_numpy(),
            "stage_kind": kind.to_numpy(),
            "regressed": regressed.astype("int64"),
        }
    )
    out = out.loc[out["code"] >= 0]
    grouped = out.groupby("code", sort=False)
    out["stage_changes"] = grouped.cumcount()
    out["regressions"] = grouped["regressed"].cumsum()
    return out.sort_values("entered_at", kind="stable").reset_index(drop=True)


def features_at(
    points: pd.DataFrame,
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    spec: FeatureSpec,
) -> pd.DataFrame:
    """Raw features of each (opportunity_id, snapshot_at) point, using only what was known then.

    Takes points (opportunity_id, snapshot_at) and the canonical frames; returns the points with
    spec.columns added (same row order), plus stage_kind (kind of the stage at the point).
    """
    opps = opportunities.drop_duplicates("opportunity_id").set_index("opportunity_id")
    codes = pd.Index(opps.index)
    pts = points.loc[:, ["opportunity_id", "snapshot_at"]].reset_index(drop=True)
    # One resolution for every as-of join key (generated frames may carry seconds).
    pts["snapshot_at"] = pts["snapshot_at"].astype("datetime64[ns]")
    pts["row"] = np.arange(len(pts))
    pts["code"] = codes.get_indexer(pts["opportunity_id"])
    base = opps.iloc[pts["code"].to_numpy()]
    pts["owner"] = base["owner"].to_numpy()
    out = pts.loc[:, ["opportunity_id", "snapshot_at"]].copy()
    created = pd.Series(base["created_at"].to_numpy(dtype="datetime64[ns]"), index=pts.index)
    out["age_days"] = (pts["snapshot_at"] - created).dt.total_seconds() / SECONDS_PER_DAY
    for column in SEGMENT_FEATURES:
        if column in spec.categorical:
            out[column] = base[column].to_numpy()
    if "log_amount" in spec.numeric:
        out["log_amount"] = np.log1p(base["amount"].clip(lower=0).to_numpy())
    rates = _owner_rate_at(pts, _owner_records(opportunities, as_of)).set_index("row")
    out["owner_win_rate"] = rates["owner_win_rate"].reindex(pts["row"]).to_numpy()
    out["owner_closed"] = rates["owner_closed"].reindex(pts["row"]).to_numpy()
    if spec.mode == HISTORY:
        wanted = pts["opportunity_id"].unique()
        if len(wanted) < len(codes) // 2:  # scoring open deals: skip the closed deals' history
            stage_events = stage_events.loc[stage_events["opportunity_id"].isin(wanted)]
        events = _event_table(stage_events, stages, codes, as_of)
        joined = pd.merge_asof(
            pts.loc[:, ["row", "code", "snapshot_at"]].sort_values("snapshot_at", kind="stable"),
            events,
            left_on="snapshot_at",
            right_on="entered_at",
            by="code",
            direction="backward",
            allow_exact_matches=True,
        ).set_index("row")
        joined = joined.reindex(pts["row"])
        out["stage"] = joined["stage_at"].to_numpy()
        out["stage_kind"] = joined["stage_kind"].to_numpy()
        entered = pd.Series(joined["entered_at"].to_numpy(), index=pts.index)
        out["days_in_stage"] = (pts["snapshot_at"] - entered).dt.total_seconds() / SECONDS_PER_DAY
        out["stage_changes"] = joined["stage_changes"].to_numpy(dtype="float64")
        out["regressions"] = joined["regressions"].to_numpy(dtype="float64")
    else:
        out["stage_kind"] = OPEN
    return out.loc[:, ["opportunity_id", "snapshot_at", "stage_kind", *spec.columns]]


def closed_deals(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Deals closed (won/lost) by `as_of` with a usable life: opportunity_id, created_at,
    closed_at, lost (1/0). Deals without dates or closed before creation are left out."""
    status = status_as_of(opportunities, as_of)
    ok = (
        status.isin([WON, LOST])
        & opportunities["created_at"].notna()
        & opportunities["closed_at"].notna()
        & (opportunities["closed_at"] > opportunities["created_at"])
    )
    return pd.DataFrame(
        {
            "opportunity_id": opportunities.loc[ok, "opportunity_id"],
            "created_at": opportunities.loc[ok, "created_at"],
            "closed_at": opportunities.loc[ok, "closed_at"],
            "lost": status[ok].eq(LOST).astype("int64"),
        }
    ).reset_index(drop=True)


def snapshot_counts(deals: pd.DataFrame, mode: str) -> np.ndarray:
    """How many snapshots snapshot_points would give each deal (without building them)."""
    if mode != HISTORY:
        return np.ones(len(deals), dtype="int64")
    life = (deals["closed_at"] - deals["created_at"]).dt.total_seconds() / SECONDS_PER_DAY
    return np.searchsorted(
        np.asarray(SNAPSHOT_AGES_DAYS, dtype=float), life.to_numpy(), side="left"
    )


def snapshot_points(
    deals: pd.DataFrame, mode: str, ages: tuple[int, ...] = SNAPSHOT_AGES_DAYS
) -> pd.DataFrame:
    """Snapshot times of closed deals: at each age in `ages` while still open (history mode),
    or at creation only (fallback). Takes closed_deals' frame; returns its columns plus
    snapshot_at and weight (1 / snapshots of the deal)."""
    grid = np.asarray(ages if mode == HISTORY else (0,), dtype="int64")
    rep = deals.loc[deals.index.repeat(len(grid))].reset_index(drop=True)
    rep["snapshot_at"] = rep["created_at"] + pd.to_timedelta(np.tile(grid, len(deals)), unit="D")
    rep = rep.loc[rep["snapshot_at"] < rep["closed_at"]].reset_index(drop=True)
    rep["weight"] = 1.0 / rep.groupby("opportunity_id")["opportunity_id"].transform("size")
    return rep


def fit_categories(frame: pd.DataFrame, spec: FeatureSpec) -> FeatureSpec:
    """The spec with its categorical levels: those seen on ≥ MIN_CATEGORY_DEALS training deals."""
    categories = {}
    for column in spec.categorical:
        per_deal = frame.drop_duplicates(["opportunity_id", column])[column].dropna()
        counts = per_deal.astype(str).value_counts()
        keep = counts[counts >= MIN_CATEGORY_DEALS].index[:MAX_CATEGORIES]
        categories[column] = sorted(keep.tolist())
    return FeatureSpec(spec.mode, spec.categorical, spec.numeric, categories)


def model_matrix(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The model's input: spec.columns, categoricals as strings limited to the trained levels."""
    out = pd.DataFrame(index=frame.index)
    for column in spec.categorical:
        values = frame[column].astype(object)
        known = values.isin(spec.categories.get(column, []))
        out[column] = np.where(values.isna(), MISSING, np.where(known, values, OTHER)).astype(
            object
        )
    for column in spec.numeric:
        out[column] = frame[column].astype("float64")
    return out
