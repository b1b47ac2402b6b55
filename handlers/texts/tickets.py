"""What Linli says about tickets, in groups and to staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.domain.community import Person, Role
from bot.domain.rates import RateCounts
from bot.domain.tickets import (
    DueKind,
    OpenedTicket,
    Rating,
    Ticket,
    TicketEvent,
    TicketState,
    TicketView,
)
from bot.events import Button, RequestType

TYPE_NAMES: dict[RequestType, str] = {
    RequestType.REPAIR: "公共维修",
    RequestType.COMPLAINT: "投诉举报",
    RequestType.INCIDENT: "小区报事",
    RequestType.DISPUTE: "矛盾纠纷",
    RequestType.INQUIRY: "咨询求助",
    RequestType.SUGGESTION: "意见建议",
}
CHOOSABLE_TYPES: tuple[RequestType, ...] = tuple(TYPE_NAMES)

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

USAGE_TICKET = "请在命令后写上工单号，例如：/工单 1024"
USAGE_RESOLVE = "请写上工单号和处理情况，例如：/办结 1024 已更换楼道灯"
USAGE_ASSIGN = "请写上工单号和负责人，例如：/指派 1024 @吴网格员"
USAGE_MERGE = "请写上要合并的工单号和保留的工单号，例如：/合并 1025 1024"
USAGE_VISIT = "请写上工单号和走访情况，例如：/走访 1024 已上门查看"
USAGE_REFER = "请写上工单号和转办单位，例如：/转办 1024 区城管执法局"
USAGE_STATS = "可以这样查：/统计（近30天）、/统计 7天、/统计 本周、/统计 本月"


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


def assigned_reply(ticket: Ticket, assignee: Person) -> str:
    """The answer to `/指派`."""
    return f"工单 {ticket.number} 已指派给{person_label(assignee)}，已私信通知。"


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


def visit_recorded(ticket: Ticket) -> str:
    """A grid worker's home visit was recorded."""
    return f"已记录工单 {ticket.number} 的走访情况。"


def merged(ticket: Ticket, into: Ticket) -> str:
    """Staff merged two tickets."""
    return f"工单 {ticket.number} 已合并到工单 {into.number}，反映人会收到后续进展。"


def split(ticket: Ticket) -> str:
    """Staff split a merged ticket off again."""
    return f"工单 {ticket.number} 已拆分为独立工单，重新计算办理时限。"


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


RATING_NAMES: dict[Rating, str] = {
    Rating.SATISFIED: "满意",
    Rating.MOSTLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
}
# Replies understood as a rating (the digits are offered in the question).
RATING_ANSWERS: dict[str, Rating] = {
    "1": Rating.SATISFIED,
    "2": Rating.MOSTLY_SATISFIED,
    "3": Rating.DISSATISFIED,
    "满意": Rating.SATISFIED,
    "基本满意": Rating.MOSTLY_SATISFIED,
    "不满意": Rating.DISSATISFIED,
}


def rating_question(ticket: Ticket) -> str:
    """The follow-up question (回访) after a ticket is resolved."""
    return f"您反映的问题（工单 {ticket.number}）已办结，请您评价处理结果："


def rating_buttons(ticket: Ticket) -> tuple[Button, ...]:
    """Buttons for the follow-up where the platform has them; each sends `/评价 N 数字`."""
    return tuple(
        Button(RATING_NAMES[rating], f"/评价 {ticket.number} {digit}")
        for digit, rating in RATING_ANSWERS.items()
        if digit.isdigit()
    )


def mention(name: str, text: str) -> str:
    """A group message addressed to one person (when they cannot be reached privately)."""
    return f"@{name} {text}" if name else text


def rating_thanks(ticket: Ticket, rating: Rating) -> str:
    """The answer to a rating."""
    if rating is Rating.DISSATISFIED:
        return f"抱歉没有让您满意。工单 {ticket.number} 已重新办理，并已上报督办。"
    if ticket.state is TicketState.CLOSED:
        return f"感谢您的评价（{RATING_NAMES[rating]}），工单 {ticket.number} 已关闭。"
    return f"感谢您的评价（{RATING_NAMES[rating]}）！"


USAGE_RATE = "请回复 1 满意，2 基本满意，3 不满意。"
NOTHING_TO_RATE = "目前没有需要您评价的工单，谢谢！"


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


def _percent(value: Fraction | None) -> str:
    if value is None:
        return "暂无"
    return f"{float(value) * 100:.1f}%"


def rates_summary(node_name: str, period_label: str, counts: RateCounts) -> str:
    """`/统计`: the three rates of a node over a period, with their counts."""
    return "\n".join(
        [
            f"{node_name}{period_label}工单统计（共 {counts.opened} 件）：",
            f"响应率 {_percent(counts.response_rate)}"
            f"（按时受理 {counts.responded_in_time}/应受理 {counts.due_response}）",
            f"解决率 {_percent(counts.resolution_rate)}"
            f"（已办结 {counts.resolved}/应办结 {counts.due_resolution}）",
            f"满意率 {_percent(counts.satisfaction_rate)}"
            f"（满意和基本满意 {counts.satisfied}/已评价 {counts.rated}）",
        ]
    )


