"""Tickets shown to staff: lists, one ticket with its history, `/统计` rates, and the rows of
the exported spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.domain.rates import RateCounts
from bot.domain.tickets import Rating, Ticket, TicketEvent, TicketState, TicketView
from handlers.texts.ticket_names import STATE_NAMES, TYPE_NAMES, local_time
from handlers.texts.ticket_ratings import RATING_NAMES


def ticket_line(ticket: Ticket, timezone: ZoneInfo) -> str:
    """One line of a ticket list."""
    urgent = "🚨" if ticket.urgent else ""
    summary = ticket.text if len(ticket.text) <= 18 else ticket.text[:18] + "…"
    # The place only when the summary does not already say it ("3栋 3栋门口的路灯…").
    if ticket.location and ticket.location not in summary:
        summary = f"{ticket.location} {summary}"
    return (
        f"{urgent}{ticket.number}【{TYPE_NAMES[ticket.request_type]}】{summary}"
        f"（{STATE_NAMES[ticket.state]}，{local_time(ticket.created_at, timezone)}）"
    )


def ticket_list(tickets: Sequence[Ticket], timezone: ZoneInfo) -> str:
    """Open tickets, one per line."""
    if not tickets:
        return "目前没有待办的工单。"
    lines = [f"待办工单 {len(tickets)} 件："]
    lines += [ticket_line(t, timezone) for t in tickets]
    return "\n".join(lines)


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
