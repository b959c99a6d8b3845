"""Point-in-time features for the churn-risk model (DESIGN §5, METHODS §6.5).

A row is "deal d, open at moment s": every feature is computed from what was known at s — stage
entries at or before s, the deal's creation fields, and the outcomes of *other* deals that closed
strictly before s. Norms (a stage's usual duration, the pipeline's cycle) come from what was known
at the training cut-off `known_at` ≥ s, never later. Final-state fields (status, final stage,
close date, lost reason, next step, expected close, last activity, `extra`, probability columns)
are never read.

Segments (owner, region, team, industry, source, customer type, account) enter as their lost rate
as of s, shrunk toward the overall lost rate of that moment (SEGMENT_PRIOR_STRENGTH pseudo-deals):
a rare level stays near the overall rate in its own direction instead of being pooled into an
"(other)" level whose effect may point the wrong way for it. A missing amount stays NaN (the model
handles missing values natively); it is never read as 0.

With a follow-up log (issue 18), the activity features (ACTIVITY_NUMERIC) are computed from the
activities on or before each snapshot moment (as dealscope.activity.features does; ActivityFeatures):
touches in the last 7 / 30 days, days since the last customer-facing touch, that silence against
the deal's own median gap, and whether the main customer contact had changed by then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.activity.contacts import contact_changes
from dealscope.activity.model import customer_touches
from dealscope.activity.rhythm import DAY, MIN_GAPS
from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON

HISTORY, DATED, UNDATED = "history", "dated", "undated"
SEGMENT_FEATURES = ("owner", "region", "team", "industry", "source", "customer_type", "account")
SEGMENT_PRIOR_STRENGTH = 20.0
MISSING_LEVEL = "\0missing"
SECONDS_PER_DAY = 86_400.0
HISTORY_NUMERIC = ("days_in_stage", "stage_time_ratio", "stage_changes", "regressions")
DATED_NUMERIC = ("age_days", "age_ratio")
ACTIVITY_NUMERIC = ("touches_7d", "touches_30d", "days_since_touch", "gap_ratio", "contact_changed")


def te_column(segment: str) -> str:
    """Model column of a segment's as-of lost rate."""
    return f"te_{segment}"


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a model uses. `stage_levels` orders the stage codes (history mode);
    `activity`: the point-in-time follow-up-log features (ACTIVITY_NUMERIC) are used."""

    mode: str
    segments: tuple[str, ...]
    use_amount: bool
    stage_levels: tuple[str, ...] = ()
    activity: bool = False

    @property
    def categorical(self) -> tuple[str, ...]:
        return ("stage",) if self.mode == HISTORY else ()

    @property
    def numeric(self) -> tuple[str, ...]:
        cols: tuple[str, ...] = ()
        if self.mode == HISTORY:
            cols += HISTORY_NUMERIC
        if self.mode in (HISTORY, DATED):
            cols += DATED_NUMERIC
        cols += tuple(te_column(s) for s in self.segments)
        if self.use_amount:
            cols += ("log_amount",)
        if self.activity:
            cols += ACTIVITY_NUMERIC
        return cols

    @property
    def columns(self) -> list[str]:
        """Model input columns: categoricals first, then numbers."""
        return [*self.categorical, *self.numeric]

    def to_json(self) -> dict:
        return {
            "mode": self.mode,
            "segments": list(self.segments),
            "use_amount": self.use_amount,
            "stage_levels": list(self.stage_levels),
            **({"activity": True} if self.activity else {}),  # cards without a log unchanged
        }

    @classmethod
    def from_json(cls, data: dict) -> FeatureSpec:
        return cls(
            mode=data["mode"],
            segments=tuple(data["segments"]),
            use_amount=bool(data["use_amount"]),
            stage_levels=tuple(data.get("stage_levels", ())),
            activity=bool(data.get("activity", False)),
        )


class ActivityFeatures:
    """The follow-up log's point-in-time features for any (deal, moment) points at once.

    Equal to dealscope.activity.features.activity_features at each point's moment (a unit test
    checks it), but without filtering the log once per moment: every quantity is a prefix of the
    deal's own history, so the log is sorted once and each point is placed in it by an as-of join
    (merge_asof, backward, at or before the moment): touches so far (at the moment and 7 / 30
    days earlier), the last touch, touch days so far with the expanding median of their gaps, and
    the deal's first main-contact change (contact changes depend only on earlier touches)."""

    def __init__(self, activities: pd.DataFrame, opportunity_ids) -> None:
        self.ids = pd.Index(pd.Series(list(opportunity_ids), dtype="string").unique())
        touches = customer_touches(activities)
        deal = self.ids.get_indexer(touches["opportunity_id"].astype("string"))
        at = touches["occurred_at"].to_numpy("datetime64[ns]")
        keep = deal >= 0
        deal, at = deal[keep], at[keep]
        order = np.lexsort((at, deal))
        deal, at = deal[order], at[order]
        rank = pd.Series(deal).groupby(deal).cumcount().to_numpy() + 1
        self._touches = pd.DataFrame({"deal": deal, "at": at, "seen": rank}).sort_values(
            "at", kind="stable"
        )
        # Touch days: the first touch of each calendar day opens it; gaps between days.
        day = at.astype("datetime64[D]")
        fresh = np.r_[True, (deal[1:] != deal[:-1]) | (day[1:] != day[:-1])] if len(deal) else []
        d_deal, d_day, d_at = deal[fresh], day[fresh].astype(np.int64), at[fresh]
        same = np.r_[False, d_deal[1:] == d_deal[:-1]] if len(d_deal) else np.zeros(0, bool)
        gap = np.where(same, np.diff(d_day, prepend=0), np.nan).astype(float)
        median = (
            pd.Series(gap).groupby(d_deal).expanding(min_periods=1).median().to_numpy()
            if len(gap)
            else np.zeros(0)
        )
        gaps = pd.Series(~np.isnan(gap)).groupby(d_deal).cumsum().to_numpy()
        self._days = pd.DataFrame(
            {"deal": d_deal, "at": d_at, "median_gap": median, "gaps": gaps}
        ).sort_values("at", kind="stable")
        changes = contact_changes(activities)
        c_deal = self.ids.get_indexer(changes["opportunity_id"].astype("string"))
        first = pd.Series(changes["changed_at"].to_numpy("datetime64[ns]")[c_deal >= 0])
        first = first.groupby(c_deal[c_deal >= 0]).min()
        self._changes = pd.DataFrame(
            {"deal": first.index.to_numpy(dtype=np.int64), "at": first.to_numpy(), "changed": 1.0}
        ).sort_values("at", kind="stable")

    @staticmethod
    def _asof(points: pd.DataFrame, table: pd.DataFrame, shift_days: float = 0.0) -> pd.DataFrame:
        """The last row of `table` per deal at or before each point's moment (− shift_days)."""
        left = points.assign(at=points["at"] - pd.Timedelta(days=shift_days)).sort_values(
            "at", kind="stable"
        )
        joined = pd.merge_asof(
            left, table.rename(columns={"at": "row_at"}), left_on="at", right_on="row_at",
            by="deal", allow_exact_matches=True,
        )  # fmt: skip
        return joined.set_index("i").sort_index()

    def for_points(self, ids: np.ndarray, moments: pd.Series) -> np.ndarray:
        """Matrix (points × ACTIVITY_NUMERIC): each point's features as known at its moment."""
        stamps = pd.Series(moments).to_numpy(dtype="datetime64[ns]")
        deal = self.ids.get_indexer(pd.Series(ids, dtype="string"))
        ok = (deal >= 0) & ~np.isnat(stamps)
        out = np.full((len(ids), len(ACTIVITY_NUMERIC)), np.nan)
        points = pd.DataFrame(
            {"i": np.flatnonzero(ok), "deal": deal[ok].astype(np.int64), "at": stamps[ok]}
        )
        touches = self._asof(points, self._touches)
        seen = touches["seen"].fillna(0).to_numpy()
        last = (points["at"].to_numpy() - touches["row_at"].to_numpy()) / DAY
        week = self._asof(points, self._touches, 7.0)["seen"].fillna(0).to_numpy()
        month = self._asof(points, self._touches, 30.0)["seen"].fillna(0).to_numpy()
        days = self._asof(points, self._days)
        median = days["median_gap"].where(days["gaps"] >= MIN_GAPS).to_numpy(dtype=float)
        changed = self._asof(points, self._changes)["changed"].fillna(0.0).to_numpy()
        out[ok] = np.column_stack([seen - week, seen - month, last, last / median, changed]).astype(
            float
        )
        return out


