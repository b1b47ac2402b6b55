"""`/help`: what Linli does and which commands the sender may use."""

from __future__ import annotations

from bot.context import HandlerContext
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
