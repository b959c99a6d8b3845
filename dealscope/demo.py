"""A deterministic, realistic demo pipeline (seeded), shared by `make run`, the CLI and the tests.

The outcome is simulated from real drivers so the analytics and the risk model have something true
to find: rep skill, lead source, industry and customer type shift the chance of losing at every
stage; deals stuck longer than usual in a stage are more likely to be lost next; lost deals go quiet
before they are closed. Simulation is vectorised across deals (one loop step = one stage move).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from dealscope import store
from dealscope.demo_activity import write_demo_activities
from dealscope.model import (
    DEMO_LOST_STAGE,
    DEMO_OPEN_STAGES,
    DEMO_WON_STAGE,
    LOST,
    OPEN,
    WON,
    demo_stage_table,
)

DEMO_DATASET = "demo"
DEMO_SEED = 20_241_126
DEMO_OPPORTUNITIES = 6_000
DEMO_START = pd.Timestamp("2025-03-03 09:00")
DEMO_AS_OF = pd.Timestamp("2026-11-20 18:00")
MAX_MOVES = 16

REGIONS = ("华东", "华北", "华南", "西南")
REPS_PER_REGION = 9
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "军",
    "涛",
    "明",
    "超",
    "霞",
    "刚",
    "平",
    "辉",
)
INDUSTRIES = {  # name: (share, effect on winning, amount multiplier)
    "制造业": (0.24, 0.10, 1.2),
    "金融": (0.12, -0.05, 1.8),
    "零售": (0.14, 0.00, 0.8),
    "医疗": (0.10, 0.15, 1.1),
    "教育": (0.10, -0.20, 0.6),
    "互联网": (0.14, 0.05, 0.9),
    "能源": (0.08, 0.20, 1.6),
    "政府": (0.08, -0.30, 1.4),
}
SOURCES = {  # name: (share, effect on winning)
    "老客户推荐": (0.14, 0.85),
    "合作伙伴": (0.14, 0.35),
    "展会": (0.16, 0.05),
    "官网咨询": (0.24, 0.0),
    "线上广告": (0.16, -0.35),
    "电话营销": (0.16, -0.70),
}
CUSTOMER_TYPES = {  # name: (share, effect on winning, amount multiplier, speed multiplier)
    "新客户": (0.60, -0.15, 1.0, 1.0),
    "老客户": (0.30, 0.45, 0.8, 0.8),
    "战略客户": (0.10, 0.10, 3.0, 1.4),
}
# Per open stage: typical days spent, and the base chance that the next move is a loss.
STAGE_DAYS = np.array([8.0, 14.0, 18.0, 16.0, 12.0])
# A share of moves stall: the deal sits several times longer than usual (and so loses more).
STALL_SHARE, STALL_FACTOR = 0.12, 3.5
STAGE_LOSS = np.array([0.26, 0.22, 0.19, 0.15, 0.19])
PRODUCTS = (
    "ERP升级",
    "数据中台",
    "云迁移",
    "安全加固",
    "智能客服",
    "供应链系统",
    "BI看板",
    "CRM实施",
)
ACCOUNT_PREFIXES = "华鑫瑞博恒远嘉禾中科盛达天行宏图新源聚力东方北辰海纳银河锦程汇通"
ACCOUNT_SUFFIXES = ("科技", "集团", "实业", "信息", "智能", "股份", "制造", "控股")
LOST_REASONS_BY_STAGE = (
    ("需求取消", "预算不足", "无效线索"),
    ("需求取消", "预算不足", "选择竞争对手"),
    ("选择竞争对手", "方案不匹配", "预算不足"),
    ("选择竞争对手", "方案不匹配", "决策延期"),
    ("价格过高", "选择竞争对手", "决策延期"),
)
SILENT_REASON = "客户失联"
NEXT_STEPS = ("确认需求范围", "安排需求访谈", "提交方案书", "组织技术交流", "发送正式报价")


def _rep_roster(rng: np.random.Generator) -> pd.DataFrame:
    count = len(REGIONS) * REPS_PER_REGION
    pairs = rng.permutation(len(SURNAMES) * len(GIVEN_NAMES))[:count]
    names = [SURNAMES[p // len(GIVEN_NAMES)] + GIVEN_NAMES[p % len(GIVEN_NAMES)] for p in pairs]
    region = np.repeat(REGIONS, REPS_PER_REGION)
    team = [f"{r}{'一' if i % REPS_PER_REGION < 5 else '二'}组" for i, r in enumerate(region)]
    return pd.DataFrame(
        {
            "owner": names,
            "region": region,
            "team": team,
            "skill": rng.normal(0.0, 0.45, count),
            "volume": rng.lognormal(0.0, 0.35, count),
        }
    )


def _accounts(rng: np.random.Generator) -> list[str]:
    combos = [
        a + b + s
        for a in ACCOUNT_PREFIXES[::2]
        for b in ACCOUNT_PREFIXES[1::2]
        for s in ACCOUNT_SUFFIXES
    ]
    return list(rng.permutation(combos)[:900])


def _pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    names = np.array(list(table))
    shares = np.array([v[0] for v in table.values()])
    return rng.choice(len(names), size=n, p=shares / shares.sum())


def _simulate_moves(
    rng: np.random.Generator, created: np.ndarray, quality: np.ndarray, speed: np.ndarray, as_of
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Walk every deal through the stages; return events, final stage index, status, closed time."""
    n = len(created)
    won_idx, lost_idx = len(DEMO_OPEN_STAGES), len(DEMO_OPEN_STAGES) + 1
    # 5% of deals arrive already qualified (they skip 线索).
    stage = np.where(rng.random(n) < 0.05, 1, 0)
    now = created.copy()
    active = np.ones(n, dtype=bool)
    closed_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    event_ids, event_stages, event_times = [np.arange(n)], [stage.copy()], [now.copy()]
    for _ in range(MAX_MOVES):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        s = stage[idx]
        stall = np.where(rng.random(idx.size) < STALL_SHARE, STALL_FACTOR, 1.0)
        days = rng.gamma(2.0, STAGE_DAYS[s] / 2.0) * speed[idx] * stall
        slowness = days / (STAGE_DAYS[s] * speed[idx])
        logit = np.log(STAGE_LOSS[s] / (1 - STAGE_LOSS[s])) - quality[idx] + 0.45 * (slowness - 1.0)
        p_lose = 1.0 / (1.0 + np.exp(-logit))
        p_back = np.where(s >= 2, 0.03, 0.0)
        when = now[idx] + (days * 86_400).astype("timedelta64[s]")
        still_open = when > as_of
        active[idx[still_open]] = False
        moving = ~still_open
        idx, s, when, p_lose, p_back = (
            idx[moving],
            s[moving],
            when[moving],
            p_lose[moving],
            p_back[moving],
        )
        draw = rng.random(idx.size)
        lose = draw < p_lose
        back = ~lose & (draw < p_lose + p_back)
        skip = rng.random(idx.size) < np.where(s == 2, 0.10, np.where(s == 0, 0.04, 0.0))
        forward = np.where(skip, s + 2, s + 1)
        target = np.where(lose, lost_idx, np.where(back, s - 1, np.minimum(forward, won_idx)))
        stage[idx] = target
        now[idx] = when
        closing = target >= won_idx
        closed_at[idx[closing]] = when[closing]
        active[idx[closing]] = False
        event_ids.append(idx)
        event_stages.append(target)
        event_times.append(when)
    status = np.where(stage == won_idx, WON, np.where(stage == lost_idx, LOST, OPEN))
    events = pd.DataFrame(
        {
            "row": np.concatenate(event_ids),
            "stage_idx": np.concatenate(event_stages),
            "entered_at": np.concatenate(event_times),
        }
    )
    return events, stage, status, closed_at