@dataclass(frozen=True)
class Norms:
    """What was typical as of a cut-off: median days per open stage, median deal cycle (days)."""

    stage_days: dict[str, float]
    cycle_days: float | None


def _events_sorted(stage_events: pd.DataFrame) -> pd.DataFrame:
    return stage_events.loc[:, ["opportunity_id", "stage", "entered_at"]].sort_values(
        ["opportunity_id", "entered_at"], kind="stable"
    )


def compute_norms(
    opportunities: pd.DataFrame, stage_events: pd.DataFrame, stages: pd.DataFrame, known_at
) -> Norms:
    """Norms from what was known at `known_at`: stage stays that had ended by then, and the
    created→closed days of deals closed by then."""
    stage_days: dict[str, float] = {}
    if not stage_events.empty:
        ev = _events_sorted(stage_events.loc[stage_events["entered_at"] <= known_at])
        same = ev["opportunity_id"].eq(ev["opportunity_id"].shift(-1))
        nxt = ev["entered_at"].shift(-1).where(same)
        days = (nxt - ev["entered_at"]).dt.total_seconds() / SECONDS_PER_DAY
        kind = ev["stage"].map(stages.set_index("stage")["kind"])
        ok = days.notna() & kind.eq(OPEN)
        med = days[ok].groupby(ev.loc[ok, "stage"].astype(str)).median()
        stage_days = {str(k): float(v) for k, v in med.items() if v > 0}
    status = status_as_of(opportunities, known_at)
    closed = status.isin([WON, LOST]) & opportunities["closed_at"].le(known_at)
    life = (
        opportunities.loc[closed, "closed_at"] - opportunities.loc[closed, "created_at"]
    ).dt.total_seconds() / SECONDS_PER_DAY
    life = life[life > 0]
    return Norms(stage_days, float(life.median()) if len(life) else None)


