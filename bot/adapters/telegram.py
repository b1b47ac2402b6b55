"""Telegram adapter: python-telegram-bot 22.8 under Linli's own start-up (manual lifecycle).

Owns translating Bot API updates into neutral events, sending outbox messages within Telegram's
flood limits, and keeping the bot token out of every log line and error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from telegram import (
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import (
    CallbackQueryLimit,
    ChatMemberStatus,
    ChatType,
    MessageLimit,
    UpdateType,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.error import ChatMigrated as ChatMigratedError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    ExtBot,
    TypeHandler,
)

from bot.adapters.base import DeliveryError, EventSink
from bot.adapters.pacing import Pacer, SendSchedule
from bot.clock import Clock, SystemClock
from bot.events import (
    BotRemoved,
    ChatMigrated,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    OutgoingMessage,
    Platform,
    PlatformDown,
    PlatformEvent,
    UserRef,
)

logger = logging.getLogger(__name__)

Event = IncomingMessage | PlatformEvent
# PTB's Application is generic over its bot, context and (unused here) persistence data types.
TelegramApplication = Application[
    ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]

ALLOWED_UPDATES: Final = (
    UpdateType.MESSAGE,
    UpdateType.EDITED_MESSAGE,
    UpdateType.CHANNEL_POST,
    UpdateType.EDITED_CHANNEL_POST,
    UpdateType.CALLBACK_QUERY,
    UpdateType.MY_CHAT_MEMBER,
)
TEXT_LIMIT: Final = int(MessageLimit.MAX_TEXT_LENGTH)
CAPTION_LIMIT: Final = int(MessageLimit.CAPTION_LENGTH)
CALLBACK_ANSWER_LIMIT: Final = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)
FILE_REF_PREFIX: Final = "telegram:"
_REMOVED_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
_GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})
_COMMAND_FOR_BOT = re.compile(r"^/([^\s@/]+)@([A-Za-z0-9_]{3,32})(?=\s|$)")


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """How the adapter receives updates and paces sends (mirrors `[telegram]` in the config)."""

    mode: str = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    per_group_per_minute: int = 20
    overall_per_second: float = 25
    poll_timeout_seconds: int = 10
    retry_after_attempts: int = 3
    connect_wait_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in ("polling", "webhook"):
            raise ValueError(f'telegram mode must be "polling" or "webhook", got {self.mode!r}')
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("telegram webhook mode needs webhook_url")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is on Telegram, as getMe told us."""

    user_id: int
    username: str


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """Message text with `/cmd@Bot` shortened and the bot's own @mention removed."""

    text: str
    mentions_bot: bool


# ------------------------------------------------------------------------ translation


def normalise_text(text: str, bot_username: str) -> NormalisedText | None:
    """`/cmd@Bot args` -> `/cmd args`, `@Bot` removed; None for a command aimed at another bot."""
    stripped = text.strip()
    addressed = False
    command = _COMMAND_FOR_BOT.match(stripped)
    if command is not None:
        if command.group(2).casefold() != bot_username.casefold():
            return None
        stripped = f"/{command.group(1)}{stripped[command.end() :]}"
        addressed = True
    mention = re.compile(rf"(?<![\w@])@{re.escape(bot_username)}\b", re.IGNORECASE)
    if mention.search(stripped):
        addressed = True
        stripped = mention.sub(" ", stripped)
        stripped = re.sub(r"[ \t\u3000]{2,}", " ", stripped).strip().lstrip(",，:：").strip()
    return NormalisedText(stripped, addressed)


def translate_update(update: Update, me: BotIdentity, now: datetime) -> tuple[Event, ...]:
    """Turn one Bot API update into neutral events (none for what Linli does not use)."""
    if update.callback_query is not None:
        return _from_callback(update.callback_query, now)
    if update.my_chat_member is not None:
        return _from_membership(update.my_chat_member, me)
    if update.message is not None:
        return _from_message(update.message, me, is_edit=False)
    if update.channel_post is not None:
        return _from_message(update.channel_post, me, is_edit=False)
    edited = update.edited_message or update.edited_channel_post
    if edited is not None:
        return _from_message(edited, me, is_edit=True)
    return ()


