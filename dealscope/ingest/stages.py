"""Stage configuration: order and kind (open/won/lost) inferred from known names in both
languages and from the order in which deals entered stages; users can override both."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from dealscope.ingest.detect import leading_number
from dealscope.ingest.vocab import outcome_of
from dealscope.model import LOST, OPEN, WON, normalise_stages, stage_event_order

KNOWN_OPEN_ORDER = (
    "线索", "潜在客户", "初步接洽", "初步沟通", "意向客户", "需求确认", "需求分析", "方案提交",
    "方案报价", "方案制定", "技术交流", "商务谈判", "价格谈判", "谈判", "合同审批", "合同签订", "签约中",
    "lead", "new", "prospecting", "appointmentscheduled", "qualification", "qualify",
    "qualifiedtobuy", "engaging", "discovery", "needsanalysis", "valueproposition",
    "iddecisionmakers", "decisionmakerboughtin", "perceptionanalysis", "presentationscheduled",
    "demo", "proposal", "proposalpricequote", "quote", "negotiation", "negotiationreview",
    "contractsent", "qualified", "contactmade", "demoscheduled", "proposalmade",
    "negotiationsstarted",
    # Bitrix24 STAGE_ID codes (a pipeline prefix `C1:` is dropped), Odoo, Dynamics, Zoho
    "preparation", "prepaymentinvoice", "executing", "finalinvoice", "proposition",
    "identifydecisionmakers", "develop", "propose", "close",
)  # fmt: skip
WON_NAMES = frozenset(
    {
        "closedwon",
        "won",
        "win",
        "赢单",
        "成交",
        "已成交",
        "签约",
        "已签约",
        "赢得",
        "已赢单",
        "签单",
        "已签单",
    }
)
LOST_NAMES = frozenset(
    {
        "closedlost",
        "closedlosttocompetition",
        "lost",
        "lose",
        "输单",
        "流失",
        "丢单",
        "失败",
        "已流失",
        "已输单",
        "已丢单",
        "dead",
    }
)
STATUS_WORDS = {
    **dict.fromkeys(WON_NAMES, WON),
    **dict.fromkeys(LOST_NAMES, LOST),
    **dict.fromkeys(("open", "进行中", "跟进中", "开放", "未关闭", "active", "inprogress"), OPEN),
}
_KNOWN_RANK = {name: i for i, name in enumerate(KNOWN_OPEN_ORDER)}


def stage_key(stage: str) -> str:
    """Comparison form of a stage name: NFKC, case-folded, no spaces/underscores/hyphens/dots,
    no Bitrix24 pipeline prefix (`C1:WON` = `WON`)."""
    text = unicodedata.normalize("NFKC", str(stage)).casefold()
    return re.sub(r"[\s_\-./·]+", "", re.sub(r"^c\d+:", "", text))


def stage_kind(stage: str) -> str:
    """open / won / lost for one stage name: its known spellings, else the outcome words it holds
    in any supported language (`Closed won (Renewals)`, `Gesloten/verloren`, `Сделка успешна`)."""
    key = stage_key(stage)
    if key in WON_NAMES:
        return WON
    if key in LOST_NAMES:
        return LOST
    return outcome_of(re.sub(r"^c\d+:", "", str(stage), flags=re.IGNORECASE)) or OPEN


def is_known_stage(stage: str) -> bool:
    """Whether a stage name is one DealScope recognises (else rows in it are flagged)."""
    key = stage_key(stage)
    return (
        key in _KNOWN_RANK
        or key in WON_NAMES
        or key in LOST_NAMES
        or outcome_of(stage) in (WON, LOST)
    )


def _event_order(events: pd.DataFrame) -> pd.Series:
    """Mean relative position (0 first … 1 last) at which deals entered each stage."""
    events = events[events["opportunity_id"].notna()]
    if events.empty:
        return pd.Series(dtype="float64")
    ordered = events.iloc[stage_event_order(events)]
    ids = pd.factorize(ordered["opportunity_id"])[0]  # Arrow text: no Python str per row
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    sizes = np.diff(np.append(starts, len(ids)))
    size = np.repeat(sizes, sizes)
    position = np.arange(len(ids)) - np.repeat(starts, sizes)
    relative = np.where(size > 1, position / np.maximum(size - 1, 1), np.nan)
    codes, names = pd.factorize(ordered["stage"])
    known = (codes >= 0) & ~np.isnan(relative)
    total = np.bincount(codes[known], weights=relative[known], minlength=len(names))
    count = np.bincount(codes[known], minlength=len(names))
    return pd.Series(total[count > 0] / count[count > 0], index=names[count > 0], dtype="float64")


def _probability_order(current: pd.Series, probability: pd.Series | None) -> pd.Series:
    """The export's own probability of each stage (0–1), when the column is per stage: in every
    stage ≥ 80 % of its deals carry the stage's most common value. Else empty."""
    if probability is None or current is None or current.empty:
        return pd.Series(dtype="float64")
    frame = pd.DataFrame({"stage": current.astype("string"), "p": pd.to_numeric(probability)})
    frame = frame.dropna()
    if frame.empty:
        return pd.Series(dtype="float64")
    counts = frame.groupby(["stage", "p"]).size()
    mode = counts.groupby(level=0).max()
    total = counts.groupby(level=0).sum()
    if (mode / total).min() < 0.8:
        return pd.Series(dtype="float64")
    top = counts[counts == counts.groupby(level=0).transform("max")].reset_index()
    return top.drop_duplicates("stage").set_index("stage")["p"].astype("float64")