def _outcome_records(opportunities: pd.DataFrame, known_at) -> pd.DataFrame:
    """Deals closed (with a close date) by `known_at`, by close time: row, closed_at, lost."""
    status = status_as_of(opportunities, known_at)
    closed = status.isin([WON, LOST]) & opportunities["closed_at"].le(known_at)
    rec = pd.DataFrame(
        {
            "row": np.flatnonzero(closed.to_numpy()),
            "closed_at": opportunities.loc[closed, "closed_at"].to_numpy(dtype="datetime64[ns]"),
            "lost": status[closed].eq(LOST).to_numpy(dtype="int64"),
        }
    )
    return rec.sort_values("closed_at", kind="stable").reset_index(drop=True)


def segment_key(values: pd.Series) -> pd.Series:
    """A segment column as plain object keys, missing values as one level of their own."""
    return values.astype(object).where(values.notna(), MISSING_LEVEL).astype(str)


def as_of_rates(
    opportunities: pd.DataFrame, point_rows: np.ndarray, moments: pd.Series, segment: str, known_at
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shrunk lost rate, closed count of the level, overall prior) at each point's moment,
    from deals that closed strictly before it. A vectorised as-of join (merge_asof)."""
    rec = _outcome_records(opportunities, known_at)
    rec["g_lost"] = rec["lost"].cumsum()
    rec["g_n"] = np.arange(1, len(rec) + 1)
    keys = segment_key(opportunities[segment])
    rec["key"] = keys.to_numpy()[rec["row"].to_numpy()]
    grouped = rec.groupby("key", sort=False)
    rec["l_lost"] = grouped["lost"].cumsum()
    rec["l_n"] = grouped.cumcount() + 1
    pts = pd.DataFrame(
        {
            "i": np.arange(len(point_rows)),
            "key": keys.to_numpy()[point_rows],
            "at": pd.to_datetime(np.asarray(moments)).astype("datetime64[ns]"),
        }
    ).sort_values("at", kind="stable")
    glob = pd.merge_asof(
        pts,
        rec.loc[:, ["closed_at", "g_lost", "g_n"]],
        left_on="at",
        right_on="closed_at",
        allow_exact_matches=False,
    )
    own = pd.merge_asof(
        pts,
        rec.loc[:, ["key", "closed_at", "l_lost", "l_n"]],
        left_on="at",
        right_on="closed_at",
        by="key",
        allow_exact_matches=False,
    )
    prior = (glob["g_lost"].fillna(0).to_numpy() + 1.0) / (glob["g_n"].fillna(0).to_numpy() + 2.0)
    n = own["l_n"].fillna(0).to_numpy()
    rate = (own["l_lost"].fillna(0).to_numpy() + SEGMENT_PRIOR_STRENGTH * prior) / (
        n + SEGMENT_PRIOR_STRENGTH
    )
    order = pts["i"].to_numpy()
    out_rate, out_n, out_prior = (np.empty(len(pts)) for _ in range(3))
    out_rate[order], out_n[order], out_prior[order] = rate, n, prior
    return out_rate, out_n, out_prior


def _stage_state(
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    codes: np.ndarray,
    opp_index: pd.Index,
    moments: pd.Series,
) -> pd.DataFrame:
    """Stage at each point's moment, when it was entered, stage changes and regressions so far."""
    ev = _events_sorted(stage_events)
    code = opp_index.get_indexer(ev["opportunity_id"])
    table = stages.set_index("stage")
    position = ev["stage"].map(table["position"]).astype("float64").to_numpy()
    is_open = ev["stage"].map(table["kind"]).eq(OPEN).to_numpy()
    same = np.r_[False, code[1:] == code[:-1]]
    regressed = (
        same & is_open & np.r_[False, is_open[:-1]] & (position < np.r_[np.nan, position[:-1]])
    )
    events = pd.DataFrame(
        {
            "code": code,
            "entered_at": ev["entered_at"].to_numpy(dtype="datetime64[ns]"),
            "stage_at": ev["stage"].astype(str).to_numpy(),
            "open_stage": is_open,
            "regressed": regressed.astype("int64"),
        }
    )
    events = events.loc[events["code"] >= 0]
    grouped = events.groupby("code", sort=False)
    events["stage_changes"] = grouped.cumcount()
    events["regressions"] = grouped["regressed"].cumsum()
    events = events.sort_values("entered_at", kind="stable")
    pts = pd.DataFrame(
        {
            "i": np.arange(len(codes)),
            "code": codes,
            "at": pd.to_datetime(np.asarray(moments)).astype("datetime64[ns]"),
        }
    ).sort_values("at", kind="stable")
    joined = pd.merge_asof(
        pts, events, left_on="at", right_on="entered_at", by="code", allow_exact_matches=True
    )
    return joined.set_index("i").sort_index()


