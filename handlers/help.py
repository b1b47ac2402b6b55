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
    """Explain how to report a problem, plus staff commands for staff."""
    return Reply(texts.STAFF_HELP if ctx.person.is_staff else texts.RESIDENT_HELP)
