"""Feature handlers: they translate a matched message into one service call and a reply."""

from __future__ import annotations

from bot.router import Router
from handlers import bindings, digests, reminders, tags, tickets, votes
from handlers import help as help_handlers


def all_routers() -> list[Router]:
    """Every feature's router, in the order their commands are matched."""
    return [
        help_handlers.router,
        bindings.router,
        tickets.router,
        reminders.router,
        digests.router,
        votes.router,
        tags.router,
    ]