def chat_ref(chat: Chat) -> ChatRef:
    """Groups, supergroups and channels are group chats; a private chat is keyed by the user."""
    return ChatRef(Platform.TELEGRAM, str(chat.id), is_group=chat.type in _GROUP_TYPES)


def _from_message(message: Message, me: BotIdentity, *, is_edit: bool) -> tuple[Event, ...]:
    if message.migrate_to_chat_id is not None:
        # Only the old group's last message is mapped; `migrate_from_chat_id` repeats it.
        new_id = str(message.migrate_to_chat_id)
        return (ChatMigrated(Platform.TELEGRAM, str(message.chat.id), new_id),)
    if message.new_chat_members:
        return tuple(
            MemberJoined(
                chat_ref(message.chat),
                UserRef(Platform.TELEGRAM, str(member.id), member.full_name),
                event_id=f"join:{message.chat.id}:{message.message_id}:{member.id}",
            )
            for member in message.new_chat_members
            if not member.is_bot
        )
    sender = _sender(message, me)
    image = _image_ref(message)
    raw_text = message.text or message.caption or ""
    if sender is None or (not raw_text and image is None):
        return ()
    normalised = normalise_text(raw_text, me.username)
    if normalised is None:
        return ()
    reply = message.reply_to_message
    replies_to_bot = bool(reply and reply.from_user and reply.from_user.id == me.user_id)
    sent_at = message.edit_date if is_edit and message.edit_date else message.date
    return (
        IncomingMessage(
            message_id=str(message.message_id),
            chat=chat_ref(message.chat),
            sender=sender,
            text=normalised.text,
            sent_at=sent_at,
            mentions_bot=normalised.mentions_bot or replies_to_bot,
            image=image,
            reply_to_id=str(reply.message_id) if reply else None,
            is_edit=is_edit,
            sender_is_chat=message.sender_chat is not None,
        ),
    )


def _sender(message: Message, me: BotIdentity) -> UserRef | None:
    # Anonymous admins post as the group and channel owners as their channel: `sender_chat`.
    if message.sender_chat is not None:
        chat = message.sender_chat
        return UserRef(Platform.TELEGRAM, str(chat.id), chat.effective_name or "")
    user = message.from_user
    if user is None:
        return UserRef(Platform.TELEGRAM, str(message.chat.id), message.chat.effective_name or "")
    if user.id == me.user_id:
        return None
    return UserRef(Platform.TELEGRAM, str(user.id), user.full_name)


def _image_ref(message: Message) -> str | None:
    if message.photo:
        return FILE_REF_PREFIX + message.photo[-1].file_id
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return FILE_REF_PREFIX + document.file_id
    return None


def _from_callback(query: CallbackQuery, now: datetime) -> tuple[Event, ...]:
    message = query.message
    if message is None or query.data is None:
        return ()
    presser = UserRef(Platform.TELEGRAM, str(query.from_user.id), query.from_user.full_name)
    return (
        IncomingMessage(
            message_id=f"cb:{query.id}",
            chat=chat_ref(message.chat),
            sender=presser,
            text=query.data,
            sent_at=now,
            reply_to_id=str(message.message_id),
            is_button=True,
            answer_inline=True,
        ),
    )


def _from_membership(change: ChatMemberUpdated, me: BotIdentity) -> tuple[Event, ...]:
    member = change.new_chat_member
    if member.user.id == me.user_id and member.status in _REMOVED_STATUSES:
        return (BotRemoved(chat_ref(change.chat)),)
    return ()


