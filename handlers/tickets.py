"""Ticket handlers: residents' requests become tickets; staff list, show, accept and resolve."""

from __future__ import annotations

import re

from bot.context import HandlerContext
from bot.domain.tickets import RequestDraft, TicketSource
from bot.errors import InvalidInput
from bot.events import IncomingMessage, RequestType
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import tickets as texts

router = Router("tickets")

_NUMBER_THEN_NOTE = re.compile(r"^#?(\d{1,9})\s*(.*)$", re.DOTALL)
CONFIRM_STATE = "confirm_request"
CHOOSE_STATE = "choose_request_type"


def _number(args: str, usage: str) -> tuple[int, str]:
    found = _NUMBER_THEN_NOTE.match(args.strip())
    if found is None:
        raise InvalidInput(usage)
    return int(found.group(1)), found.group(2).strip()


@router.request()
async def open_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """A resident's message was recognised as a request: file it, or ask when unsure."""
    classification = ctx.classification
    if classification is None:
        return None
    request_type = RequestType(classification.label.value)
    if not classification.urgent and classification.confidence < ctx.services.confirm_below:
        slots = {"type": request_type.value, "text": msg.text, "message_id": msg.message_id}
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
    node = ctx.group.node if ctx.group is not None else ctx.person.node
    source = TicketSource(msg.chat, source_id, ctx.group.id if ctx.group else None)
    opened = await ctx.tickets.open(draft, ctx.person, node, source)
    return Reply(texts.ticket_opened(opened.ticket, opened.assignees))


@router.flow(CONFIRM_STATE)
async def confirm_request(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """The writer answers "1" (file it as guessed) or "2" (choose another type)."""
    conversation = ctx.conversation
    if conversation is None:
        return None
    answer = match.args.strip()
    if answer not in ("1", "2"):
        await ctx.conversations.finish(msg.chat, msg.sender)
        return None
    if answer == "2":
        await ctx.conversations.start(
            msg.chat, msg.sender, CHOOSE_STATE, conversation.slots, ctx.services.question_ttl
        )
        return Reply(texts.choose_type())
    await ctx.conversations.finish(msg.chat, msg.sender)
    slots = conversation.slots
    return await _file(msg, ctx, RequestType(slots["type"]), slots["text"], slots["message_id"])


@router.flow(CHOOSE_STATE)
async def choose_request_type(
    msg: IncomingMessage, ctx: HandlerContext, match: Match
) -> Reply | None:
    """The writer picks the type by number, or 0 for "don't file it"."""
    conversation = ctx.conversation
    answer = match.args.strip()
    if conversation is None or not answer.isdigit() or int(answer) > len(texts.CHOOSABLE_TYPES):
        await ctx.conversations.finish(msg.chat, msg.sender)
        return None
    await ctx.conversations.finish(msg.chat, msg.sender)
    if answer == "0":
        return Reply(texts.NOT_FILED)
    request_type = texts.CHOOSABLE_TYPES[int(answer) - 1]
    slots = conversation.slots
    return await _file(msg, ctx, request_type, slots["text"], slots["message_id"])


@router.command("tickets", "工单", "工单列表")
async def list_tickets(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/工单` lists the tickets I may see; `/工单 1024` shows one."""
    if match.args:
        return await show_ticket(msg, ctx, match)
    tickets = await ctx.tickets.list_active(ctx.person)
    return Reply(texts.ticket_list(tickets, ctx.services.timezone))


@router.command("ticket", "查工单")
async def show_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """One ticket with its history."""
    number, _ = _number(match.args, texts.USAGE_TICKET)
    ticket, history = await ctx.tickets.get(number, ctx.person)
    return Reply(texts.ticket_detail(ticket, history, ctx.services.timezone))


@router.command("accept", "受理")
async def accept_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Staff take a ticket on."""
    number, note = _number(match.args, texts.USAGE_TICKET)
    return Reply(texts.accepted(await ctx.tickets.accept(number, ctx.person, note)))


@router.command("resolve", "办结")
async def resolve_ticket(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Staff mark a ticket done, with what was done."""
    number, note = _number(match.args, texts.USAGE_RESOLVE)
    return Reply(texts.resolved(await ctx.tickets.resolve(number, ctx.person, note)))
