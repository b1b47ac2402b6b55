"""Routers: one per feature, mapping commands, flow states and classified requests to handlers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.events import IncomingMessage
from bot.replies import Reply

if TYPE_CHECKING:
    from bot.context import HandlerContext


@dataclass(frozen=True, slots=True)
class Match:
    """What the router recognised: the canonical command (or flow state) and its arguments,
    and for a command registered with `prepare`, the preparation the pipeline started."""

    command: str
    args: str = ""
    preparation: asyncio.Future[Any] | None = None

    async def prepared(self) -> Any:
        """What the command's `prepare` returned (it raises what `prepare` raised)."""
        if self.preparation is None:
            raise RuntimeError(f"command {self.command!r} has no preparation")
        return await self.preparation


Handler = Callable[[IncomingMessage, "HandlerContext", Match], Awaitable[Reply | None]]
H = TypeVar("H", bound=Handler)
# Read-only work of a command (reports, charts) that the pipeline runs before it opens the
# write transaction the handler runs in, so that other messages need not wait for it. It gets
# the handler's arguments, with a context that has no conversation state yet.
Prepare = Callable[[IncomingMessage, "HandlerContext", Match], Awaitable[Any]]

_LATIN_NAME = re.compile(r"[a-z_]+", re.ASCII)


class Router:
    """Collects one feature's handlers; `RouteTable` merges all routers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, tuple[str, Handler]] = {}
        self.bare: set[str] = set()
        self.preparers: dict[str, Prepare] = {}
        self.flows: dict[str, Handler] = {}
        self.message_handlers: list[Handler] = []
        self.request_handlers: list[Handler] = []

    def command(
        self, name: str, *aliases: str, bare: bool = False, prepare: Prepare | None = None
    ) -> Callable[[H], H]:
        """Register `/name` (Latin, for Telegram) and its Chinese aliases.

        `bare`: a Chinese alias also works without the slash when a ticket number follows
        (`办结 1024`); other commands need the slash, so that chat such as "提醒5楼邻居…" or
        "统计一下…" is read as chat.
        `prepare`: read-only work run before the write transaction; the handler gets its
        result from `await match.prepared()`.
        """

        def register(handler: H) -> H:
            for spelling in (name, *aliases):
                self.commands[spelling] = (name, handler)
                if bare and spelling != name:
                    self.bare.add(spelling)
            if prepare is not None:
                self.preparers[name] = prepare
            return handler

        return register

    def flow(self, state: str) -> Callable[[H], H]:
        """Handle the next message of a user who is in conversation state `state`."""

        def register(handler: H) -> H:
            self.flows[state] = handler
            return handler

        return register

    def message(self) -> Callable[[H], H]:
        """Look at every non-command message first (ballots, ratings); return None to pass."""

        def register(handler: H) -> H:
            self.message_handlers.append(handler)
            return handler

        return register

    def request(self) -> Callable[[H], H]:
        """Handle a message the classifier recognised as a request."""

        def register(handler: H) -> H:
            self.request_handlers.append(handler)
            return handler

        return register


class RouteTable:
    """All routers merged; finds the command a text starts with."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: dict[str, tuple[str, Handler]] = {}
        self.bare: set[str] = set()
        self.preparers: dict[str, Prepare] = {}
        self.flows: dict[str, Handler] = {}
        self.message_handlers: list[Handler] = []
        self.request_handlers: list[Handler] = []
        for router in routers:
            for spelling, entry in router.commands.items():
                if spelling in self.commands:
                    raise ValueError(f"command {spelling!r} registered twice")
                self.commands[spelling] = entry
            self.bare |= router.bare
            self.preparers.update(router.preparers)
            self.flows.update(router.flows)
            self.message_handlers.extend(router.message_handlers)
            self.request_handlers.extend(router.request_handlers)
        # Longest spelling first, so "/ticket" is not taken for "/tickets" or vice versa.
        self._spellings = sorted(self.commands, key=len, reverse=True)

    def match_command(self, text: str) -> tuple[Match, Handler] | None:
        """`/name args`, or a bare Chinese alias followed by a number (`工单 1024`)."""
        slashed = text.startswith("/")
        body = text[1:] if slashed else text
        for spelling in self._spellings:
            if not body.startswith(spelling):
                continue
            rest = body[len(spelling) :]
            if not slashed and not (spelling in self.bare and rest.lstrip()[:1].isdigit()):
                continue
            if not _ends_command(rest, latin=_LATIN_NAME.fullmatch(spelling) is not None):
                continue
            name, handler = self.commands[spelling]
            return Match(command=name, args=rest.strip()), handler
        return None


def _ends_command(rest: str, *, latin: bool) -> bool:
    """A Latin command word ends at a space; a Chinese one also at a digit or other text."""
    if not rest or rest[0].isspace():
        return True
    return not latin and (rest[0].isdigit() or not rest[0].isascii())
