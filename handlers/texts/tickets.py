"""What Linli says about tickets, in groups and to staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.community import ROLE_TITLES, Person, Role
from bot.domain.tickets import Ticket, TicketEvent, TicketState
from bot.events import RequestType

TYPE_NAMES: dict[RequestType, str] = {
    RequestType.REPAIR: "公共维修",
    RequestType.COMPLAINT: "投诉举报",
    RequestType.INCIDENT: "小区报事",
    RequestType.DISPUTE: "矛盾纠纷",
    RequestType.INQUIRY: "咨询求助",
    RequestType.SUGGESTION: "意见建议",
}
CHOOSABLE_TYPES: tuple[RequestType, ...] = tuple(TYPE_NAMES)

STATE_NAMES: dict[TicketState, str] = {
    TicketState.OPEN: "待受理",
    TicketState.ACCEPTED: "已受理",
    TicketState.IN_PROGRESS: "处理中",
    TicketState.RESOLVED: "已办结",
    TicketState.CLOSED: "已关闭",
    TicketState.REOPENED: "重新办理",
    TicketState.MERGED: "已合并",
    TicketState.REFERRED: "已转办",
}

# Complaints and disputes are acknowledged without details: the other party may be in the group.
DISCREET_TYPES = frozenset({RequestType.COMPLAINT, RequestType.DISPUTE})

USAGE_TICKET = "请在命令后写上工单号，例如：/工单 1024"
USAGE_RESOLVE = "请写上工单号和处理情况，例如：/办结 1024 已更换楼道灯"


def person_label(person: Person) -> str:
    """ "物业王经理" style: the role title unless the name already says it."""
    role = next((r for r in person.roles if r is not Role.RESIDENT), Role.RESIDENT)
    title = ROLE_TITLES[role]
    return person.name if title in person.name or role is Role.RESIDENT else f"{title}{person.name}"


def _people(assignees: Sequence[Person]) -> str:
    return "、".join(person_label(p) for p in assignees) if assignees else "社区工作人员"


def _hours(span: timedelta) -> str:
    hours = round(span.total_seconds() / 3600)
    return f"{hours // 24}天" if hours >= 48 and hours % 24 == 0 else f"{hours}小时"


def local_time(instant: datetime, timezone: ZoneInfo) -> str:
    """`12月1日 09:00` in the community's time zone."""
    local = instant.astimezone(timezone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def ticket_opened(ticket: Ticket, assignees: Sequence[Person]) -> str:
    """The group answer to a new request: the number first, then who and by when."""
    respond_in = _hours(ticket.respond_by_at - ticket.created_at)
    if ticket.urgent:
        return (
            f"🚨 紧急情况已收到，工单号 {ticket.number}，已同时通知{_people(assignees)}。\n"
            "如有人员受伤或火情，请立即拨打 120/119/110。"
        )
    if ticket.request_type in DISCREET_TYPES:
        return (
            f"已收到您的反映，工单号 {ticket.number}。\n"
            f"已转给负责人，{respond_in}内会私下与您联系。"
        )
    return (
        f"已收到您反映的【{TYPE_NAMES[ticket.request_type]}】问题，工单号 {ticket.number}。\n"
        f"已转给{_people(assignees)}，{respond_in}内响应。"
    )


def urgent_alert(ticket: Ticket, group_name: str, timezone: ZoneInfo) -> str:
    """The private alert to staff for an urgent ticket."""
    where = f"（{ticket.location}）" if ticket.location else ""
    return (
        f"【紧急】工单 {ticket.number}{where}：{ticket.text}\n"
        f"来自{group_name}，{local_time(ticket.created_at, timezone)}。"
        f"请立即处理，回复 /受理 {ticket.number} 确认。"
    )


def confirm_type(request_type: RequestType) -> str:
    """The question asked when the classifier is not sure."""
    return f"需要登记为【{TYPE_NAMES[request_type]}】吗？回复 1 确认，回复 2 改为其他类型。"


def choose_type() -> str:
    """The list of types to choose from."""
    choices = " ".join(f"{i} {TYPE_NAMES[t]}" for i, t in enumerate(CHOOSABLE_TYPES, start=1))
    return f"请回复序号选择类型：{choices}；回复 0 不用登记。"


NOT_FILED = "好的，这条不登记。有需要随时在群里说。"


def ticket_line(ticket: Ticket, timezone: ZoneInfo) -> str:
    """One line of a ticket list."""
    where = f" {ticket.location}" if ticket.location else ""
    urgent = "🚨" if ticket.urgent else ""
    summary = ticket.text if len(ticket.text) <= 18 else ticket.text[:18] + "…"
    return (
        f"{urgent}{ticket.number}【{TYPE_NAMES[ticket.request_type]}】{where} {summary}"
        f"（{STATE_NAMES[ticket.state]}，{local_time(ticket.created_at, timezone)}）"
    )


def ticket_list(tickets: Sequence[Ticket], timezone: ZoneInfo) -> str:
    """Open tickets, one per line."""
    if not tickets:
        return "目前没有待办的工单。"
    lines = [f"待办工单 {len(tickets)} 件："]
    lines += [ticket_line(t, timezone) for t in tickets]
    return "\n".join(lines)


def ticket_detail(ticket: Ticket, history: Sequence[TicketEvent], timezone: ZoneInfo) -> str:
    """One ticket with its full history."""
    lines = [
        f"工单 {ticket.number}【{TYPE_NAMES[ticket.request_type]}】{STATE_NAMES[ticket.state]}"
        + ("（紧急）" if ticket.urgent else ""),
        f"内容：{ticket.text}",
    ]
    if ticket.location:
        lines.append(f"位置：{ticket.location}")
    lines.append(f"反映人：{ticket.reporter_name or ticket.reporter_id}")
    if ticket.cues:
        lines.append(f"识别依据：{'、'.join(ticket.cues)}")
    lines.append(f"响应时限：{local_time(ticket.respond_by_at, timezone)}")
    lines.append(f"办结时限：{local_time(ticket.resolve_by_at, timezone)}")
    lines.append("处理记录：")
    for event in history:
        state = f"→{STATE_NAMES[event.to_state]}" if event.to_state else ""
        note = f" {event.note}" if event.note else ""
        action = _EVENT_NAMES.get(event.kind, event.kind)
        lines.append(f"· {local_time(event.at, timezone)} {event.actor_id} {action}{state}{note}")
    return "\n".join(lines)


_EVENT_NAMES = {"opened": "登记", "transition": "办理", "edited": "修改内容"}


def accepted(ticket: Ticket) -> str:
    """Staff accepted a ticket."""
    return f"工单 {ticket.number} 已受理，请按时限处理。"


def resolved(ticket: Ticket) -> str:
    """Staff resolved a ticket."""
    return f"工单 {ticket.number} 已办结，系统将请反映人评价。"
