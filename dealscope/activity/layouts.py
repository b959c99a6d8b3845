"""Activity exports: the role of each column (own synonyms table), the CRM layout, the type words.

Headers are compared in `dealscope.ingest.synonyms.header_key` form (NFKC, case-folded,
separators collapsed), the same comparison the deal importer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from dealscope.activity.model import CALL, EMAIL, MEETING, MESSAGE, NOTE, TASK
from dealscope.ingest.synonyms import header_key

# role: header spellings (Salesforce Activity History / Task & Event exports, HubSpot engagements,
# Pipedrive Activities, Chinese 跟进记录). The first column that matches a role wins.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "opportunity_id": (
        "WhatId", "What ID", "Opportunity ID", "Related To ID", "Deal ID", "Deal - ID",
        "Associated deal id", "Associated Deal IDs", "Associated deal ids", "deal id", "dealId",
        "opportunity_id", "商机编号", "商机ID", "商机 ID", "机会编号", "商机编码",
    ),
    "deal_name": (
        "Related To", "Opportunity Name", "Opportunity", "Deal title", "Deal - Title",
        "Associated deal", "Associated Deal", "Deal name", "Deal", "商机名称", "机会名称",
        "关联商机", "商机",
    ),
    "occurred_at": (
        "Date", "Activity Date", "ActivityDate", "ActivityDateTime", "Due Date", "Due date",
        "Activity date", "Activity - Due date", "Start", "Start Date Time", "Timestamp",
        "occurred_at", "跟进时间",
        "跟进日期", "活动时间", "拜访时间", "联系时间",
    ),
    "activity_type": (
        "Activity Type", "Task Subtype", "TaskSubtype", "Event Subtype", "EventSubtype", "Type",
        "Activity type", "Engagement type", "activity_type", "跟进方式", "跟进类型", "活动类型",
        "联系方式",
    ),
    "owner": (
        "Assigned", "Assigned To", "OwnerId", "Owner", "Activity Owner", "Activity assigned to",
        "Assigned to user", "Activity - Assigned to user", "User", "HubSpot owner", "Created by", "跟进人", "负责人", "销售",
        "跟进销售",
    ),
    "contact": (
        "Name", "Contact", "WhoId", "Who ID", "Contact Name", "Contact person",
        "Associated contact", "Associated Contact", "Person", "Person - Name", "联系人", "客户联系人", "拜访对象",
    ),
    "subject": ("Subject", "Activity subject", "Title", "主题", "标题"),
    "content": (
        "Comments", "Description", "Body preview", "Note", "Notes", "Content", "跟进内容",
        "跟进记录", "内容", "备注",
    ),
    "done": ("Done", "Activity - Done", "Status", "Completed", "Task status", "是否完成", "完成状态", "状态"),
}  # fmt: skip
ROLES = tuple(ROLE_SYNONYMS)
ROLE_INDEX: dict[str, str] = {
    header_key(spelling): role
    for role, spellings in ROLE_SYNONYMS.items()
    for spelling in spellings
}

# Headers only one CRM writes: they name the layout (the mapping itself is the same table).
LAYOUT_MARKERS: dict[str, tuple[str, ...]] = {
    "salesforce": (
        "Related To", "Assigned", "Task Subtype", "TaskSubtype", "Event Subtype", "WhatId",
        "WhoId", "ActivityDate", "ActivityDateTime", "OwnerId",
    ),
    "hubspot": (
        "Activity date", "Associated Deal", "Associated Deal IDs", "Activity assigned to",
        "Associated Contact", "Engagement type", "Body preview",
    ),
    "pipedrive": (
        "Deal ID", "Deal title", "Deal - Title", "Deal - ID", "Due date", "Done",
        "Contact person", "Assigned to user",
    ),
    "chinese": ("跟进时间", "跟进方式", "跟进人", "商机编号", "商机名称", "跟进内容", "联系人"),
}  # fmt: skip
_MARKER_KEYS = {
    layout: {header_key(h) for h in headers} for layout, headers in LAYOUT_MARKERS.items()
}
GENERIC = "generic"

# Raw type words (header_key form) -> canonical kind. Unknown words become OTHER (reported).
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    CALL: ("call", "calls", "phone", "phone call", "log a call", "电话", "通话", "致电", "电话沟通"),
    MEETING: (
        "meeting", "meetings", "event", "visit", "onsite", "demo", "lunch", "拜访", "上门拜访",
        "会议", "面谈", "会面", "见面", "演示",
    ),
    EMAIL: ("email", "e-mail", "emails", "list email", "listemail", "mail", "邮件", "电子邮件"),
    MESSAGE: (
        "wechat", "message", "sms", "text", "whatsapp", "linkedin message", "微信", "短信",
        "企业微信", "钉钉", "qq",
    ),
    NOTE: ("note", "notes", "备注", "笔记", "记录"),
    TASK: ("task", "todo", "to-do", "cadence", "deadline", "任务", "待办"),
}  # fmt: skip
TYPE_INDEX: dict[str, str] = {
    header_key(word): kind for kind, words in TYPE_WORDS.items() for word in words
}

# `done` cells. A planned activity (not done) is not yet a touch: excluded, with the reason.
DONE_WORDS = frozenset(
    header_key(w)
    for w in ("1", "true", "yes", "y", "done", "completed", "complete", "已完成", "完成", "是")
)
NOT_DONE_WORDS = frozenset(
    header_key(w)
    for w in (
        "0", "false", "no", "n", "not started", "open", "planned", "in progress", "deferred",
        "waiting on someone else", "scheduled", "未完成", "否", "计划", "进行中", "未开始",
    )
)  # fmt: skip


@dataclass(frozen=True)
class ActivityMapping:
    """Which file column plays each role (None when absent) and the layout the headers name."""

    columns: dict[str, str | None]
    layout: str
    evidence: str
    notes: tuple[str, ...]

    def column(self, role: str) -> str | None:
        return self.columns.get(role)


def map_headers(
    headers: list[str], override: dict[str, str | None] | None = None
) -> ActivityMapping:
    """Assign a role to each header: synonym match (first column wins), then `override`."""
    columns: dict[str, str | None] = dict.fromkeys(ROLES)
    notes: list[str] = []
    for header in headers:
        role = ROLE_INDEX.get(header_key(header))
        if role is None and "/" in header:
            role = ROLE_INDEX.get(header_key(header.rsplit("/", 1)[1]))
        if role is None:
            continue
        if columns[role] is None:
            columns[role] = header
        else:
            notes.append(f"column {header!r} also looks like {role}; {columns[role]!r} is used")
    for role, header in (override or {}).items():
        if role not in columns:
            raise KeyError(f"unknown activity role {role!r}; roles are {ROLES}")
        columns[role] = header
    keys = {header_key(h) for h in headers}
    hits = {layout: len(keys & markers) for layout, markers in _MARKER_KEYS.items()}
    best = max(hits, key=hits.get)
    if hits[best] == 0:
        return ActivityMapping(columns, GENERIC, "no CRM-specific header", tuple(notes))
    named = sorted(h for h in headers if header_key(h) in _MARKER_KEYS[best])
    return ActivityMapping(columns, best, f"headers {named} are {best} names", tuple(notes))
