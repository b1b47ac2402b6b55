"""`/bind GROUP_ID`: a secretary binds an unknown platform group to a configured group."""

from __future__ import annotations

from bot.context import HandlerContext
from bot.errors import InvalidInput
from bot.events import IncomingMessage
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import bindings as texts

router = Router("bindings")


@router.command("bind", "绑定")
async def bind_group(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Bind the chat this is sent in to the named group of the config."""
    if not match.args:
        raise InvalidInput.literal(texts.USAGE_BIND)
    group = await ctx.services.bindings.bind(msg.chat, match.args.split()[0], ctx.person)
    return Reply(texts.bound(group))
