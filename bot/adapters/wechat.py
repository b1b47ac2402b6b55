"""WeChat through a Wechaty puppet service (python-wechaty 0.10.7), made dependable: the adapter
owns reconnection, a silence watchdog, logouts and shutdown, turns puppet events into neutral
events (translation in wechat_messages.py) and sends at a pace WeChat tolerates (wechat_pacing.py).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import importlib
import json
import logging
import os
import random
import re
import sys
import urllib.request
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.adapters.base import DeliveryError, EventSink
from bot.adapters.wechat_messages import (
    MessageKind,
    RawMessage,
    RecentChoices,
    RecentMessages,
    to_incoming,
)
from bot.adapters.wechat_pacing import (
    DailyCapReached,
    PacingClock,
    PacingPolicy,
    SendPacer,
    SystemPacingClock,
    split_text,
    with_numbered_choices,
)
from bot.events import (
    BotRemoved,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    OutgoingMessage,
    Platform,
    PlatformDown,
    UserRef,
)

with warnings.catch_warnings():
    # The puppet-service client imports telnetlib and pyee's old AsyncIOEventEmitter path; both
    # warn on Python 3.11, and the test suite turns warnings into errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    from grpclib.client import Channel
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError, StreamTerminatedError
    from wechaty_grpc.wechaty import PuppetStub
    from wechaty_grpc.wechaty.puppet import ImageType, MessageType
    from wechaty_puppet.exceptions import WechatyPuppetError
    from wechaty_puppet.schemas.puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService

# python-wechaty 0.10.7 declares `WechatyOptions.puppet_options: PuppetOptions = PuppetOptions()`.
# PuppetOptions is a plain (unfrozen) dataclass, so its __hash__ is None, and Python 3.11's
# dataclasses reject such a default as mutable: `import wechaty` fails. Identity hashing is
# what that default had before 3.11; this must run before wechaty is first imported.
PuppetOptions.__hash__ = object.__hash__

logger = logging.getLogger(__name__)

# Errors that mean "the connection is gone or going": retry after reconnecting.
_CONNECTION_ERRORS = (StreamTerminatedError, ConnectionError, OSError, TimeoutError)
_TRANSIENT_STATUSES = frozenset(
    {Status.UNAVAILABLE, Status.CANCELLED, Status.DEADLINE_EXCEEDED, Status.UNKNOWN}
)
# A send that fails with these can never succeed: the chat is gone or closed to the bot.
_PERMANENT_STATUSES = frozenset({Status.NOT_FOUND, Status.PERMISSION_DENIED})
_FILE_BOX_BASE64, _FILE_BOX_URL = 1, 2
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.@-]")


@dataclass(frozen=True, slots=True)
class WechatOptions:
    """Connection, pacing and supervision settings for the WeChat adapter."""

    endpoint: str
    token: str = field(repr=False)
    data_dir: Path
    min_interval_per_room_seconds: float = 3.0
    min_interval_overall_seconds: float = 1.5
    jitter_seconds: float = 2.0
    daily_cap: int = 500
    watchdog_seconds: float = 120.0
    reconnect_max_backoff_seconds: float = 60.0
    reconnect_initial_backoff_seconds: float = 1.0
    shutdown_timeout_seconds: float = 3.0
    text_limit: int = 2000
    choices_ttl_seconds: float = 3 * 24 * 3600
    timezone_name: str = "Asia/Shanghai"
    random_seed: int | None = None
    handle_attempts: int = 3
    image_limit_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.token:
            # Without a token python-wechaty connects and then hangs without a word.
            raise ValueError("WeChat needs WECHATY_PUPPET_SERVICE_TOKEN")
        host, _, port = self.endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(
                f"WECHATY_PUPPET_SERVICE_ENDPOINT must be host:port, got {self.endpoint!r}"
            )

    def pacing_policy(self) -> PacingPolicy:
        """The pacing numbers, for SendPacer."""
        return PacingPolicy(
            min_interval_per_room_seconds=self.min_interval_per_room_seconds,
            min_interval_overall_seconds=self.min_interval_overall_seconds,
            jitter_seconds=self.jitter_seconds,
            daily_cap=self.daily_cap,
            timezone_name=self.timezone_name,
        )


# -- python-wechaty plumbing -------------------------------------------------------------------


class _RedactSecret(logging.Filter):
    """python-wechaty logs the puppet token in clear at WARNING; mask it."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg, record.args = message.replace(self._secret, "***"), None
        return True