# ------------------------------------------------------------------------ sending helpers


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on line boundaries into chunks of at most `limit` UTF-16 units; blank ones dropped."""
    chunks: list[str] = []
    current = ""
    for line in _hard_wrap(text.splitlines(keepends=True), limit):
        if current and utf16_length(current + line) > limit:
            chunks.append(current)
            current = ""
        current += line
    chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks if chunk.strip()]


def _hard_wrap(lines: list[str], limit: int) -> list[str]:
    pieces: list[str] = []
    for line in lines:
        piece = ""
        for char in line:
            if utf16_length(piece + char) > limit:
                pieces.append(piece)
                piece = ""
            piece += char
        pieces.append(piece)
    return pieces


def inline_keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """One button per row: labels are short Chinese options, payloads go back as callback data."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in message.buttons]
    )


def redact(text: str, token: str) -> str:
    """Replace the bot token (and its secret half) wherever it appears."""
    for secret in (token, token.partition(":")[2]):
        if secret:
            text = text.replace(secret, "<token>")
    return text


def silence_url_logging() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class TokenRedactor(logging.Filter):
    """Rewrites records that would show the token (PTB logs its API URL at DEBUG)."""

    _LIBRARIES = ("telegram", "httpx", "httpcore", "tornado")

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message and any traceback text; never drops a record."""
        message = record.getMessage()
        redacted = redact(message, self._token)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            traceback_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(traceback_text, self._token)
        return True

    def library_loggers(self) -> list[logging.Logger]:
        """This module's logger and those of PTB and its HTTP stack (filters are per logger)."""
        names = {__name__, "telegram.Bot", "telegram.ext.ExtBot", *self._LIBRARIES}
        names.update(
            name
            for name in logging.root.manager.loggerDict
            if name.partition(".")[0] in self._LIBRARIES
        )
        return [logging.getLogger(name) for name in sorted(names)]


# ------------------------------------------------------------------------ the adapter


@dataclass(frozen=True, slots=True)
class _Part:
    """One Bot API call of an outgoing message: a photo or a text chunk."""

    text: str
    photo: bytes | str | None = None
    with_reply: bool = False
    with_keyboard: bool = False