def features_at(
    points: pd.DataFrame,
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    spec: FeatureSpec,
    norms: Norms,
    known_at,
    activities: ActivityFeatures | None = None,
) -> pd.DataFrame:
    """Raw features of each point (opportunity_id, snapshot_at), known at its snapshot_at.

    Returns opportunity_id, snapshot_at, open_stage (False when the history says the deal had
    already closed then) and spec.columns, in the points' order. Undated points (snapshot_at NaT,
    undated mode) get the rates over every closed deal.
    """
    opp_index = pd.Index(opportunities["opportunity_id"])
    rows = opp_index.get_indexer(points["opportunity_id"])
    moments = pd.Series(points["snapshot_at"].to_numpy(dtype="datetime64[ns]"))
    base = opportunities.iloc[rows]
    out = pd.DataFrame(
        {
            "opportunity_id": points["opportunity_id"].to_numpy(),
            "snapshot_at": moments.to_numpy(),
            "open_stage": True,
        }
    )
    if spec.mode in (HISTORY, DATED):
        created = pd.Series(base["created_at"].to_numpy(dtype="datetime64[ns]"))
        age = (moments - created).dt.total_seconds() / SECONDS_PER_DAY
        out["age_days"] = age.to_numpy()
        out["age_ratio"] = (age / norms.cycle_days).to_numpy() if norms.cycle_days else np.nan
    if spec.mode == HISTORY:
        state = _stage_state(stage_events, stages, rows, opp_index, moments)
        out["stage"] = state["stage_at"].to_numpy(dtype=object)
        out["open_stage"] = state["open_stage"].fillna(True).to_numpy(dtype=bool)
        entered = pd.Series(state["entered_at"].to_numpy(dtype="datetime64[ns]"))
        in_stage = (moments - entered).dt.total_seconds() / SECONDS_PER_DAY
        out["days_in_stage"] = in_stage.to_numpy()
        norm = pd.Series(out["stage"]).map(norms.stage_days).astype("float64")
        out["stage_time_ratio"] = (in_stage / norm).to_numpy()
        out["stage_changes"] = state["stage_changes"].to_numpy(dtype="float64")
        out["regressions"] = state["regressions"].to_numpy(dtype="float64")
    undated_moment = moments.isna().all()
    rate_moments = (
        pd.Series(np.repeat(np.datetime64(pd.Timestamp.max.floor("D"), "ns"), len(moments)))
        if undated_moment
        else moments
    )
    for segment in spec.segments:
        rate, _, _ = as_of_rates(opportunities, rows, rate_moments, segment, known_at)
        out[te_column(segment)] = rate
    if spec.use_amount:
        amount = base["amount"].astype("float64").to_numpy()
        out["log_amount"] = np.where(
            amount >= 0, np.log1p(np.where(amount >= 0, amount, 0)), np.nan
        )
    if spec.activity:
        if activities is None:
            raise ValueError("this model uses the follow-up log: pass the dataset's activities")
        values = activities.for_points(points["opportunity_id"].to_numpy(), moments)
        for j, column in enumerate(ACTIVITY_NUMERIC):
            out[column] = values[:, j]
    return out


def model_matrix(frame: pd.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The estimator's float matrix: stage as its code in spec.stage_levels (unknown → NaN)."""
    parts = []
    if spec.mode == HISTORY:
        code = pd.Index(spec.stage_levels).get_indexer(frame["stage"].astype(object))
        parts.append(np.where(code >= 0, code, np.nan).astype("float64"))
    parts += [frame[c].to_numpy(dtype="float64") for c in spec.numeric]
    if not parts:
        return np.empty((len(frame), 0))
    return np.column_stack(parts)


def closed_deals(opportunities: pd.DataFrame, as_of) -> pd.DataFrame:
    """Deals closed (won/lost) by `as_of`: opportunity_id, lost (1/0)."""
    status = status_as_of(opportunities, as_of)
    ok = status.isin([WON, LOST])
    return pd.DataFrame(
        {
            "opportunity_id": opportunities.loc[ok, "opportunity_id"].to_numpy(),
            "lost": status[ok].eq(LOST).to_numpy(dtype="int64"),
        }
    )