def period_label(days: int | None, keyword: str | None) -> str:
    """How a `/统计` period is named in the answer."""
    if keyword is not None:
        return keyword
    return f"近{days}天"


STATS_KEYWORDS = ("本周", "本月", "今天")

_EVENT_NAMES = {
    "opened": "登记",
    "transition": "办理",
    "edited": "修改内容",
    "joined": "加关注（同一问题）",
    "assigned": "指派给",
    "escalated": "督办，上报至",
    "visit": "走访",
    "rated": "评价",
    "absorbed": "合并入工单",
    "split_off": "拆分出工单",
}


def _event_line(event: TicketEvent, names: dict[str, str], timezone: ZoneInfo) -> str:
    actor = "系统" if event.actor_id == "system" else names.get(event.actor_id) or event.actor_id
    action = _EVENT_NAMES.get(event.kind, event.kind)
    state = f"→{STATE_NAMES[event.to_state]}" if event.to_state else ""
    note = event.note
    if event.kind == "assigned":
        note = names.get(note, note)
    elif event.kind == "rated" and note in {r.value for r in Rating}:
        note = RATING_NAMES[Rating(note)]
    elif event.kind == "transition" and note == "unrated":
        note = "到期未评价，自动关闭"
    elif event.kind == "transition" and note == "rated":
        note = "已评价"
    elif event.kind == "opened" and event.to_state is TicketState.MERGED:
        note = f"与工单 {note} 为同一问题"
    note = f" {note}" if note else ""
    return f"· {local_time(event.at, timezone)} {actor} {action}{state}{note}"


def ticket_detail(view: TicketView, timezone: ZoneInfo) -> str:
    """One ticket with its full history, people named."""
    ticket = view.ticket
    names = dict(view.names)
    lines = [
        f"工单 {ticket.number}【{TYPE_NAMES[ticket.request_type]}】{STATE_NAMES[ticket.state]}"
        + ("（紧急）" if ticket.urgent else ""),
        f"内容：{ticket.text or '（随手拍照片，无文字说明）'}",
    ]
    if ticket.image:
        lines.append("附图：有（随手拍）")
    if ticket.location:
        lines.append(f"位置：{ticket.location}")
    lines.append(f"反映人：{ticket.reporter_name or names.get(ticket.reporter_id, '居民')}")
    if view.followers:
        lines.append(f"同一问题关注人：{'、'.join(view.followers)}")
    if ticket.assignees:
        lines.append(f"负责人：{'、'.join(names.get(a, a) for a in ticket.assignees)}")
    if ticket.referred_to:
        lines.append(f"转办单位：{ticket.referred_to}")
    if ticket.cues:
        lines.append(f"识别依据：{'、'.join(ticket.cues)}")
    lines.append(f"响应时限：{local_time(ticket.respond_by_at, timezone)}")
    lines.append(f"办结时限：{local_time(ticket.resolve_by_at, timezone)}")
    lines.append("处理记录：")
    lines += [_event_line(event, names, timezone) for event in view.history]
    return "\n".join(lines)


EXPORT_SHEET = "工单"
EXPORT_HEADERS = (
    "工单号", "类型", "状态", "紧急", "位置", "内容", "反映人", "所属", "负责人",
    "登记时间", "响应时限", "受理时间", "办结时限", "办结时间", "关闭时间", "合并到", "转办单位",
)  # fmt: skip


def export_row(
    ticket: Ticket,
    *,
    merged_into: int | None,
    node_name: str,
    assignee_names: Sequence[str],
    timezone: ZoneInfo,
) -> list[str]:
    """One spreadsheet row of `linli export tickets` (times in the community's zone)."""

    def when(instant: datetime | None) -> str:
        return instant.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if instant else ""

    return [
        str(ticket.number),
        TYPE_NAMES[ticket.request_type],
        STATE_NAMES[ticket.state],
        "是" if ticket.urgent else "",
        ticket.location or "",
        ticket.text,
        ticket.reporter_name,
        node_name,
        "、".join(assignee_names),
        when(ticket.created_at),
        when(ticket.respond_by_at),
        when(ticket.accepted_at),
        when(ticket.resolve_by_at),
        when(ticket.resolved_at),
        when(ticket.closed_at),
        str(merged_into) if merged_into else "",
        ticket.referred_to or "",
    ]


def opened_reply(opened: OpenedTicket, *, photo: bool) -> str:
    """The answer to a new request: a new ticket, a joined duplicate, or a repeat."""
    if opened.joined is not None:
        if opened.already_reported:
            return already_reported(opened.joined)
        return joined_duplicate(opened.joined)
    if photo:
        return photo_opened(opened.ticket, opened.assignees)
    return ticket_opened(opened.ticket, opened.assignees)
