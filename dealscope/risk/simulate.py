"""A simulated pipeline with a known generating process (for tests and bench/bench_risk.py).

Each deal has a latent quality q = segment effects + owner skill + noise. It walks through five
open stages; its time in each stage is Gamma-distributed, longer for poor deals (a stall says
something), and at the end of each stage it is lost with probability sigmoid(a_k − q). Deals that
pass the last stage are won. The export is taken at day `days`: deals still open then keep their
current stage and history up to the export; what happens to them afterwards is returned apart
(`future_lost`), as the held-out truth the backtest must predict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STAGES = ("Lead", "Qualify", "Proposal", "Negotiate", "Contract")
STAGE_MEAN_DAYS = (24.0, 40.0, 50.0, 60.0, 30.0)
STAGE_LOSS_INTERCEPT = (1.2, 1.0, 1.4, 1.8, 2.6)
REGION_EFFECT = {"North": 0.4, "South": -0.3, "East": 0.0, "West": -0.1}
TYPE_EFFECT = {"New": -0.2, "Renewal": 1.2, "Upsell": 0.5}
RARE_TYPE = "Partner"  # a handful of deals that always win
START = pd.Timestamp("2024-01-01")


@dataclass(frozen=True)
class SimulatedPipeline:
    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    stages: pd.DataFrame
    as_of: pd.Timestamp
    future_lost: pd.Series  # eventual outcome (1 lost) of the deals open at the export, by id
    quality: pd.Series  # latent quality per deal id (higher = likelier to win)
    # Simulated close moment of every deal (also after the export for the open ones) and whether
    # it ends lost: the truth a simulated follow-up log is drawn from (simulate_activities).
    ends_at: pd.Series | None = None
    ends_lost: pd.Series | None = None


def simulate_pipeline(
    n: int = 6000, days: int = 900, seed: int = 0, rare: int = 6
) -> SimulatedPipeline:
    rng = np.random.default_rng(seed)
    created = rng.uniform(0, days, n)
    regions = np.array(list(REGION_EFFECT))
    types = np.array(list(TYPE_EFFECT))
    region = regions[rng.integers(0, len(regions), n)]
    ctype = types[rng.choice(len(types), n, p=[0.6, 0.25, 0.15])]
    owners = np.array([f"rep{i:02d}" for i in range(30)])
    owner_idx = rng.integers(0, len(owners), n)
    skill = rng.normal(0, 0.5, len(owners))
    amount = np.round(rng.lognormal(10, 1, n), -2)
    q = (
        -pd.Series(region).map(REGION_EFFECT).to_numpy()
        - pd.Series(ctype).map(TYPE_EFFECT).to_numpy()
        + skill[owner_idx]
        - 0.15 * (np.log(amount) - 10)
        + rng.normal(0, 0.8, n)
    )
    rare_rows = rng.choice(n, size=rare, replace=False)
    ctype[rare_rows] = RARE_TYPE
    q[rare_rows] = 6.0
    amount[rng.random(n) < 0.25] = np.nan  # not filled in: says nothing about the outcome
    k = len(STAGES)
    mean = np.asarray(STAGE_MEAN_DAYS)[None, :] * np.exp(-0.45 * q)[:, None]
    duration = rng.gamma(2.0, mean / 2.0)
    p_loss = 1 / (1 + np.exp(-(np.asarray(STAGE_LOSS_INTERCEPT)[None, :] - 3.0 - q[:, None])))
    lose = rng.random((n, k)) < p_loss
    lost_stage = np.where(lose.any(axis=1), lose.argmax(axis=1), k)
    lost = lost_stage < k
    exits = np.minimum(lost_stage, k - 1)
    cum = np.cumsum(duration, axis=1)
    closed = created + cum[np.arange(n), exits]
    entry = created[:, None] + np.c_[np.zeros(n), cum[:, :-1]]
    as_of = START + pd.Timedelta(days=days)
    to_ts = lambda d: START + pd.to_timedelta(d, unit="D")  # noqa: E731
    ids = np.array([f"D{i:05d}" for i in range(n)])
    is_open = closed > days
    reached = np.arange(k)[None, :] <= exits[:, None]
    known = reached & (entry <= days)
    rows, cols = np.nonzero(known)
    events = pd.DataFrame(
        {
            "opportunity_id": ids[rows],
            "stage": np.asarray(STAGES)[cols],
            "entered_at": to_ts(entry[rows, cols]),
        }
    )
    closed_rows = np.flatnonzero(~is_open)
    closing = pd.DataFrame(
        {
            "opportunity_id": ids[closed_rows],
            "stage": np.where(lost[closed_rows], "Lost", "Won"),
            "entered_at": to_ts(closed[closed_rows]),
        }
    )
    events = pd.concat([events, closing], ignore_index=True)
    current = np.asarray(STAGES)[np.maximum((entry <= days).sum(axis=1) - 1, 0)]
    opps = pd.DataFrame(
        {
            "opportunity_id": ids,
            "name": ids,
            "owner": owners[owner_idx],
            "region": region,
            "customer_type": ctype,
            "amount": amount,
            "currency": "USD",
            "stage": np.where(is_open, current, np.where(lost, "Lost", "Won")),
            "status": np.where(is_open, "open", np.where(lost, "lost", "won")),
            "created_at": to_ts(created),
            "closed_at": pd.Series(to_ts(closed)).where(~is_open),
        }
    )
    from dealscope.model import normalise_opportunities, normalise_stage_events, normalise_stages

    stages = pd.DataFrame(
        {
            "stage": [*STAGES, "Won", "Lost"],
            "position": list(range(1, k + 3)),
            "kind": ["open"] * k + ["won", "lost"],
        }
    )
    return SimulatedPipeline(
        normalise_opportunities(opps),
        normalise_stage_events(events),
        normalise_stages(stages),
        as_of,
        pd.Series(lost[is_open].astype(int), index=ids[is_open]),
        pd.Series(q, index=ids),
        pd.Series(to_ts(closed), index=ids),
        pd.Series(lost, index=ids),
    )


def simulate_activities(
    sim: SimulatedPipeline,
    seed: int = 0,
    fade_days: float = 45.0,
    fade_factor: float = 4.0,
    change_share: float = 0.5,
) -> pd.DataFrame:
    """A follow-up log (canonical activities) where silence drives loss: every deal is touched
    at its own rhythm (median gap 2–12 days) from creation to its close or the export; in the
    last `fade_days` before a loss the gaps grow `fade_factor` times, and `change_share` of the
    deals headed for a loss switch their customer contact when the fade starts. Deals open at
    the export that will be lost later are already fading before it (the log is cut at the
    export), which is the signal an honest model can learn from."""
    from dealscope.activity.model import CALL, MESSAGE, normalise_activities

    rng = np.random.default_rng([seed, 18])
    ids = sim.ends_at.index.to_numpy()
    n = len(ids)
    start = (sim.opportunities.set_index("opportunity_id")["created_at"].reindex(ids)) - START
    start = start.dt.total_seconds().to_numpy() / 86_400.0
    end_true = (sim.ends_at - START).dt.total_seconds().to_numpy() / 86_400.0
    export = (sim.as_of - START).total_seconds() / 86_400.0
    end = np.minimum(end_true, export)
    lost = sim.ends_lost.to_numpy(dtype=bool)
    fade_at = np.where(lost, end_true - fade_days, np.inf)
    rhythm = np.clip(rng.lognormal(np.log(5.0), 0.5, n), 2.0, 12.0)
    span = np.maximum(end - start, 0.0)
    draws = np.minimum(np.ceil(span / (0.4 * rhythm)).astype(int) + 2, 400)
    deal = np.repeat(np.arange(n), draws)
    gaps = rng.gamma(4.0, rhythm[deal] / 4.0)
    at = start[deal] + pd.Series(gaps).groupby(deal).cumsum().to_numpy()
    gaps = np.where(at > fade_at[deal], gaps * fade_factor, gaps)
    at = start[deal] + pd.Series(gaps).groupby(deal).cumsum().to_numpy()
    keep = at <= end[deal]
    deal, at = deal[keep], at[keep]
    switches = lost & (rng.random(n) < change_share)
    contact = np.where(
        switches[deal] & (at > fade_at[deal]),
        pd.Series(ids[deal]).to_numpy(dtype=object) + "-new",
        pd.Series(ids[deal]).to_numpy(dtype=object) + "-main",
    )
    log = pd.DataFrame(
        {
            "opportunity_id": ids[deal],
            "occurred_at": START + pd.to_timedelta(at, unit="D"),
            "activity_type": np.where(rng.random(len(deal)) < 0.6, CALL, MESSAGE),
            "owner": sim.opportunities.set_index("opportunity_id")["owner"]
            .reindex(ids[deal])
            .to_numpy(),
            "contact": contact,
            "subject": None,
        }
    )
    return normalise_activities(log)
