"""`/help`: what Linli does and which commands the sender may use."""

from __future__ import annotations

from bot.context import HandlerContext
from bot.domain.community import Role
from bot.events import IncomingMessage
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import help as texts

router = Router("help")


@router.command("help", "帮助", "start")
async def show_help(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Explain how to report a problem; staff get their commands privately (a long list)."""
    if ctx.person.is_staff:
        return Reply(texts.STAFF_HELP, private=True)
    return Reply(texts.RESIDENT_HELP)


@router.message()
async def voice_message(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """A voice message sent to Linli privately gets a way to be heard; in a group neighbours
    talk to each other, and Linli keeps quiet."""
    if not msg.is_voice or msg.chat.is_group or msg.text:
        return None
    grid_workers = ctx.directory.nearest_with_role(Role.GRID_WORKER, ctx.person.node)
    return Reply(texts.voice_hint(grid_workers[0].name if grid_workers else None))
