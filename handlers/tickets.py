"""Ticket handlers: requests and 随手拍 photos become tickets; follow-up ratings; staff list,
show, accept, assign, resolve, refer, merge, split, record visits and see the three rates."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.context import HandlerContext
from bot.domain.rates import Period, last_days, this_month, this_week
from bot.domain.tickets import RequestDraft, TicketSource
from bot.errors import InvalidInput
from bot.events import IncomingMessage, RequestType
from bot.replies import Reply
from bot.router import Match, Router
from handlers import answers
from handlers.answers import Answer
from handlers.texts import ticket_ratings as rating_texts
from handlers.texts import ticket_views as view_texts
from handlers.texts import tickets as texts

router = Router("tickets")

_NUMBER_THEN_NOTE = re.compile(r"^#?(\d{1,9})\s*(.*)$", re.DOTALL)
_TWO_NUMBERS = re.compile(r"^#?(\d{1,9})\s*(?:到|->|→)?\s*#?(\d{1,9})$")
_DAYS = re.compile(r"^(\d{1,3})\s*天?$")
CONFIRM_STATE = "confirm_request"
CHOOSE_STATE = "choose_request_type"


def _number(args: str, usage: str) -> tuple[int, str]:
    found = _NUMBER_THEN_NOTE.match(args.strip())
    if found is None:
        raise InvalidInput.literal(usage)
    return int(found.group(1)), found.group(2).strip()


@router.request()
async def open_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """A resident's message was recognised as a request: file it, or ask when unsure."""
    classification = ctx.classification
    if classification is None:
        return None
    request_type = RequestType(classification.label.value)
    if ctx.tickets.policy.needs_confirmation(
        classification.confidence, urgent=classification.urgent
    ):
        # The answer ("1") is a new message: keep what the report itself said for the ticket.
        slots = {
            "type": request_type.value,
            "text": msg.text,
            "message_id": msg.message_id,
            "location": ctx.location or "",
            "cues": "|".join(classification.cues),
            "confidence": f"{classification.confidence:.4f}",
        }
        await ctx.conversations.start(
            msg.chat, msg.sender, CONFIRM_STATE, slots, ctx.services.question_ttl
        )
        return Reply(texts.confirm_type(request_type))
    return await _file(msg, ctx, request_type, msg.text, msg.message_id)


async def _file(
    msg: IncomingMessage, ctx: HandlerContext, request_type: RequestType, text: str, source_id: str
) -> Reply:
    classification = ctx.classification
    draft = RequestDraft(
        request_type=request_type,
        text=text,
        urgent=classification.urgent if classification else False,
        confidence=classification.confidence if classification else 1.0,
        cues=classification.cues if classification else (),
        location=ctx.location,
        image=msg.image,
    )
    return await _open(msg, ctx, draft, source_id)


async def _file_confirmed(
    msg: IncomingMessage, ctx: HandlerContext, request_type: RequestType, slots: Mapping[str, str]
) -> Reply:
    """File a report the writer confirmed: its text, place and cues, not those of the "1"."""
    draft = RequestDraft(
        request_type=request_type,
        text=slots["text"],
        urgent=False,
        confidence=float(slots.get("confidence") or 0.0),
        cues=tuple(cue for cue in slots.get("cues", "").split("|") if cue),
        location=slots.get("location") or None,
    )
    return await _open(msg, ctx, draft, slots["message_id"])


async def _open(
    msg: IncomingMessage, ctx: HandlerContext, draft: RequestDraft, source_id: str
) -> Reply:
    node = ctx.group.node if ctx.group is not None else ctx.person.node
    source = TicketSource(msg.chat, source_id, ctx.group.id if ctx.group else None)
    opened = await ctx.tickets.open(draft, ctx.person, node, source)
    return Reply(texts.opened_reply(opened, photo=False))


