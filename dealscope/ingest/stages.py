"""Stage configuration: order and kind (open/won/lost) inferred from known names in both
languages and from the order in which deals entered stages; users can override both."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

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
    """Comparison form of a stage name: NFKC, case-folded, no spaces/underscores/hyphens/dots."""
    return re.sub(r"[\s_\-./·]+", "", unicodedata.normalize("NFKC", str(stage)).casefold())


def stage_kind(stage: str) -> str:
    """open / won / lost for one stage name by its known spellings."""
    key = stage_key(stage)
    return WON if key in WON_NAMES else LOST if key in LOST_NAMES else OPEN


def is_known_stage(stage: str) -> bool:
    """Whether a stage name is one DealScope recognises (else rows in it are flagged)."""
    key = stage_key(stage)
    return key in _KNOWN_RANK or key in WON_NAMES or key in LOST_NAMES


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


def infer_stages(
    current: pd.Series, events: pd.DataFrame, override: list[dict] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """(stage table: stage, position, kind; unknown stage names). Every observed stage is kept.

    `override` rows ({stage, position?, kind?}) set kinds and order the user chose; stages named
    there count as known.
    """
    # Distinct names in order of first appearance: a hash pass per column, then a few strs.
    seen = [*pd.unique(current.dropna()), *pd.unique(events["stage"].dropna())]
    stages = list(dict.fromkeys(str(s) for s in seen))
    chosen = {str(row["stage"]): row for row in (override or [])}
    for name in chosen:
        if name not in stages:
            stages.append(name)
    kinds = {s: str(chosen.get(s, {}).get("kind") or stage_kind(s)) for s in stages}
    by_events = _event_order(events)
    first_seen = {s: i for i, s in enumerate(stages)}

    def sort_key(stage: str) -> tuple:
        kind_rank = {OPEN: 0, WON: 1, LOST: 2}.get(kinds[stage], 0)
        if stage in chosen and chosen[stage].get("position") is not None:
            return (0, float(chosen[stage]["position"]), 0.0, 0)
        known = _KNOWN_RANK.get(stage_key(stage))
        from_events = by_events.get(stage)
        primary = (
            from_events
            if from_events is not None
            else (known / len(KNOWN_OPEN_ORDER) if known is not None else 1.5)
        )
        return (1, kind_rank, float(primary), first_seen[stage])

    ordered = sorted(stages, key=sort_key)
    table = pd.DataFrame({"stage": ordered, "position": range(len(ordered))})
    table["kind"] = table["stage"].map(kinds)
    unknown = [s for s in ordered if s not in chosen and not is_known_stage(s)]
    return normalise_stages(table), unknown


def status_from_text(values: pd.Series) -> pd.Series:
    """open/won/lost from a status column's words (赢单, Won, 进行中 …); unknown words -> NA."""
    codes, words = pd.factorize(values)  # each distinct word is looked up once
    statuses = np.array([STATUS_WORDS.get(stage_key(str(w))) for w in words] + [None], object)
    return pd.Series(statuses[codes], index=values.index, dtype="string")
