"""What Linli sends about tickets on its own: urgent alerts, assignments, progress to reporters,
deadline reminders and escalations (privately, or @-mentioned in a group)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain.community import Person
from bot.domain.tickets import DueKind, Ticket, TicketState
from handlers.texts.ticket_names import STATE_NAMES, TYPE_NAMES, local_time, person_label


def urgent_alert(ticket: Ticket, group_name: str, timezone: ZoneInfo) -> str:
    """The private alert to staff for an urgent ticket."""
    where = f"（{ticket.location}）" if ticket.location else ""
    return (
        f"【紧急】工单 {ticket.number}{where}：{ticket.text}\n"
        f"来自{group_name}，{local_time(ticket.created_at, timezone)}。"
        f"请立即处理，回复 /受理 {ticket.number} 确认。"
    )


def assigned_notice(ticket: Ticket, by: Person, timezone: ZoneInfo) -> str:
    """The private notice to a new assignee."""
    if ticket.state in (TicketState.OPEN, TicketState.REOPENED):
        deadline, what, command = ticket.respond_by_at, "受理", "/受理"
    else:
        deadline, what, command = ticket.resolve_by_at, "办结", "/办结"
    if deadline <= ticket.updated_at:
        when = f"已超过{what}时限，请尽快{what}"
    else:
        when = f"请于 {local_time(deadline, timezone)} 前{what}"
    return (
        f"{person_label(by)}将工单 {ticket.number}【{TYPE_NAMES[ticket.request_type]}】指派给您：\n"
        f"{ticket.text}\n{when}，回复 {command} {ticket.number}。"
    )


def progress_notice(ticket: Ticket) -> str:
    """What a reporter (or follower) is told when their ticket moves."""
    number = ticket.number
    if ticket.state is TicketState.ACCEPTED:
        return f"您反映的问题（工单 {number}）已受理，正在安排处理。"
    if ticket.state is TicketState.IN_PROGRESS:
        return f"您反映的问题（工单 {number}）正在处理中。"
    if ticket.state is TicketState.REFERRED:
        return f"您反映的问题（工单 {number}）不属于社区办理范围，已转交{ticket.referred_to}办理。"
    if ticket.state is TicketState.REOPENED:
        return f"工单 {number} 已重新办理，并已上报督办，会尽快给您答复。"
    return f"您反映的问题（工单 {number}）目前状态：{STATE_NAMES[ticket.state]}。"


def deadline_reminder(ticket: Ticket, kind: DueKind, timezone: ZoneInfo) -> str:
    """The private reminder to assignees before a deadline."""
    if kind is DueKind.REMIND_RESPOND:
        what, deadline, command = "受理", ticket.respond_by_at, "/受理"
    else:
        what, deadline, command = "办结", ticket.resolve_by_at, "/办结"
    return (
        f"提醒：工单 {ticket.number}【{TYPE_NAMES[ticket.request_type]}】需在 "
        f"{local_time(deadline, timezone)} 前{what}。处理后请回复 {command} {ticket.number}。"
    )


def escalation_notice(
    ticket: Ticket, kind: DueKind | None, level_name: str, timezone: ZoneInfo
) -> str:
    """The private notice when a missed deadline (or a 不满意 rating) escalates a ticket."""
    if kind is None:
        why = "居民对办理结果不满意，已重新办理"
    else:
        why = "未按时受理" if kind is DueKind.ESCALATE_RESPOND else "未按时办结"
    return (
        f"【督办】工单 {ticket.number}【{TYPE_NAMES[ticket.request_type]}】{why}，"
        f"已上报{level_name}。\n内容：{ticket.text}\n"
        f"登记于 {local_time(ticket.created_at, timezone)}，请尽快处理，"
        f"/工单 {ticket.number} 查看详情。"
    )


def mention(name: str, text: str) -> str:
    """A group message addressed to one person (when they cannot be reached privately)."""
    return f"@{name} {text}" if name else text