@router.flow(CONFIRM_STATE)
async def confirm_request(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """The writer answers 1 (file it as guessed), 2 (choose another type), 0 (leave it), or
    the same in words: 是的/好的, 不是/不对, 不用了/算了. Anything else ends the question and
    is read as a message of its own."""
    conversation = ctx.conversation
    if conversation is None:
        return None
    said = answers.reply_to(match.args, _CONFIRMATION_NUMBERS)
    if said is Answer.NOT_THAT:
        await ctx.conversations.start(
            msg.chat, msg.sender, CHOOSE_STATE, conversation.slots, ctx.services.question_ttl
        )
        return Reply(texts.choose_type())
    await ctx.conversations.finish(msg.chat, msg.sender)
    if said is None:
        return None
    if said is Answer.NO:
        return Reply(texts.NOT_FILED)
    slots = conversation.slots
    return await _file_confirmed(msg, ctx, RequestType(slots["type"]), slots)


# The numbers the confirmation question offers (0 is the choice list's "don't file it").
_CONFIRMATION_NUMBERS = {1: Answer.YES, 2: Answer.NOT_THAT, 0: Answer.NO}


@router.flow(CHOOSE_STATE)
async def choose_request_type(
    msg: IncomingMessage, ctx: HandlerContext, match: Match
) -> Reply | None:
    """The writer picks the type by number or name (维修, 投诉 …), or 0 (不用了) for "don't
    file it"."""
    conversation = ctx.conversation
    await ctx.conversations.finish(msg.chat, msg.sender)
    if conversation is None:
        return None
    chosen = answers.number(match.args)
    if chosen == 0 or answers.answer(match.args) is Answer.NO:
        return Reply(texts.NOT_FILED)
    if chosen is not None and 1 <= chosen <= len(texts.CHOOSABLE_TYPES):
        request_type: RequestType | None = texts.CHOOSABLE_TYPES[chosen - 1]
    else:
        request_type = answers.request_type(match.args)
    if request_type is None:
        return None
    return await _file_confirmed(msg, ctx, request_type, conversation.slots)


@router.command("tickets", "工单", "工单列表", bare=True)
async def list_tickets(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/工单` lists the tickets I may see; `/工单 1024` shows one."""
    if match.args:
        return await show_ticket(msg, ctx, match)
    tickets = await ctx.tickets.list_active(ctx.person)
    # Privately: the list names what neighbours reported, complaints included.
    return Reply(view_texts.ticket_list(tickets, ctx.services.timezone), private=True)


@router.command("ticket", "查工单", bare=True)
async def show_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """One ticket with its history."""
    number, _ = _number(match.args, texts.USAGE_TICKET)
    view = await ctx.tickets.get(number, ctx.person)
    return Reply(view_texts.ticket_detail(view, ctx.services.timezone), private=True)


@router.command("accept", "受理", bare=True)
async def accept_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Staff take a ticket on."""
    number, note = _number(match.args, texts.USAGE_TICKET)
    return Reply(texts.accepted(await ctx.tickets.accept(number, ctx.person, note)))


@router.command("resolve", "办结", bare=True)
async def resolve_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Staff mark a ticket done, with what was done."""
    number, note = _number(match.args, texts.USAGE_RESOLVE)
    return Reply(texts.resolved(await ctx.tickets.resolve(number, ctx.person, note)))


@router.message()
async def report_photo(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """随手拍: a photo (caption optional) opens an incident ticket with the photo kept."""
    if msg.image is None:
        return None
    if ctx.group is None and not ctx.tickets.may_report_privately(ctx.person):
        return Reply(texts.PHOTO_PRIVATE_NOT_ALLOWED)
    node = ctx.group.node if ctx.group is not None else ctx.person.node
    source = TicketSource(msg.chat, msg.message_id, ctx.group.id if ctx.group else None)
    opened = await ctx.tickets.open(_photo_draft(msg, ctx, msg.image), ctx.person, node, source)
    return Reply(texts.opened_reply(opened, photo=True))


def _photo_draft(msg: IncomingMessage, ctx: HandlerContext, image: str) -> RequestDraft:
    """A photo is an incident; its caption (if any) still tells urgency, cues and place."""
    classification = ctx.classification
    return RequestDraft(
        request_type=RequestType.INCIDENT,
        text=msg.text.strip(),
        urgent=classification.urgent if classification else False,
        confidence=1.0,
        cues=classification.cues if classification else (),
        location=ctx.location,
        image=image,
    )


@router.message()
async def answer_followup(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """A bare 1/2/3 (or 满意/基本满意/不满意, and privately a rating in other words) answers
    the person's pending follow-up, if any."""
    rating = rating_texts.RATING_ANSWERS.get(match.args.strip())
    if rating is None and not msg.chat.is_group:
        # Words (很满意, 还行, 还没修好) only privately: in a group they are as likely chat.
        rating = answers.rating(match.args)
    if rating is None:
        return None
    rated = await ctx.tickets.rate(ctx.person, msg.chat, rating)
    return None if rated is None else Reply(rating_texts.rating_thanks(rated.ticket, rated.rating))


@router.command("rate", "评价", bare=True)
async def rate_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/评价 1024 1`: what the follow-up buttons send."""
    number, answer = _number(match.args, rating_texts.USAGE_RATE)
    rating = rating_texts.RATING_ANSWERS.get(answer)
    if rating is None:
        raise InvalidInput.literal(rating_texts.USAGE_RATE)
    rated = await ctx.tickets.rate(ctx.person, msg.chat, rating, number)
    if rated is None:
        return Reply(rating_texts.NOTHING_TO_RATE)
    return Reply(rating_texts.rating_thanks(rated.ticket, rated.rating))


@router.command("progress", "处理中", bare=True)
async def start_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Staff mark a ticket as being worked on."""
    number, note = _number(match.args, texts.USAGE_TICKET)
    return Reply(texts.started(await ctx.tickets.start(number, ctx.person, note)))


@router.command("assign", "指派", "转派", bare=True)
async def assign_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/指派 1024 @吴网格员` (a person id or name); the assignee is told privately."""
    number, who = _number(match.args, texts.USAGE_ASSIGN)
    if not who:
        raise InvalidInput.literal(texts.USAGE_ASSIGN)
    ticket, assignee = await ctx.tickets.assign(number, ctx.person, who)
    return Reply(texts.assigned_reply(ticket, assignee))


@router.command("refer", "转办", bare=True)
async def refer_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/转办 1024 区城管执法局`: not the community's matter."""
    number, body = _number(match.args, texts.USAGE_REFER)
    return Reply(texts.referred(await ctx.tickets.refer(number, ctx.person, body)))


@router.command("visit", "走访", bare=True)
async def record_visit(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/走访 1024 说明`: a grid worker's home visit."""
    number, note = _number(match.args, texts.USAGE_VISIT)
    return Reply(texts.visit_recorded(await ctx.tickets.visit(number, ctx.person, note)))


@router.command("merge", "合并", bare=True)
async def merge_tickets(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/合并 1025 1024`: 1025 is the same problem as 1024."""
    found = _TWO_NUMBERS.match(match.args.strip())
    if found is None:
        raise InvalidInput.literal(texts.USAGE_MERGE)
    merged, into = await ctx.tickets.merge(int(found.group(1)), int(found.group(2)), ctx.person)
    return Reply(texts.merged(merged, into))


@router.command("split", "拆分", bare=True)
async def split_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/拆分 1025`: a merged ticket becomes its own again."""
    number, _ = _number(match.args, texts.USAGE_TICKET)
    return Reply(texts.split(await ctx.tickets.split(number, ctx.person)))


async def _read_stats(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> str:
    node = ctx.tickets.stats_scope(ctx.person)
    period, label = _period(match.args.strip(), ctx)
    counts = await ctx.tickets.rates(node.id, period)
    return view_texts.rates_summary(node.name, label, counts)


@router.command("stats", "统计", prepare=_read_stats)
async def show_stats(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/统计 [7天|本周|本月]`: the three rates of my node, told privately (counted before the
    transaction: a long period scans many tickets)."""
    summary: str = await match.prepared()
    return Reply(summary, private=True)


def _period(args: str, ctx: HandlerContext) -> tuple[Period, str]:
    timezone = ctx.services.timezone
    if args in ("本周", "本月"):
        chosen = this_week if args == "本周" else this_month
        return chosen(ctx.now, timezone), args
    if args == "今天":
        return last_days(ctx.now, 1, timezone), args
    found = _DAYS.match(args or "30")
    if found is None or int(found.group(1)) == 0:
        raise InvalidInput.literal(texts.USAGE_STATS)
    days = int(found.group(1))
    return last_days(ctx.now, days, timezone), view_texts.period_label(days, None)
