"""The WeChat adapter's puppet service connection, made dependable: reconnection with back-off, a
silence watchdog, logins and logouts, shutdown, and the puppet's events queued in arrival order for
the adapter (bot/adapters/wechat.py) to handle.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from bot.adapters.base import EventSink
from bot.adapters.wechat_options import WechatOptions
from bot.adapters.wechat_puppet import (
    CALL_ERRORS,
    PuppetClient,
    RedactSecret,
    adopt_library_loggers,
    build_wechaty,
    describe,
    is_token_rejected,
    load_wechaty,
    release_library_loggers,
)
from bot.events import Platform, PlatformDown

logger = logging.getLogger(__name__)

# -- events between the puppet's listeners and the adapter's handler ------------------------------


@dataclass(frozen=True, slots=True)
class LoggedIn:
    contact_id: str


@dataclass(frozen=True, slots=True)
class LoggedOut:
    contact_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageArrived:
    message_id: str


@dataclass(frozen=True, slots=True)
class RoomJoined:
    room_id: str
    invitee_ids: tuple[str, ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class RoomLeft:
    room_id: str
    removed_ids: tuple[str, ...]


Inbound = LoggedIn | LoggedOut | MessageArrived | RoomJoined | RoomLeft


class WechatConnection:
    """One puppet service connection after another until cancelled, its events in `next_event`."""

    def __init__(self, options: WechatOptions) -> None:
        self._options = options
        self._redactor = RedactSecret(options.token)
        self._puppet: PuppetClient | None = None
        # python-wechaty's Wechaty object: its Message/Room/Contact classes load payloads.
        self._bot: Any = None
        self._sink: EventSink | None = None
        self._inbox: deque[Inbound] = deque()
        self._inbox_ready = asyncio.Event()
        self._generation = 0
        self._live_generation = 0
        self._live = asyncio.Event()
        self._last_event_at = 0.0
        self._logged_in = False
        self._logged_in_this_connection = False
        self._self_id = ""
        self._display_names: dict[tuple[str, str], str] = {}
        self._token_rejected = False

    @property
    def puppet(self) -> PuppetClient:
        """The gRPC puppet client (open() creates it)."""
        assert self._puppet is not None
        return self._puppet

    @property
    def bot(self) -> Any:
        """python-wechaty's Wechaty object, whose Message/Room/Contact classes load payloads."""
        return self._bot

    @property
    def connected(self) -> bool:
        """Whether a channel to the puppet service is open."""
        return self._puppet is not None and self._puppet.connected

    @property
    def logged_in(self) -> bool:
        """Whether the WeChat account is logged in on the puppet service, as far as we know."""
        return self._logged_in

    @property
    def self_id(self) -> str:
        """The contact id of the logged-in account (Linli itself)."""
        return self._self_id

    @property
    def generation(self) -> int:
        """Counts connections: it changes whenever a new one starts."""
        return self._generation

    async def open(self, sink: EventSink) -> None:
        """Load python-wechaty and set up the puppet client; `sink` hears a rejected token."""
        self._sink = sink
        # Importing python-wechaty takes about half a second: not on the event loop.
        wechaty = await asyncio.to_thread(load_wechaty, self._options.data_dir / "wechaty")
        adopt_library_loggers(self._redactor)
        self._puppet, self._bot = build_wechaty(
            wechaty, self._options.endpoint, self._options.token
        )
        self._listen(self._puppet)

    def close(self) -> None:
        """Drop the connection and give python-wechaty's loggers back."""
        self.puppet.disconnect()
        release_library_loggers(self._redactor)

    async def next_event(self) -> Inbound:
        """The oldest puppet event not yet handled, waiting for one if need be."""
        while not self._inbox:
            self._inbox_ready.clear()
            await self._inbox_ready.wait()
        return self._inbox.popleft()

    async def next_connection(self, generation: int) -> None:
        """Wait until a newer connection has delivered an event, or one back-off at most."""
        try:
            async with asyncio.timeout(self._options.reconnect_max_backoff_seconds):
                while self._live_generation <= generation:
                    self._live.clear()
                    await self._live.wait()
        except TimeoutError:
            return

    async def display_name(self, room_id: str, contact_id: str, fallback: str) -> str:
        """The member's group nickname (often a flat number), else their WeChat name."""
        key = (room_id, contact_id)
        if key in self._display_names:
            return self._display_names[key]
        alias = await self.puppet.room_alias(room_id, contact_id) if room_id else ""
        name = alias or str(fallback or "")
        if name:  # an empty name is not remembered: a later caller may know the WeChat name
            self._display_names[key] = name
        return name

    def _listen(self, puppet: PuppetClient) -> None:
        # Listeners are plain functions that only queue: python-wechaty calls them inline while
        # reading the event stream, and one consumer keeps events in their order.
        puppet.on("login", self._heard_login)
        puppet.on("logout", self._heard_logout)
        puppet.on("message", lambda p: self._queue(MessageArrived(p.message_id)))
        puppet.on("room-join", self._heard_room_join)
        puppet.on("room-leave", self._heard_room_leave)
        puppet.on("scan", self._heard_scan)
        puppet.on("error", self._heard_error)
        for quiet in ("heartbeat", "dong", "ready", "friendship", "room-invite", "room-topic"):
            puppet.on(quiet, lambda _payload: self._touch())

    def _touch(self) -> None:
        self._last_event_at = asyncio.get_running_loop().time()
        if self._live_generation != self._generation:
            self._live_generation = self._generation
            self._live.set()

    def _queue(self, item: Inbound) -> None:
        self._touch()
        self._inbox.append(item)
        self._inbox_ready.set()

    def _heard_login(self, payload: Any) -> None:
        self._self_id = str(payload.contact_id)
        self._logged_in = self._logged_in_this_connection = True
        self._queue(LoggedIn(self._self_id))

    def _heard_logout(self, payload: Any) -> None:
        was_logged_in, self._logged_in = self._logged_in, False
        self._touch()
        if was_logged_in:
            self._queue(LoggedOut(str(payload.contact_id), str(payload.data or "logout")))

    def _heard_room_join(self, payload: Any) -> None:
        invitees = tuple(str(i) for i in payload.invited_ids or ())
        self._queue(RoomJoined(str(payload.room_id), invitees, int(payload.timestamp or 0)))

    def _heard_room_leave(self, payload: Any) -> None:
        self._queue(RoomLeft(str(payload.room_id), tuple(str(i) for i in payload.removed_ids)))

    def _heard_scan(self, payload: Any) -> None:
        self._touch()
        logger.warning(
            "WeChat is not logged in: the puppet service waits for a QR scan (status %s)",
            payload.status,
        )

    def _heard_error(self, payload: Any) -> None:
        # Also receives exceptions from pyee itself, which reuses the "error" event name.
        self._touch()
        logger.warning("WeChat puppet service reported an error: %s", payload)

    async def supervise(self) -> None:
        """Connect, and reconnect after an increasing back-off, until cancelled."""
        backoff = self._options.reconnect_initial_backoff_seconds
        while True:
            reason = await self._connect_once()
            if self._logged_in_this_connection:
                backoff = self._options.reconnect_initial_backoff_seconds
            logger.warning(
                "WeChat puppet service connection ended (%s); reconnecting in %.3g s",
                reason,
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._options.reconnect_max_backoff_seconds)

    async def _connect_once(self) -> str:
        """One connection, from Start to its end; returns why it ended."""
        assert self._puppet is not None
        await self._bot.init_puppet()
        # python-wechaty keeps one Room and one Contact pool per process, shared by every
        # Wechaty and never refreshed: give each connection its own, so names and topics are
        # current and no object bound to another puppet is ever reused.
        for accessory in (self._bot.Contact, self._bot.ContactSelf, self._bot.Room):
            accessory._pool = {}
        self._display_names.clear()
        self._generation += 1
        self._logged_in_this_connection = False
        self._last_event_at = asyncio.get_running_loop().time()
        stream = asyncio.create_task(self._puppet.start(), name="wechat-event-stream")
        watchdog = asyncio.create_task(self._watch(), name="wechat-watchdog")
        try:
            await asyncio.wait({stream, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watchdog):
                task.cancel()
            await asyncio.gather(stream, watchdog, return_exceptions=True)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                await self._stop_service()
            self._puppet.disconnect()
        if watchdog.done() and not watchdog.cancelled():
            return f"no event for {self._options.watchdog_seconds:g} s"
        return await self._stream_end(stream)

    async def _stream_end(self, stream: asyncio.Task[None]) -> str:
        error = None if stream.cancelled() else stream.exception()
        if error is None:
            return "event stream closed"
        if is_token_rejected(error):
            logger.error(
                "WeChat puppet service at %s rejected the token: check "
                "WECHATY_PUPPET_SERVICE_TOKEN",
                self._options.endpoint,
            )
            if not self._token_rejected:
                self._token_rejected = True
                assert self._sink is not None
                await self._sink(PlatformDown(Platform.WECHAT, "puppet service rejected the token"))
        elif not isinstance(error, CALL_ERRORS):
            logger.error("WeChat event stream failed", exc_info=error)
        return describe(error)

    async def _watch(self) -> None:
        """Return when the connection has been silent too long while logged in."""
        limit = self._options.watchdog_seconds
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() - self._last_event_at
            if self._logged_in and idle >= limit:
                return
            await asyncio.sleep(limit - idle if self._logged_in else limit)

    async def _stop_service(self) -> None:
        assert self._puppet is not None
        if not self._puppet.connected:
            return
        try:
            async with asyncio.timeout(self._options.shutdown_timeout_seconds):
                await self._puppet.stop_service()
        except CALL_ERRORS as error:
            logger.info("WeChat puppet service did not confirm Stop: %s", describe(error))