def generate_demo(
    n: int = DEMO_OPPORTUNITIES, seed: int = DEMO_SEED, as_of: pd.Timestamp = DEMO_AS_OF
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo's canonical (opportunities, stage_events, stages) frames; same seed, same data."""
    rng = np.random.default_rng(seed)
    reps = _rep_roster(rng)
    accounts = np.array(_accounts(rng))
    as_of64 = np.datetime64(as_of, "s")

    owner = rng.choice(len(reps), size=n, p=(reps["volume"] / reps["volume"].sum()).to_numpy())
    industry = _pick(rng, INDUSTRIES, n)
    source = _pick(rng, SOURCES, n)
    customer_type = _pick(rng, CUSTOMER_TYPES, n)
    ind_v = np.array(list(INDUSTRIES.values()))
    src_v = np.array(list(SOURCES.values()))
    ct_v = np.array(list(CUSTOMER_TYPES.values()))

    # Volume grows over time (u**0.8 puts more deals late), created on working hours.
    span_days = (as_of - DEMO_START).days
    offset_days = np.floor(rng.random(n) ** 0.8 * span_days)
    created = np.datetime64(DEMO_START, "s") + (
        offset_days * 86_400 + rng.integers(0, 9 * 3600, n)
    ).astype("timedelta64[s]")
    created.sort()  # ids follow creation order, as a CRM numbers them

    amount = rng.lognormal(np.log(120_000), 0.85, n) * ind_v[industry, 2] * ct_v[customer_type, 2]
    amount = np.round(amount, -2)
    quality = (
        reps["skill"].to_numpy()[owner]
        + src_v[source, 1]
        + ind_v[industry, 1]
        + ct_v[customer_type, 1]
        - 0.20 * np.log(amount / 120_000)
        + rng.normal(0.0, 0.35, n)
    )
    speed = ct_v[customer_type, 3] * (amount / 120_000) ** 0.12

    events, stage_idx, status, closed_at = _simulate_moves(rng, created, quality, speed, as_of64)
    stage_names = np.array([*DEMO_OPEN_STAGES, DEMO_WON_STAGE, DEMO_LOST_STAGE])

    # Silence: lost deals go quiet well before they are closed; weak open deals are quieter.
    weakness = 1.0 / (1.0 + np.exp(quality))
    quiet_days = np.where(
        status == LOST,
        rng.exponential(4 + 18 * weakness),
        np.where(status == WON, rng.exponential(1.5, n), rng.exponential(2 + 22 * weakness)),
    )
    anchor = np.where(status == OPEN, as_of64, closed_at)
    last_activity = np.maximum(anchor - (quiet_days * 86_400).astype("timedelta64[s]"), created)

    # Where a lost deal died (its last open stage) decides the likely reasons.
    died_at = (
        events.loc[events["stage_idx"] < len(DEMO_OPEN_STAGES)]
        .groupby("row")["stage_idx"]
        .last()
        .reindex(range(n))
        .fillna(0)
        .astype(int)
        .to_numpy()
    )
    reason_table = np.array(LOST_REASONS_BY_STAGE)
    lost_reason = reason_table[died_at, rng.integers(0, 3, n)]
    lost_reason = np.where(quiet_days > 20, SILENT_REASON, lost_reason)

    expected_close = created + (rng.normal(65, 15, n).clip(20) * speed * 86_400).astype(
        "timedelta64[s]"
    )
    years = created.astype("datetime64[Y]").astype(int) + 1970
    seq = np.arange(1, n + 1)
    opportunity_id = np.char.add(
        # Wide enough for n, so ids sort in creation order at any size (as a CRM's do).
        np.char.add("SJ", years.astype(str)),
        np.char.zfill(seq.astype(str), max(6, len(str(n)))),
    )
    account = accounts[rng.integers(0, len(accounts), n)]
    product = np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), n)]

    opps = pd.DataFrame(
        {
            "opportunity_id": opportunity_id,
            "name": np.char.add(np.char.add(account.astype(str), "-"), product.astype(str)),
            "account": account,
            "owner": reps["owner"].to_numpy()[owner],
            "team": reps["team"].to_numpy()[owner],
            "region": reps["region"].to_numpy()[owner],
            "industry": np.array(list(INDUSTRIES))[industry],
            "source": np.array(list(SOURCES))[source],
            "customer_type": np.array(list(CUSTOMER_TYPES))[customer_type],
            "amount": amount,
            "currency": "CNY",
            "stage": stage_names[stage_idx],
            "status": status,
            "created_at": created,
            "closed_at": closed_at,
            "expected_close_at": expected_close,
            "last_activity_at": last_activity,
            "lost_reason": np.where(status == LOST, lost_reason, None),
            "next_step": np.where(
                status == OPEN, np.array(NEXT_STEPS)[np.minimum(stage_idx, 4)], None
            ),
        }
    )
    stage_events = pd.DataFrame(
        {
            "opportunity_id": opportunity_id[events["row"].to_numpy()],
            "stage": stage_names[events["stage_idx"].to_numpy()],
            "entered_at": events["entered_at"].to_numpy(),
        }
    ).sort_values(["opportunity_id", "entered_at"], kind="stable")
    return opps, stage_events.reset_index(drop=True), demo_stage_table()


def write_demo(engine: Engine, name: str = DEMO_DATASET, n: int = DEMO_OPPORTUNITIES) -> int:
    """Generate the demo and store it as a new version of dataset `name`; return its id."""
    opps, events, stage_table = generate_demo(n=n)
    dataset_id = store.write_dataset(
        engine,
        name,
        opps,
        events,
        stage_table,
        source_files=[{"name": "demo generator", "layout": "demo", "seed": DEMO_SEED}],
        settings={"timezone": "Asia/Shanghai", "generator_seed": DEMO_SEED, "n": n},
    )
    write_demo_activities(engine, dataset_id, opps, DEMO_SEED)  # the follow-up log (issue 18)
    return dataset_id
