"""Header synonyms: which source column means which canonical field (English, Chinese, vendors)."""

from __future__ import annotations

import re
import unicodedata

from dealscope.ingest.synonyms_corpus import CORPUS_SYNONYMS

# Canonical target -> header spellings seen in real exports (METHODS.md §3). Compared after
# header_key() normalisation, so case, spaces, underscores, hyphens and brackets do not matter.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "opportunity_id": (
        "opportunity id",
        "opportunity_id",
        "opp id",
        "id",
        "record id",
        "deal id",
        "deal - id",
        "opportunityid",
        "商机编号",
        "商机id",
        "商机编码",
        "机会编号",
        "商机号",
        "编号",
    ),
    "name": (
        "opportunity name",
        "deal name",
        "deal - title",
        "deal title",
        "name",
        "title",
        "商机名称",
        "机会名称",
        "项目名称",
        "商机标题",
        "名称",
    ),
    "account": (
        "account name",
        "account",
        "company",
        "company name",
        "deal - organization",
        "organization",
        "associated company",
        "客户名称",
        "客户",
        "公司名称",
        "企业名称",
        "客户公司",
    ),
    "owner": (
        "opportunity owner",
        "deal owner",
        "owner",
        "deal - owner",
        "sales agent",
        "sales_agent",
        "负责人",
        "销售",
        "销售人员",
        "所属销售",
        "跟进人",
        "业务员",
        "销售代表",
        "归属人",
        "商机负责人",
    ),
    "team": ("team", "sales team", "manager", "团队", "销售团队", "部门", "所属部门"),
    "region": (
        "region",
        "territory region",
        "territory",
        "regional office",
        "regional_office",
        "office",
        "区域",
        "所属区域",
        "大区",
        "地区",
        "所属大区",
    ),
    "industry": ("industry", "sector", "行业", "所属行业", "客户行业"),
    "source": (
        "lead source",
        "source",
        "deal - source origin",
        "source origin",
        "商机来源",
        "来源",
        "线索来源",
        "客户来源",
    ),
    "customer_type": ("customer type", "type", "deal type", "客户类型", "客户类别"),
    "amount": (
        "amount",
        "total amount",
        "deal - value",
        "value",
        "close value",
        "close_value",
        "商机金额",
        "金额",
        "预计金额",
        "合同金额",
        "预计成交金额",
        "成交金额",
        "商机金额(元)",
    ),
    "currency": (
        "currency",
        "amount currency",
        "total amount currency",
        "deal - currency of value",
        "deal - currency of value",
        "currency of value",
        "currency iso code",
        "币种",
        "货币",
    ),
    # A CRM's win probability (RELIABILITY A8): parsed to 0–1, never a model feature (DESIGN §5).
    "probability": (
        "probability",
        "probability (%)",
        "probability %",
        "deal probability",
        "deal - probability",
        "win probability",
        "赢率",
        "赢率(%)",
        "成交概率",
        "成交概率(%)",
        "赢单率",
        "赢单概率",
        "赢单概率(%)",
        "概率",
        "概率(%)",
        "可能性",
        "成交可能性",
        "赢单可能性",
    ),
    "stage": (
        "stage",
        "deal stage",
        "deal - stage",
        "deal_stage",
        "stagename",
        "stage name",
        "商机阶段",
        "阶段",
        "销售阶段",
        "当前阶段",
    ),
    "status": ("status", "deal - status", "状态", "商机状态", "赢单状态"),
    "created_at": (
        "created date",
        "create date",
        "created time",
        "deal - deal created",
        "deal created",
        "deal - creation date",
        "creation date",
        "engage date",
        "engage_date",
        "created",
        "创建时间",
        "创建日期",
        "录入时间",
        "新建时间",
        "立项日期",
        "商机创建时间",
    ),
    "closed_at": (
        "close date",
        "close_date",
        "closing date",
        "deal - deal closed on",
        "deal closed on",
        "deal - closed on",
        "closed on",
        "closed date",
        "结单日期",
        "成交日期",
        "关闭日期",
        "赢单日期",
        "结束日期",
        "实际成交日期",
        "签约日期",
        "结单时间",
    ),
    "expected_close_at": (
        "expected close date",
        "deal - expected close date",
        "预计成交日期",
        "预计签单日期",
        "预计结单日期",
        "预计签约日期",
        "预计关闭日期",
        "预计成交时间",
    ),
    "last_activity_at": (
        "last activity date",
        "last activity",
        "deal - last activity date",
        "最后跟进时间",
        "最近跟进时间",
        "最后跟进日期",
        "最后活动时间",
        "最近跟进日期",
    ),
    "lost_reason": (
        "lost reason",
        "closed lost reason",
        "deal - lost reason",
        "输单原因",
        "丢单原因",
        "流失原因",
        "失败原因",
    ),
    "next_step": ("next step", "next steps", "opportunity next steps", "下一步", "下一步计划"),
    # Stage-history roles (not opportunity columns).
    "from_stage": ("from stage", "原阶段", "变更前阶段"),
    "to_stage": ("to stage", "moved to", "新阶段", "变更后阶段"),
    "changed_at": (
        "last modified",
        "edit date",
        "modified time",
        "entered at",
        "entered_at",
        "stage date",
        "date",
        "变更时间",
        "进入时间",
        "进入阶段时间",
        "日期",
    ),
    "field_event": ("field / event", "field/event", "field event", "field"),
    "old_value": ("old value",),
    "new_value": ("new value",),
}
OPPORTUNITY_TARGETS = (
    "opportunity_id", "name", "account", "owner", "team", "region", "industry", "source",
    "customer_type", "amount", "currency", "probability", "stage", "status", "created_at", "closed_at",
    "expected_close_at", "last_activity_at", "lost_reason", "next_step",
    # Read at ingest only (not stored as columns): IsWon / IsClosed flags decide the status when
    # there is no status column; Odoo's Active = false on
    # a deal not won means lost; days in the current stage are kept for reference (INGEST.md).
    "is_won", "is_closed", "is_active", "stage_duration",
)  # fmt: skip
HISTORY_TARGETS = ("from_stage", "to_stage", "changed_at", "field_event", "old_value", "new_value")
TARGETS = OPPORTUNITY_TARGETS + HISTORY_TARGETS
DATE_TARGETS = ("created_at", "closed_at", "expected_close_at", "last_activity_at", "changed_at")