class TelegramAdapter:
    """Linli on Telegram: long polling (or a webhook) in, paced sends out."""

    platform = Platform.TELEGRAM

    def __init__(
        self,
        token: str,
        options: TelegramOptions | None = None,
        *,
        api_base: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._token = token
        self._options = options or TelegramOptions()
        self._api_base = api_base
        self._clock = clock or SystemClock()
        schedule = SendSchedule(
            self._options.per_group_per_minute, self._options.overall_per_second
        )
        self._pacer = Pacer(schedule)
        self._application: TelegramApplication | None = None
        self._connected = asyncio.Event()
        self._identity: BotIdentity | None = None
        self._sink: EventSink | None = None

    @property
    def identity(self) -> BotIdentity | None:
        """The bot's id and username once connected."""
        return self._identity

    async def run(self, sink: EventSink) -> None:
        """Connect, feed `sink` until cancelled; returns early only if the token is rejected."""
        silence_url_logging()
        redactor = TokenRedactor(self._token)
        loggers = redactor.library_loggers()
        for library_logger in loggers:
            library_logger.addFilter(redactor)
        try:
            await self._run_application(sink)
        finally:
            for library_logger in loggers:
                library_logger.removeFilter(redactor)

    async def _run_application(self, sink: EventSink) -> None:
        application = self._build_application()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_handler(TypeHandler(ChatMigrated, self._on_event))
        application.add_handler(TypeHandler(BotRemoved, self._on_event))
        application.add_error_handler(self._on_error)
        self._sink = sink
        try:
            if not await self._connect(application, sink):
                return
            # Sending needs only the initialised bot: the outbox may start before polling does.
            self._application = application
            self._connected.set()
            await application.start()
            await self._start_updates(application)
            await asyncio.Event().wait()
        finally:
            self._connected.clear()
            self._application = None
            await self._disconnect(application)

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one outbox message; follows a supergroup migration once."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._options.connect_wait_seconds):
                await self._connected.wait()
        application = self._application
        if application is None:
            raise DeliveryError("telegram adapter is not connected", permanent=False)
        chat_id = _numeric_chat_id(message.chat)
        parts = await _parts_of(message)
        sent = message.parts_sent  # delivered by an earlier attempt: not again
        for _ in range(2):
            try:
                while sent < len(parts):
                    await self._deliver(application.bot, chat_id, message, parts[sent])
                    sent += 1
            except ChatMigratedError as moved:
                new_id = int(moved.new_chat_id)
                self._announce(ChatMigrated(Platform.TELEGRAM, str(chat_id), str(new_id)))
                chat_id = new_id
            except TelegramError as error:
                raise self._delivery_error(error, message.chat, sent) from None
            else:
                return
        raise DeliveryError("telegram chat migrated again while sending", permanent=False)

    # -------------------------------------------------------------------- lifecycle

    def _build_application(self) -> TelegramApplication:
        options = self._options
        builder = ApplicationBuilder().token(self._token).job_queue(None)
        if self._api_base:
            base = self._api_base.rstrip("/")
            builder = builder.base_url(base).base_file_url(_file_base(base))
        limiter = AIORateLimiter(
            overall_max_rate=options.overall_per_second,
            group_max_rate=options.per_group_per_minute,
            max_retries=options.retry_after_attempts,
        )
        return builder.rate_limiter(limiter).build()

    async def _connect(self, application: TelegramApplication, sink: EventSink) -> bool:
        """getMe until it answers; a rejected token is reported as PlatformDown."""
        delay = 1.0
        while True:
            try:
                await application.initialize()
            except InvalidToken:
                # PTB's message for this error quotes the token: log our own words only.
                logger.error("telegram: the Bot API rejected TELEGRAM_BOT_TOKEN")  # noqa: TRY400
                await application.bot.shutdown()  # before the sink, which may take a while
                await sink(PlatformDown(Platform.TELEGRAM, "the bot token was rejected"))
                return False
            except NetworkError as error:
                logger.warning(
                    "telegram: Bot API not reachable (%s); retrying in %.0f s",
                    redact(str(error), self._token),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
            else:
                bot = application.bot
                self._identity = BotIdentity(bot.id, bot.username)
                return True

    async def _start_updates(self, application: TelegramApplication) -> None:
        updater = application.updater
        if updater is None:
            raise RuntimeError("telegram: PTB built no updater")
        options = self._options
        if options.mode == "webhook" and options.webhook_url:
            await updater.start_webhook(
                listen=options.webhook_listen,
                port=options.webhook_port,
                url_path=urlsplit(options.webhook_url).path.lstrip("/"),
                webhook_url=options.webhook_url,
                secret_token=options.webhook_secret or secrets.token_urlsafe(32),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await updater.start_polling(
                timeout=options.poll_timeout_seconds,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._on_polling_error,
            )
        logger.info("telegram: connected as @%s (%s)", application.bot.username, options.mode)

    async def _disconnect(self, application: TelegramApplication) -> None:
        # Stop fetching first, then let the application finish the updates it already has.
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        # Closes the HTTP clients even when getMe never succeeded (shutdown() skips them then).
        await application.bot.shutdown()
        logger.info("telegram: disconnected")

    # -------------------------------------------------------------------- incoming

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._identity is None or self._sink is None:
            return
        query = update.callback_query
        answer = None
        try:
            for event in translate_update(update, self._identity, self._clock.now()):
                answer = await self._sink(event) or answer
        finally:
            if query is not None:
                # The button spins until answered: answer even when handling failed.
                await self._answer(query, answer)

    async def _on_event(self, event: PlatformEvent, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._sink is not None:
            await self._sink(event)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        """Stop the button spinning, with Linli's answer as a pop-up only the presser sees."""
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            text = text[: CALLBACK_ANSWER_LIMIT - 1] + "…"
        try:
            await query.answer(text)
        except TelegramError as error:
            logger.warning(
                "telegram: could not answer callback query %s: %s",
                query.id,
                redact(error.message, self._token),
            )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The pipeline has its own error boundary: this only sees adapter or sink bugs.
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error("telegram: handling update %s failed", update_id, exc_info=context.error)

    def _on_polling_error(self, error: TelegramError) -> None:
        logger.warning("telegram: polling failed, retrying: %s", redact(error.message, self._token))

    def _announce(self, event: PlatformEvent) -> None:
        """Queue an event learnt while sending; it reaches the sink in order with updates."""
        if self._application is not None:
            self._application.update_queue.put_nowait(event)

    # -------------------------------------------------------------------- outgoing

    async def _deliver(
        self, bot: ExtBot[int], chat_id: int, message: OutgoingMessage, part: _Part
    ) -> None:
        """One Bot API call: the reply goes on the first part, the keyboard on the last."""
        reply_parameters = None
        if part.with_reply and message.reply_to_id and message.reply_to_id.isdigit():
            reply_parameters = ReplyParameters(
                int(message.reply_to_id), allow_sending_without_reply=True
            )
        markup = inline_keyboard(message) if part.with_keyboard else None
        await self._pacer.turn(str(chat_id), is_group=message.chat.is_group, urgent=message.urgent)
        if part.photo is not None:
            await bot.send_photo(
                chat_id,
                part.photo,
                caption=part.text or None,
                reply_parameters=reply_parameters,
                reply_markup=markup,
            )
        else:
            await bot.send_message(
                chat_id, part.text, reply_parameters=reply_parameters, reply_markup=markup
            )

    def _delivery_error(self, error: TelegramError, chat: ChatRef, sent: int) -> DeliveryError:
        reason = f"telegram: {type(error).__name__}: {redact(error.message, self._token)}"
        if isinstance(error, Forbidden):
            if chat.is_group:
                self._announce(BotRemoved(chat))
            return DeliveryError(reason, permanent=True, parts_sent=sent)
        return DeliveryError(reason, permanent=isinstance(error, BadRequest), parts_sent=sent)


def _file_base(api_base: str) -> str:
    """`http://host:8081/bot` -> `http://host:8081/file/bot` (the Bot API's file URL layout)."""
    if api_base.endswith("/bot"):
        return api_base[: -len("bot")] + "file/bot"
    return api_base + "/file/bot"


def _numeric_chat_id(chat: ChatRef) -> int:
    try:
        return int(chat.chat_id)
    except ValueError:
        raise DeliveryError(
            f"telegram: chat id {chat.chat_id!r} is not numeric", permanent=True
        ) from None


async def _parts_of(message: OutgoingMessage) -> list[_Part]:
    """Photo (with the text as caption when it fits), then text chunks; keyboard on the last."""
    chunks = split_text(message.text)
    parts: list[_Part] = []
    if message.image:
        photo = await _photo_input(message.image)
        fits = len(chunks) == 1 and utf16_length(chunks[0]) <= CAPTION_LIMIT
        parts.append(_Part(chunks[0] if fits else "", photo, with_reply=True))
        if fits:
            chunks = []
    parts.extend(_Part(chunk, with_reply=not parts and i == 0) for i, chunk in enumerate(chunks))
    if not parts:
        raise DeliveryError("telegram: empty message (no text, no image)", permanent=True)
    last = parts[-1]
    parts[-1] = _Part(last.text, last.photo, last.with_reply, with_keyboard=True)
    return parts


async def _photo_input(image: str) -> bytes | str:
    if image.startswith(FILE_REF_PREFIX):
        return image[len(FILE_REF_PREFIX) :]
    try:
        return await asyncio.to_thread(Path(image).read_bytes)
    except OSError as error:
        raise DeliveryError(
            f"telegram: cannot read image {image}: {error.strerror}", permanent=True
        ) from None
