"""WeChat through a Wechaty puppet service (python-wechaty 0.10.7): the adapter turns puppet events
into neutral events (translation in wechat_messages.py) and sends at a pace WeChat tolerates
(wechat_pacing.py); wechat_connection.py keeps the connection up, wechat_puppet.py tames the SDK.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.adapters.base import DeliveryError, EventSink
from bot.adapters.wechat_connection import (
    Inbound,
    LoggedIn,
    LoggedOut,
    MessageArrived,
    RoomJoined,
    RoomLeft,
    WechatConnection,
)
from bot.adapters.wechat_messages import (
    MessageKind,
    RawMessage,
    RecentChoices,
    RecentMessages,
    sent_at_of,
    to_incoming,
)
from bot.adapters.wechat_options import WechatOptions
from bot.adapters.wechat_pacing import (
    DailyCapReached,
    PacingClock,
    SendPacer,
    SystemPacingClock,
    split_text,
    with_numbered_choices,
)
from bot.adapters.wechat_puppet import (
    PUPPET_ERRORS,
    base64_file_box,
    describe,
    file_box_bytes,
    is_transient,
    kind_of,
    safe_name,
    send_failure,
    write_file,
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

logger = logging.getLogger(__name__)
# Characters each piece of a room reply leaves for the "@name " that mentions whom it answers.
MENTION_NAME_LIMIT = 32
MENTION_RESERVE = MENTION_NAME_LIMIT + 2


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
        self._connection = WechatConnection(options)
        self._sink: EventSink | None = None
        self._self_name = ""
        self._login_generation = 0
        self._session_announced = False
        self._removed_rooms: set[str] = set()

    @property
    def logged_in(self) -> bool:
        """Whether the WeChat account is logged in on the puppet service, as far as we know."""
        return self._connection.logged_in

    @property
    def pacer(self) -> SendPacer:
        """The send pacer (its history shows the pacing actually applied)."""
        return self._pacer

    # -- receiving -----------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        """Stay connected until cancelled, passing messages and platform events to `sink`."""
        self._sink = sink
        await self._connection.open(sink)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._consume(), name="wechat-inbound")
                await self._connection.supervise()
        finally:
            await self._pacer.close()
            self._connection.close()
            logger.info("WeChat adapter stopped")

    async def _consume(self) -> None:
        while True:
            await self._handle_with_retries(await self._connection.next_event())

    async def _handle_with_retries(self, item: Inbound) -> None:
        attempts = self._options.handle_attempts
        for attempt in range(1, attempts + 1):
            generation = self._connection.generation
            try:
                await self._handle(item)
            except PUPPET_ERRORS as error:
                if not is_transient(error):
                    logger.warning("WeChat: cannot handle %s: %s", item, describe(error))
                    return
                if attempt == attempts:
                    logger.exception("WeChat: gave up on %s", item)
                    return
                logger.info("WeChat: %s failed (%s), retrying", item, describe(error))
                await self._connection.next_connection(generation)
            else:
                return

    async def _handle(self, item: Inbound) -> None:
        match item:
            case MessageArrived(message_id):
                await self._on_message(message_id)
            case LoggedIn(contact_id):
                await self._on_login(contact_id)
            case LoggedOut(contact_id, reason):
                self._session_announced = False
                logger.error(
                    "WeChat account %s logged out (%s): Linli cannot read or send WeChat "
                    "messages until it is logged in again on the puppet service",
                    contact_id,
                    reason,
                )
                await self._emit(PlatformDown(Platform.WECHAT, f"logged out: {reason}"))
            case RoomJoined(room_id, invitee_ids, timestamp):
                await self._on_room_join(room_id, invitee_ids, timestamp)
            case RoomLeft(room_id, removed_ids):
                if self._connection.self_id in removed_ids:
                    logger.warning("WeChat: Linli was removed from room %s", room_id)
                    self._removed_rooms.add(room_id)
                    await self._emit(BotRemoved(ChatRef(Platform.WECHAT, room_id)))

    async def _on_login(self, contact_id: str) -> None:
        # The service announces the login on every new stream, sometimes twice.
        if self._login_generation == self._connection.generation:
            return
        contact = self._connection.bot.ContactSelf.load(contact_id)
        await contact.ready()
        rooms = await self._connection.puppet.room_list()
        self._self_name = str(contact.name)
        self._login_generation = self._connection.generation
        if self._session_announced:
            logger.info("WeChat connection restored, still logged in as %s", contact_id)
        else:
            self._session_announced = True
            logger.info("WeChat logged in as %s, in %d rooms", contact_id, len(rooms))

    async def _on_message(self, message_id: str) -> None:
        message = self._connection.bot.Message.load(message_id)
        await message.ready()
        payload = message.payload
        sender_id, room_id = str(payload.from_id), str(payload.room_id)
        if sender_id == self._connection.self_id:
            return
        kind = kind_of(message.type())
        text = str(payload.text or "")
        chat_id = room_id or sender_id
        image_path = None
        if kind is MessageKind.IMAGE:
            image_path = await self._save_image(message_id, chat_id)
        names = [self._self_name]
        if room_id and "@" in text:
            self_id = self._connection.self_id
            names.append(await self._connection.display_name(room_id, self_id, self._self_name))
        raw = RawMessage(
            message_id=message_id,
            kind=kind,
            text=text,
            sender_id=sender_id,
            sender_name=await self._connection.display_name(
                room_id, sender_id, message.talker().name
            ),
            room_id=room_id,
            mention_ids=tuple(str(i) for i in payload.mention_ids or ()),
            timestamp=int(payload.timestamp or 0),
            image_path=image_path,
        )
        incoming = to_incoming(
            raw,
            self_id=self._connection.self_id,
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

    async def _save_image(self, message_id: str, chat_id: str) -> str | None:
        file_box = await self._connection.puppet.image_file_box(message_id)
        limit = self._options.image_limit_bytes
        try:
            data = await asyncio.to_thread(file_box_bytes, file_box, limit)
        except (ValueError, KeyError) as error:
            logger.warning("WeChat: picture %s unusable: %s", message_id, error)
            return None
        name = str(json.loads(file_box).get("name") or "")
        suffix = Path(name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".jpg"
        directory = self._options.data_dir / "images" / safe_name(chat_id)
        path = directory / f"{safe_name(message_id)}{suffix}"
        await asyncio.to_thread(write_file, path, data)
        return str(path)

    async def _on_room_join(self, room_id: str, invitee_ids: tuple[str, ...], at: int) -> None:
        for invitee_id in invitee_ids:
            if invitee_id == self._connection.self_id:
                # Linli itself was added to a room (again): it may speak there.
                self._removed_rooms.discard(room_id)
                continue
            contact = self._connection.bot.Contact.load(invitee_id)
            await contact.ready()
            member = UserRef(Platform.WECHAT, invitee_id, str(contact.name))
            event_id = f"room-join:{room_id}:{invitee_id}:{at}"
            joined_at = sent_at_of(at, self._clock.now()) if at > 0 else None
            await self._emit(
                MemberJoined(ChatRef(Platform.WECHAT, room_id), member, event_id, joined_at)
            )

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
        if not self._connection.connected or not self._connection.logged_in:
            raise DeliveryError("WeChat is not connected or not logged in", permanent=False)
        text = with_numbered_choices(message.text, message.buttons)
        # A reply in a room @mentions whom it answers. The pieces leave room for the mention
        # whatever the name turns out to be, so a retry cuts the text at the same places.
        mentioned = message.reply_to_user_id if message.chat.is_group else None
        limit = self._options.text_limit - (MENTION_RESERVE if mentioned else 0)
        pieces = split_text(text, limit) if text.strip() else []
        parts: list[Callable[[], Awaitable[None]]] = []
        if message.image is not None:
            parts.append(functools.partial(self._send_image, chat_id, message.image))
        parts += [
            functools.partial(self._send_text, chat_id, piece, mentioned if i == 0 else None)
            for i, piece in enumerate(pieces)
        ]
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
        await self._send_file(chat_id, base64_file_box(Path(image).name, data))

    async def _paced(
        self, message: OutgoingMessage, deliver: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            await self._pacer.acquire(message.chat.chat_id, urgent=message.urgent)
        except DailyCapReached as error:
            raise DeliveryError(str(error), permanent=False) from error
        try:
            await deliver()
        except PUPPET_ERRORS as error:
            raise send_failure(error) from error

    async def _send_text(self, chat_id: str, text: str, mention_id: str | None = None) -> None:
        name = await self._mention_name(chat_id, mention_id) if mention_id else None
        if name is None or mention_id is None:
            await self._connection.puppet.message_send_text(chat_id, text)
            return
        # As WeChat writes a mention: "@name" and a quarter-em space, and the member's id.
        await self._connection.puppet.message_send_text(
            chat_id, f"@{name}\u2005{text}", [mention_id]
        )

    async def _mention_name(self, room_id: str, contact_id: str) -> str | None:
        """The name to @mention a member by (group nickname, else WeChat name), so an older
        resident sees that an answer is for them; None when it cannot be found."""
        try:
            name = await self._connection.display_name(room_id, contact_id, "")
            if not name:
                contact = self._connection.bot.Contact.load(contact_id)
                await contact.ready()
                name = str(contact.name or "")
        except Exception:  # the mention is a courtesy: without a name the answer still goes
            logger.debug("WeChat: no name to mention %s in %s", contact_id, room_id, exc_info=True)
            return None
        return name[:MENTION_NAME_LIMIT] or None

    async def _send_file(self, chat_id: str, file_box: str) -> None:
        await self._connection.puppet.send_file_box(chat_id, file_box)

    async def _read_image(self, path: str) -> bytes:
        try:
            return await asyncio.to_thread(Path(path).read_bytes)
        except OSError as error:
            raise DeliveryError(f"cannot read picture {path}: {error}", permanent=True) from error
