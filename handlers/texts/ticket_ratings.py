"""Follow-up (回访) texts: the rating question and its buttons, the answers understood, thanks."""

from __future__ import annotations

from bot.domain.tickets import Rating, Ticket, TicketState
from bot.events import Button

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


def rating_thanks(ticket: Ticket, rating: Rating) -> str:
    """The answer to a rating."""
    if rating is Rating.DISSATISFIED:
        return f"抱歉没有让您满意。工单 {ticket.number} 已重新办理，并已上报督办。"
    if ticket.state is TicketState.CLOSED:
        return f"感谢您的评价（{RATING_NAMES[rating]}），工单 {ticket.number} 已关闭。"
    return f"感谢您的评价（{RATING_NAMES[rating]}）！"


USAGE_RATE = "请回复 1 满意，2 基本满意，3 不满意。"
NOTHING_TO_RATE = "目前没有需要您评价的工单，谢谢！"