HUBSPOT_ENTERED = re.compile(r'^date entered\s*["“](?P<stage>.+?)["”]\s*$', re.IGNORECASE)
# Per-stage duration columns: HubSpot `Cumulative time in "X" (HH:mm:ss)` / `Latest time in "X"`,
# `Time in X (days)`, `停留时长(X)`. The stage name is group "stage"; the unit, when written, "unit".
STAGE_TIME = re.compile(
    r"^(?:cumulative time in|latest time in|time in|days in|tempo em|tiempo en|temps dans|zeit in|"
    r'tijd in|время в)\s*["“]?(?P<stage>.+?)["”]?\s*(?:\((?P<unit>[^()]*)\))?\s*$'
    r"|^(?P<stage2>.+?)\s*(?:停留时长|停留天数|时长)\s*(?:\((?P<unit2>[^()]*)\))?$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s_\-:：()（）\[\]?*？]+")


def header_key(header: str) -> str:
    """The comparison form of a header: NFKC, case-folded, separators collapsed to one space."""
    text = unicodedata.normalize("NFKC", str(header)).casefold().strip()
    return _SEPARATORS.sub(" ", text).strip()


SYNONYM_INDEX: dict[str, str] = {
    header_key(spelling): target for target, spellings in SYNONYMS.items() for spelling in spellings
}
for _target, _spellings in CORPUS_SYNONYMS.items():  # the base list wins on a clash
    for _spelling in _spellings:
        SYNONYM_INDEX.setdefault(header_key(_spelling), _target)
# DealScope's own column names (its exports, the demo files) map to themselves.
for _target in ("opportunity_id", "customer_type", "created_at", "closed_at", "expected_close_at",
                "last_activity_at", "lost_reason", "next_step"):  # fmt: skip
    SYNONYM_INDEX.setdefault(header_key(_target), _target)
# Spaces removed: CloseDate = close date = close_date (API names are written run together).
COMPACT_INDEX: dict[str, str] = {}
for _key, _target in SYNONYM_INDEX.items():
    COMPACT_INDEX.setdefault(_key.replace(" ", ""), _target)
# An entity prefix ("Deal - ", "Negócio - ", "Opportunity ") and a trailing currency or unit
# ("Amount USD", "金额(元)") do not change what a column means.
_ENTITY_PREFIX = re.compile(
    r"^(?:deal|opportunity|opp|negócio|negocio|trato|oportunidad|oportunidade|opportunité|affaire|"
    r"geschäft|verkaufschance|opportuniteit|сделка|商机|销售机会)\s+"
)
_UNIT_SUFFIX = re.compile(
    r"\s+(?:usd|eur|gbp|cny|rmb|brl|rub|jpy|chf|cad|aud|hkd|mxn|元|万元|\$|€|%|in \w+ currency|"
    r"converted|konvertiert|convertido|converti)$"
)


def _lookup(key: str) -> str | None:
    return SYNONYM_INDEX.get(key) or COMPACT_INDEX.get(key.replace(" ", ""))


def match_header(header: str) -> tuple[str | None, str]:
    """(target, evidence) for one header: exact synonym, then the part after a `group/` prefix."""
    key = header_key(header)
    if target := _lookup(key):
        return target, f"header {header!r} is a known name for this field"
    for shorter in dict.fromkeys(
        (_UNIT_SUFFIX.sub("", key), _ENTITY_PREFIX.sub("", key),
         _UNIT_SUFFIX.sub("", _ENTITY_PREFIX.sub("", key)))
    ):  # fmt: skip
        if shorter and shorter != key and (target := _lookup(shorter)):
            return target, f"header {header!r} is a known name with a prefix or unit"
    if "/" in key:
        tail = key.rsplit("/", 1)[1].strip()
        if target := _lookup(tail):
            return target, f"field part of the two-row header {header!r} is known"
    return None, ""


def known_header_count(cells: list[str]) -> int:
    """How many cells of a candidate header row are known column names (header detection)."""
    return sum(
        1
        for cell in cells
        if cell and (match_header(cell)[0] or HUBSPOT_ENTERED.match(cell) or STAGE_TIME.match(cell))
    )
