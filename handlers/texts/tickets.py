"""What Linli answers in chat to ticket requests (new, repeated, 随手拍) and to staff commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.domain.community import Person
from bot.domain.tickets import OpenedTicket, Ticket
from bot.events import RequestType
from handlers.texts.ticket_names import DISCREET_TYPES, TYPE_NAMES, person_label

CHOOSABLE_TYPES: tuple[RequestType, ...] = tuple(TYPE_NAMES)


USAGE_TICKET = "请在命令后写上工单号，例如：/工单 1024"
USAGE_RESOLVE = "请写上工单号和处理情况，例如：/办结 1024 已更换楼道灯"
USAGE_ASSIGN = "请写上工单号和负责人，例如：/指派 1024 @吴网格员"
USAGE_MERGE = "请写上要合并的工单号和保留的工单号，例如：/合并 1025 1024"
USAGE_VISIT = "请写上工单号和走访情况，例如：/走访 1024 已上门查看"
USAGE_REFER = "请写上工单号和转办单位，例如：/转办 1024 区城管执法局"
USAGE_STATS = "可以这样查：/统计（近30天）、/统计 7天、/统计 本周、/统计 本月"


def _people(assignees: Sequence[Person]) -> str:
    return "、".join(person_label(p) for p in assignees) if assignees else "社区工作人员"


def _hours(span: timedelta) -> str:
    hours = round(span.total_seconds() / 3600)
    return f"{hours // 24}天" if hours >= 48 and hours % 24 == 0 else f"{hours}小时"


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


def confirm_type(request_type: RequestType) -> str:
    """The question asked when the classifier is not sure."""
    return f"需要登记为【{TYPE_NAMES[request_type]}】吗？回复 1 确认，回复 2 改为其他类型。"


def choose_type() -> str:
    """The list of types to choose from."""
    choices = " ".join(f"{i} {TYPE_NAMES[t]}" for i, t in enumerate(CHOOSABLE_TYPES, start=1))
    return f"请回复序号选择类型：{choices}；回复 0 不用登记。"


NOT_FILED = "好的，这条不登记。有需要随时在群里说。"


def joined_duplicate(original: Ticket) -> str:
    """A request that says the same as an open ticket joins it."""
    if original.request_type in DISCREET_TYPES:
        # Saying that a neighbour complained too would tell the group more than it should.
        return f"已收到您的反映，已并入工单 {original.number}，处理进展会私下告诉您。"
    return f"已有邻居反映同一问题（工单 {original.number}），已为您加关注，处理进展会及时告诉您。"


def already_reported(original: Ticket) -> str:
    """The same person reported the same thing again."""
    return f"您反映的问题已在处理中（工单 {original.number}），处理进展会及时告诉您。"


def photo_opened(ticket: Ticket, assignees: Sequence[Person]) -> str:
    """A 随手拍 photo became an incident ticket."""
    return (
        f"收到您的随手拍，已登记为【{TYPE_NAMES[ticket.request_type]}】，工单号 {ticket.number}。\n"
        f"已转给{_people(assignees)}，谢谢您！"
    )


PHOTO_PRIVATE_NOT_ALLOWED = "随手拍请发到您所在的楼道群或小区群，我会登记并转给网格员。"


def opened_reply(opened: OpenedTicket, *, photo: bool) -> str:
    """The answer to a new request: a new ticket, a joined duplicate, or a repeat."""
    if opened.joined is not None:
        if opened.already_reported:
            return already_reported(opened.joined)
        return joined_duplicate(opened.joined)
    if photo:
        return photo_opened(opened.ticket, opened.assignees)
    return ticket_opened(opened.ticket, opened.assignees)


def accepted(ticket: Ticket) -> str:
    """Staff accepted a ticket."""
    return f"工单 {ticket.number} 已受理，请按时限处理。"


def resolved(ticket: Ticket) -> str:
    """Staff resolved a ticket."""
    return f"工单 {ticket.number} 已办结，系统将请反映人评价。"


def started(ticket: Ticket) -> str:
    """Staff began work on a ticket."""
    return f"工单 {ticket.number} 已标记为处理中。"


def referred(ticket: Ticket) -> str:
    """Staff referred a ticket to an outside body."""
    return f"工单 {ticket.number} 已转办至{ticket.referred_to}，已告知反映人。"


def assigned_reply(ticket: Ticket, assignee: Person) -> str:
    """The answer to `/指派`."""
    return f"工单 {ticket.number} 已指派给{person_label(assignee)}，已私信通知。"


def visit_recorded(ticket: Ticket) -> str:
    """A grid worker's home visit was recorded."""
    return f"已记录工单 {ticket.number} 的走访情况。"


def merged(ticket: Ticket, into: Ticket) -> str:
    """Staff merged two tickets."""
    return f"工单 {ticket.number} 已合并到工单 {into.number}，反映人会收到后续进展。"


def split(ticket: Ticket) -> str:
    """Staff split a merged ticket off again."""
    return f"工单 {ticket.number} 已拆分为独立工单，重新计算办理时限。"