def infer_stages(
    current: pd.Series,
    events: pd.DataFrame,
    override: list[dict] | None = None,
    *,
    probability: pd.Series | None = None,
    column_order: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """(stage table: stage, position, kind; unknown stage names). Every observed stage is kept.

    Order, first source that knows the stage: the user's table (`override` rows {stage,
    position?, kind?}; stages named there count as known); stage history (mean relative entry
    position); the export's probability per stage; the order of per-stage columns (`Date entered
    "X"`, `Cumulative time in "X"`); recognised names; a number the names start with (`1-Qualify`);
    first appearance. Kind: the user's, else the name's words, else a stage whose deals all have
    probability 100 % is won and 0 % lost (custom closed stages).
    """
    # Distinct names in order of first appearance: a hash pass per column, then a few strs.
    seen = [*pd.unique(current.dropna()), *pd.unique(events["stage"].dropna())]
    seen += list(column_order or [])
    stages = list(dict.fromkeys(str(s) for s in seen))
    chosen = {str(row["stage"]): row for row in (override or [])}
    for name in chosen:
        if name not in stages:
            stages.append(name)
    by_probability = _probability_order(current, probability)
    kinds = {s: str(chosen.get(s, {}).get("kind") or stage_kind(s)) for s in stages}
    for stage, p in by_probability.items():
        if stage in kinds and stage not in chosen and not is_known_stage(stage):
            kinds[stage] = WON if p >= 1.0 else LOST if p <= 0.0 else kinds[stage]
    by_events = _event_order(events)
    by_columns = {s: i for i, s in enumerate(dict.fromkeys(column_order or []))}
    first_seen = {s: i for i, s in enumerate(stages)}
    inf = float("inf")

    def sort_key(stage: str) -> tuple:
        kind_rank = {OPEN: 0, WON: 1, LOST: 2}.get(kinds[stage], 0)
        if stage in chosen and chosen[stage].get("position") is not None:
            return (0, float(chosen[stage]["position"]), 0.0, 0.0, 0.0, 0.0, 0)
        known = _KNOWN_RANK.get(stage_key(stage))
        from_events = by_events.get(stage)
        if not by_events.empty:  # history decides; stages it lacks go by their known rank
            primary = (
                from_events
                if from_events is not None
                else (known / len(KNOWN_OPEN_ORDER) if known is not None else 1.5)
            )
            return (1, kind_rank, float(primary), 0.0, 0.0, 0.0, first_seen[stage])
        number = leading_number(stage)
        return (
            1,
            kind_rank,
            float(by_probability.get(stage, inf)),
            float(by_columns.get(stage, inf)),
            float(known) if known is not None else inf,
            float(number) if number is not None else inf,
            first_seen[stage],
        )

    ordered = sorted(stages, key=sort_key)
    table = pd.DataFrame({"stage": ordered, "position": range(len(ordered))})
    table["kind"] = table["stage"].map(kinds)
    unknown = [
        s for s in ordered if s not in chosen and not is_known_stage(s) and s not in by_probability
    ]
    return normalise_stages(table), unknown


def status_from_text(values: pd.Series, assigned: dict[str, str] | None = None) -> pd.Series:
    """open/won/lost from a status column's words (赢单, Won, 进行中 …); the user's `assigned`
    values ({"Gagné": "won"}) first; unknown words -> NA."""
    user = {stage_key(k): v for k, v in (assigned or {}).items()}
    codes, words = pd.factorize(values)  # each distinct word is looked up once
    statuses = np.array(
        [
            user.get(stage_key(str(w))) or STATUS_WORDS.get(stage_key(str(w))) or outcome_of(str(w))
            for w in words
        ]
        + [None],
        object,
    )
    return pd.Series(statuses[codes], index=values.index, dtype="string")
