"""How tickets, their states and staff are named in text, and how times are written: the
words the ticket texts share."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.community import Person, Role
from bot.domain.tickets import TicketState
from bot.events import RequestType

TYPE_NAMES: dict[RequestType, str] = {
    RequestType.REPAIR: "公共维修",
    RequestType.COMPLAINT: "投诉举报",
    RequestType.INCIDENT: "小区报事",
    RequestType.DISPUTE: "矛盾纠纷",
    RequestType.INQUIRY: "咨询求助",
    RequestType.SUGGESTION: "意见建议",
}

ROLE_TITLES: dict[Role, str] = {
    Role.SECRETARY: "社区书记",
    Role.COMPOUND_SECRETARY: "小区书记",
    Role.BUILDING_LEADER: "楼道长",
    Role.GRID_WORKER: "网格员",
    Role.PROPERTY: "物业",
    Role.REPORTER: "兼职网格员",
    Role.RESIDENT: "居民",
}

STATE_NAMES: dict[TicketState, str] = {
    TicketState.OPEN: "待受理",
    TicketState.ACCEPTED: "已受理",
    TicketState.IN_PROGRESS: "处理中",
    TicketState.RESOLVED: "已办结",
    TicketState.CLOSED: "已评价/已关闭",
    TicketState.REOPENED: "重新办理",
    TicketState.MERGED: "已合并",
    TicketState.REFERRED: "已转办",
}

# Complaints and disputes are acknowledged without details: the other party may be in the group.
DISCREET_TYPES = frozenset({RequestType.COMPLAINT, RequestType.DISPUTE})


def person_label(person: Person) -> str:
    """ "物业王经理" style: the role title unless the name already says it."""
    role = next((r for r in person.roles if r is not Role.RESIDENT), Role.RESIDENT)
    title = ROLE_TITLES[role]
    return person.name if title in person.name or role is Role.RESIDENT else f"{title}{person.name}"


def local_time(instant: datetime, timezone: ZoneInfo) -> str:
    """`12月1日 09:00` in the community's time zone."""
    local = instant.astimezone(timezone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"