def _library_loggers() -> list[logging.Logger]:
    # python-wechaty builds its loggers at import with their own console handlers.
    roots = {"wechaty", "wechaty_puppet", "wechaty_puppet_service"}
    found: dict[str, logging.Logger] = {}
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in roots:
            for value in list(vars(module).values()):
                if isinstance(value, logging.Logger):
                    found[value.name] = value
    return list(found.values())


def _adopt_library_loggers(redactor: logging.Filter) -> None:
    """Route python-wechaty's logs through ours: WARNING and up (its INFO lines carry message
    payloads and names), token masked."""
    for library_logger in _library_loggers():
        library_logger.handlers.clear()
        library_logger.propagate = True
        library_logger.setLevel(logging.WARNING)
    for any_logger in (*_library_loggers(), *_header_loggers()):
        any_logger.addFilter(redactor)


def _header_loggers() -> list[logging.Logger]:
    # HTTP/2's header codec logs every header at DEBUG, the token-carrying :authority too.
    return [logging.getLogger(name) for name in ("hpack.hpack", "hpack.table")]


def _release_library_loggers(redactor: logging.Filter) -> None:
    for any_logger in (*_library_loggers(), *_header_loggers()):
        any_logger.removeFilter(redactor)


def _load_wechaty(cache_dir: Path) -> ModuleType:
    """Import python-wechaty with its cache under Linli's data folder.

    It reads CACHE_DIR once, at import, and would otherwise create `.wechaty/` in the working
    directory; a second adapter in the same process shares the first one's folder.
    """
    if "wechaty" not in sys.modules:
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.environ["CACHE_DIR"] = str(cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("wechaty")


class _PuppetConnection(PuppetService):
    """python-wechaty's gRPC puppet client, minus its blocking connect and its file helpers."""

    def _init_puppet(self) -> None:
        # The library first pings the endpoint with a blocking telnetlib connect (up to 3 s on
        # the event loop) and, without an endpoint, asks a public web service for one. Linli
        # always has an endpoint and learns it is unreachable from the first call instead.
        host, _, port = str(self.options.end_point).rpartition(":")
        self.channel = Channel(host=host, port=int(port))
        # Puppet services read the token from the HTTP/2 :authority of each call (plaintext).
        self.channel._authority = self.options.token
        self._puppet_stub = PuppetStub(self.channel)

    @property
    def connected(self) -> bool:
        """Whether a channel is open."""
        return self._puppet_stub is not None

    def disconnect(self) -> None:
        """Close the channel; calls in flight fail and later ones fail fast."""
        if self.channel is not None:
            self.channel.close()
        self.channel, self._puppet_stub = None, None

    async def stop_service(self) -> None:
        """Tell the service we stop (what python-wechaty's stop() does, minus the cleanup)."""
        await self.puppet_stub.stop()

    async def image_file_box(self, message_id: str) -> str:
        """The FileBox JSON of a picture message, in full resolution if the service has it.

        Called on the stub: the library's FileBox parser calls the deprecated Logger.warn.
        """
        try:
            response = await self.puppet_stub.message_image(
                id=message_id, type=ImageType.IMAGE_TYPE_HD
            )
        except GRPCError as error:
            if error.status is not Status.UNIMPLEMENTED:
                raise
            response = await self.puppet_stub.message_file(id=message_id)
        return str(response.filebox)

    async def send_file_box(self, conversation_id: str, file_box: str) -> None:
        """Send a file given as FileBox JSON."""
        await self.puppet_stub.message_send_file(conversation_id=conversation_id, filebox=file_box)


def _safe_name(identifier: str) -> str:
    return _SAFE_NAME.sub("_", identifier)[:120] or "_"


def _file_box_bytes(file_box: str, limit: int) -> bytes:
    """Decode a FileBox JSON (base64 inline, or a URL to fetch); blocking, run in a thread."""
    box = json.loads(file_box)
    if box.get("boxType") == _FILE_BOX_BASE64:
        data = base64.b64decode(box["base64"])
    elif box.get("boxType") == _FILE_BOX_URL and str(box.get("remoteUrl", "")).startswith(
        ("http://", "https://")
    ):
        with urllib.request.urlopen(box["remoteUrl"], timeout=30) as response:
            data = response.read(limit + 1)
    else:
        raise ValueError(f"unsupported FileBox type {box.get('boxType')!r}")
    if len(data) > limit:
        raise ValueError(f"file larger than {limit} bytes")
    return bytes(data)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _describe(error: BaseException) -> str:
    if isinstance(error, GRPCError):
        return f"{error.status.name}: {error.message}"
    return repr(error)


def _is_transient(error: Exception) -> bool:
    if isinstance(error, GRPCError):
        return error.status in _TRANSIENT_STATUSES
    # The library raises WechatyPuppetError when called between connections (no stub).
    return isinstance(error, (*_CONNECTION_ERRORS, WechatyPuppetError))


# -- events between the puppet's listeners and the handler ---------------------------------------


@dataclass(frozen=True, slots=True)
class _LoggedIn:
    contact_id: str


@dataclass(frozen=True, slots=True)
class _LoggedOut:
    contact_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class _MessageArrived:
    message_id: str


@dataclass(frozen=True, slots=True)
class _RoomJoined:
    room_id: str
    invitee_ids: tuple[str, ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class _RoomLeft:
    room_id: str
    removed_ids: tuple[str, ...]


_Inbound = _LoggedIn | _LoggedOut | _MessageArrived | _RoomJoined | _RoomLeft


class WechatAdapter:
    """Linli in WeChat groups and private chats through a Wechaty puppet service."""

    platform = Platform.WECHAT

    def __init__(self, options: WechatOptions, *, clock: PacingClock | None = None) -> None:
        self._options = options
        self._clock = clock or SystemPacingClock()
        self._pacer = SendPacer(
            options.pacing_policy(), self._clock, random.Random(options.random_seed)
        )
        self._recent = RecentMessages()
        self._choices = RecentChoices(options.choices_ttl_seconds)
        self._puppet: _PuppetConnection | None = None
        # python-wechaty's Wechaty object: its Message/Room/Contact classes load payloads.
        self._bot: Any = None
        self._sink: EventSink | None = None
        self._inbox: deque[_Inbound] = deque()
        self._inbox_ready = asyncio.Event()
        self._generation = 0
        self._live_generation = 0
        self._live = asyncio.Event()
        self._last_event_at = 0.0
        self._logged_in = False
        self._logged_in_this_connection = False
        self._self_id = ""
        self._self_name = ""
        self._login_generation = 0
        self._session_announced = False
        self._display_names: dict[tuple[str, str], str] = {}
        self._removed_rooms: set[str] = set()
        self._token_rejected = False

    @property
    def logged_in(self) -> bool:
        """Whether the WeChat account is logged in on the puppet service, as far as we know."""
        return self._logged_in

    @property
    def pacer(self) -> SendPacer:
        """The send pacer (its history shows the pacing actually applied)."""
        return self._pacer

    # -- receiving -----------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        """Stay connected until cancelled, passing messages and platform events to `sink`."""
        self._sink = sink
        redactor = _RedactSecret(self._options.token)
        # Importing python-wechaty takes about half a second: not on the event loop.
        wechaty = await asyncio.to_thread(_load_wechaty, self._options.data_dir / "wechaty")
        _adopt_library_loggers(redactor)
        options = PuppetOptions(token=self._options.token, end_point=self._options.endpoint)
        with warnings.catch_warnings():
            # pyee's relocated AsyncIOEventEmitter warns on construction (see the imports).
            warnings.simplefilter("ignore", DeprecationWarning)
            self._puppet = _PuppetConnection(options)
            self._bot = wechaty.Wechaty(
                wechaty.WechatyOptions(puppet=self._puppet, puppet_options=options)
            )
        self._listen(self._puppet)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._consume(), name="wechat-inbound")
                await self._supervise()
        finally:
            await self._pacer.close()
            self._puppet.disconnect()
            _release_library_loggers(redactor)
            logger.info("WeChat adapter stopped")

    def _listen(self, puppet: _PuppetConnection) -> None:
        # Listeners are plain functions that only queue: python-wechaty calls them inline while
        # reading the event stream, and one consumer keeps events in their order.
        puppet.on("login", self._heard_login)
        puppet.on("logout", self._heard_logout)
        puppet.on("message", lambda p: self._queue(_MessageArrived(p.message_id)))
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

    def _queue(self, item: _Inbound) -> None:
        self._touch()
        self._inbox.append(item)
        self._inbox_ready.set()

    def _heard_login(self, payload: Any) -> None:
        self._self_id = str(payload.contact_id)
        self._logged_in = self._logged_in_this_connection = True
        self._queue(_LoggedIn(self._self_id))

    def _heard_logout(self, payload: Any) -> None:
        was_logged_in, self._logged_in = self._logged_in, False
        self._touch()
        if was_logged_in:
            self._queue(_LoggedOut(str(payload.contact_id), str(payload.data or "logout")))

    def _heard_room_join(self, payload: Any) -> None:
        invitees = tuple(str(i) for i in payload.invited_ids or ())
        self._queue(_RoomJoined(str(payload.room_id), invitees, int(payload.timestamp or 0)))

    def _heard_room_leave(self, payload: Any) -> None:
        self._queue(_RoomLeft(str(payload.room_id), tuple(str(i) for i in payload.removed_ids)))

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

    async def _supervise(self) -> None:
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
        if isinstance(error, GRPCError) and error.status is Status.UNAUTHENTICATED:
            logger.error(
                "WeChat puppet service at %s rejected the token: check "
                "WECHATY_PUPPET_SERVICE_TOKEN",
                self._options.endpoint,
            )
            if not self._token_rejected:
                self._token_rejected = True
                await self._emit(PlatformDown(Platform.WECHAT, "puppet service rejected the token"))
        elif not isinstance(error, (GRPCError, *_CONNECTION_ERRORS)):
            logger.error("WeChat event stream failed", exc_info=error)
        return _describe(error)

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
        except (GRPCError, *_CONNECTION_ERRORS) as error:
            logger.info("WeChat puppet service did not confirm Stop: %s", _describe(error))

    async def _consume(self) -> None:
        while True:
            while not self._inbox:
                self._inbox_ready.clear()
                await self._inbox_ready.wait()
            await self._handle_with_retries(self._inbox.popleft())

    async def _handle_with_retries(self, item: _Inbound) -> None:
        attempts = self._options.handle_attempts
        for attempt in range(1, attempts + 1):
            generation = self._generation
            try:
                await self._handle(item)
            except (GRPCError, WechatyPuppetError, *_CONNECTION_ERRORS) as error:
                if not _is_transient(error):
                    logger.warning("WeChat: cannot handle %s: %s", item, _describe(error))
                    return
                if attempt == attempts:
                    logger.exception("WeChat: gave up on %s", item)
                    return
                logger.info("WeChat: %s failed (%s), retrying", item, _describe(error))
                await self._next_connection(generation)
            else:
                return

    async def _next_connection(self, generation: int) -> None:
        """Wait until a newer connection has delivered an event, or one back-off at most."""
        try:
            async with asyncio.timeout(self._options.reconnect_max_backoff_seconds):
                while self._live_generation <= generation:
                    self._live.clear()
                    await self._live.wait()
        except TimeoutError:
            return

    async def _handle(self, item: _Inbound) -> None:
        match item:
            case _MessageArrived(message_id):
                await self._on_message(message_id)
            case _LoggedIn(contact_id):
                await self._on_login(contact_id)
            case _LoggedOut(contact_id, reason):
                self._session_announced = False
                logger.error(
                    "WeChat account %s logged out (%s): Linli cannot read or send WeChat "
                    "messages until it is logged in again on the puppet service",
                    contact_id,
                    reason,
                )
                await self._emit(PlatformDown(Platform.WECHAT, f"logged out: {reason}"))
            case _RoomJoined(room_id, invitee_ids, timestamp):
                await self._on_room_join(room_id, invitee_ids, timestamp)
            case _RoomLeft(room_id, removed_ids):
                if self._self_id in removed_ids:
                    logger.warning("WeChat: Linli was removed from room %s", room_id)
                    self._removed_rooms.add(room_id)
                    await self._emit(BotRemoved(ChatRef(Platform.WECHAT, room_id)))

    async def _on_login(self, contact_id: str) -> None:
        # The service announces the login on every new stream, sometimes twice.
        if self._login_generation == self._generation:
            return
        contact = self._bot.ContactSelf.load(contact_id)
        await contact.ready()
        assert self._puppet is not None
        rooms = await self._puppet.room_list()
        self._self_name = str(contact.name)
        self._login_generation = self._generation
        if self._session_announced:
            logger.info("WeChat connection restored, still logged in as %s", contact_id)
        else:
            self._session_announced = True
            logger.info("WeChat logged in as %s, in %d rooms", contact_id, len(rooms))

    async def _on_message(self, message_id: str) -> None:
        message = self._bot.Message.load(message_id)
        await message.ready()
        payload = message.payload
        sender_id, room_id = str(payload.from_id), str(payload.room_id)
        if sender_id == self._self_id:
            return
        kind = _kind_of(message.type())
        text = str(payload.text or "")
        chat_id = room_id or sender_id
        image_path = None
        if kind is MessageKind.IMAGE:
            image_path = await self._save_image(message_id, chat_id)
        names = [self._self_name]
        if room_id and "@" in text:
            names.append(await self._display_name(room_id, self._self_id, self._self_name))
        raw = RawMessage(
            message_id=message_id,
            kind=kind,
            text=text,
            sender_id=sender_id,
            sender_name=await self._display_name(room_id, sender_id, message.talker().name),
            room_id=room_id,
            mention_ids=tuple(str(i) for i in payload.mention_ids or ()),
            timestamp=int(payload.timestamp or 0),
            image_path=image_path,
        )
        incoming = to_incoming(
            raw,
            self_id=self._self_id,
            self_names=names,
            received_at=self._clock.now(),
            quote_lookup=self._recent.find,
            choices=self._choices.current(chat_id, self._clock.monotonic()),
        )
        if incoming is None:
            logger.debug("WeChat: ignored message %s of type %s", message_id, message.type())
            return
        if kind is MessageKind.TEXT:
            self._recent.remember(chat_id, text, message_id)
        await self._emit(incoming)

    async def _display_name(self, room_id: str, contact_id: str, fallback: str) -> str:
        """The member's group nickname (often a flat number), else their WeChat name."""
        key = (room_id, contact_id)
        if key not in self._display_names:
            alias = ""
            if room_id:
                assert self._puppet is not None
                try:
                    member = await self._puppet.room_member_payload(room_id, contact_id)
                    alias = str(member.room_alias or "")
                except GRPCError as error:
                    if error.status is not Status.NOT_FOUND:
                        raise
            self._display_names[key] = alias or str(fallback or "")
        return self._display_names[key]

    async def _save_image(self, message_id: str, chat_id: str) -> str | None:
        assert self._puppet is not None
        file_box = await self._puppet.image_file_box(message_id)
        limit = self._options.image_limit_bytes
        try:
            data = await asyncio.to_thread(_file_box_bytes, file_box, limit)
        except (ValueError, KeyError) as error:
            logger.warning("WeChat: picture %s unusable: %s", message_id, error)
            return None
        name = str(json.loads(file_box).get("name") or "")
        suffix = Path(name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".jpg"
        directory = self._options.data_dir / "images" / _safe_name(chat_id)
        path = directory / f"{_safe_name(message_id)}{suffix}"
        await asyncio.to_thread(_write_file, path, data)
        return str(path)

    async def _on_room_join(self, room_id: str, invitee_ids: tuple[str, ...], at: int) -> None:
        for invitee_id in invitee_ids:
            if invitee_id == self._self_id:
                # Linli itself was added to a room (again): it may speak there.
                self._removed_rooms.discard(room_id)
                continue
            contact = self._bot.Contact.load(invitee_id)
            await contact.ready()
            member = UserRef(Platform.WECHAT, invitee_id, str(contact.name))
            event_id = f"room-join:{room_id}:{invitee_id}:{at}"
            await self._emit(MemberJoined(ChatRef(Platform.WECHAT, room_id), member, event_id))

    async def _emit(
        self, event: IncomingMessage | BotRemoved | MemberJoined | PlatformDown
    ) -> None:
        assert self._sink is not None
        await self._sink(event)

    # -- sending -------------------------------------------------------------------------------

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one outbox message: picture first, then the text in pieces, all paced."""
        chat_id = message.chat.chat_id
        if chat_id in self._removed_rooms:
            raise DeliveryError(f"Linli was removed from WeChat room {chat_id}", permanent=True)
        if message.image is not None and message.image.startswith("telegram:"):
            raise DeliveryError("a Telegram file id cannot be sent on WeChat", permanent=True)
        text = with_numbered_choices(message.text, message.buttons)
        pieces = split_text(text, self._options.text_limit) if text.strip() else []
        if self._puppet is None or not self._puppet.connected or not self._logged_in:
            raise DeliveryError("WeChat is not connected or not logged in", permanent=False)
        parts: list[Callable[[], Awaitable[None]]] = []
        if message.image is not None:
            parts.append(functools.partial(self._send_image, chat_id, message.image))
        parts += [functools.partial(self._send_text, chat_id, piece) for piece in pieces]
        sent = message.parts_sent  # delivered by an earlier attempt: not again
        if not message.urgent and self._pacer.remaining_today() < len(parts) - sent:
            raise DeliveryError("WeChat daily cap reached", permanent=False, parts_sent=sent)
        for part in parts[sent:]:
            try:
                await self._paced(message, part)
            except DeliveryError as error:
                raise DeliveryError(
                    str(error), permanent=error.permanent, parts_sent=sent
                ) from error
            sent += 1
        # A bare number answers the last thing Linli said in a chat: once a message without
        # choices follows (such as "回复 1 确认" typed out in the text), "1" is plain text again.
        if message.buttons:
            self._choices.remember(chat_id, message.buttons, self._clock.monotonic())
        else:
            self._choices.forget(chat_id)

    async def _send_image(self, chat_id: str, image: str) -> None:
        data = await self._read_image(image)
        await self._send_file(chat_id, _base64_file_box(Path(image).name, data))

    async def _paced(
        self, message: OutgoingMessage, deliver: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            await self._pacer.acquire(message.chat.chat_id, urgent=message.urgent)
        except DailyCapReached as error:
            raise DeliveryError(str(error), permanent=False) from error
        try:
            await deliver()
        except GRPCError as error:
            permanent = error.status in _PERMANENT_STATUSES
            raise DeliveryError(
                f"WeChat refused: {_describe(error)}", permanent=permanent
            ) from error
        except (WechatyPuppetError, *_CONNECTION_ERRORS) as error:
            raise DeliveryError(
                f"WeChat connection: {_describe(error)}", permanent=False
            ) from error

    async def _send_text(self, chat_id: str, text: str) -> None:
        assert self._puppet is not None
        await self._puppet.message_send_text(chat_id, text)

    async def _send_file(self, chat_id: str, file_box: str) -> None:
        assert self._puppet is not None
        await self._puppet.send_file_box(chat_id, file_box)

    async def _read_image(self, path: str) -> bytes:
        try:
            return await asyncio.to_thread(Path(path).read_bytes)
        except OSError as error:
            raise DeliveryError(f"cannot read picture {path}: {error}", permanent=True) from error


def _base64_file_box(name: str, data: bytes) -> str:
    # Built by hand: FileBox.to_json_str() reads the deprecated `mimeType` property, which
    # calls Logger.warn.
    box = {"boxType": _FILE_BOX_BASE64, "name": name, "base64": base64.b64encode(data).decode()}
    return json.dumps({**box, "metadata": {}})


def _kind_of(message_type: MessageType) -> MessageKind:
    if message_type == MessageType.MESSAGE_TYPE_TEXT:
        return MessageKind.TEXT
    if message_type == MessageType.MESSAGE_TYPE_IMAGE:
        return MessageKind.IMAGE
    return MessageKind.OTHER
