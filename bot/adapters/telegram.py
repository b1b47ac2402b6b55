"""Telegram adapter: python-telegram-bot 22.8 under Linli's own start-up (manual lifecycle).

Owns connecting, receiving updates (translated in telegram_updates.py) and sending outbox messages
(built in telegram_sending.py) within Telegram's flood limits, with the bot token redacted from
every log line and error message (telegram_redaction.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from telegram import CallbackQuery, ReplyParameters, Update
from telegram.constants import CallbackQueryLimit, UpdateType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
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
from bot.adapters.telegram_redaction import TokenRedactor, redact, silence_url_logging
from bot.adapters.telegram_sending import Part, inline_keyboard, numeric_chat_id, parts_of
from bot.adapters.telegram_updates import BotIdentity, Event, translate_update
from bot.adapters.telegram_webhook import WebhookServer
from bot.clock import Clock, SystemClock
from bot.events import (
    BotRemoved,
    ChatMigrated,
    ChatRef,
    IncomingMessage,
    OutgoingMessage,
    Platform,
    PlatformDown,
    PlatformEvent,
)

logger = logging.getLogger(__name__)

# PTB's Application is generic over its bot, context and (unused here) persistence data types.
TelegramApplication = Application[
    ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]

# An update that still cannot be stored after this many tries is skipped (and logged), so one
# poisonous update cannot stop everyone else's messages.
MAX_UPDATE_FAILURES: Final = 5
ALLOWED_UPDATES: Final = (
    UpdateType.MESSAGE,
    UpdateType.EDITED_MESSAGE,
    UpdateType.CHANNEL_POST,
    UpdateType.EDITED_CHANNEL_POST,
    UpdateType.CALLBACK_QUERY,
    UpdateType.MY_CHAT_MEMBER,
)
CALLBACK_ANSWER_LIMIT: Final = int(CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH)


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
        self._webhook: WebhookServer | None = None

    @property
    def identity(self) -> BotIdentity | None:
        """The bot's id and username once connected."""
        return self._identity

    async def run(self, sink: EventSink) -> None:
        """Connect, feed `sink` until cancelled; returns early only if the token is rejected."""
        silence_url_logging()
        redactor = TokenRedactor(self._token)
        loggers = redactor.library_loggers(__name__)
        for library_logger in loggers:
            library_logger.addFilter(redactor)
        try:
            await self._run_application(sink)
        finally:
            for library_logger in loggers:
                library_logger.removeFilter(redactor)

    async def _run_application(self, sink: EventSink) -> None:
        application = self._build_application()
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
            if self._options.mode == "webhook" and self._options.webhook_url:
                await self._start_webhook(application, self._options.webhook_url)
                await asyncio.Event().wait()
            else:
                logger.info("telegram: connected as @%s (polling)", application.bot.username)
                await self._poll(application.bot)
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
        chat_id = numeric_chat_id(message.chat)
        parts = await parts_of(message)
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
        # No Updater: Linli polls (_poll) and serves the webhook (telegram_webhook.py) itself.
        builder = ApplicationBuilder().token(self._token).job_queue(None).updater(None)
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
                down = _token_rejected()
                await application.bot.shutdown()  # before the sink, which may take a while
                await sink(down)
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

    async def _start_webhook(self, application: TelegramApplication, url: str) -> None:
        """Serve the webhook (telegram_webhook.py: answered once each update is stored), then
        tell Telegram where it is."""
        options = self._options
        secret = options.webhook_secret or secrets.token_urlsafe(32)
        server = WebhookServer(
            listen=options.webhook_listen,
            port=options.webhook_port,
            path=urlsplit(url).path,
            secret=secret,
            bot=application.bot,
            store=self._store,
            give_up_after=MAX_UPDATE_FAILURES,
        )
        await server.start()
        self._webhook = server
        await application.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
        logger.info("telegram: connected as @%s (webhook)", application.bot.username)

    async def _poll(self, bot: ExtBot[int]) -> None:
        """Fetch updates and store each batch before asking for the next one.

        Telegram drops an update once a getUpdates call asks past its id. PTB's Updater asks for
        the next batch while the last one still waits in its queue, so updates not yet stored
        when the process dies were lost. Here the next call asks past an update only once it is
        stored: a crash or a failed commit means it comes again, and the inbox skips repeats.
        """
        offset: int | None = None  # past the last update stored (or given up on)
        failures: dict[int, int] = {}  # update id -> failed attempts to store it
        webhook_cleared = False
        delay = 1.0
        try:
            while True:
                try:
                    if not webhook_cleared:
                        webhook_cleared = await bot.delete_webhook()
                    updates = await bot.get_updates(
                        offset=offset,
                        timeout=self._options.poll_timeout_seconds,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                except InvalidToken:
                    # Revoked while running: the same alert as a token rejected at start-up.
                    down = _token_rejected()
                    if self._sink is not None:
                        await self._sink(down)
                    return
                except RetryAfter as error:
                    await asyncio.sleep(_seconds(error.retry_after))
                    continue
                except TelegramError as error:
                    self._on_polling_error(error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
                    continue
                delay = 1.0
                stored = await self._store(updates)
                if stored:
                    offset = updates[stored - 1].update_id + 1
                if stored < len(updates):
                    offset = await self._after_failure(updates[stored], failures, offset)
        finally:
            if offset is not None:
                # Tell Telegram the last stored update arrived, so it is not sent again.
                with contextlib.suppress(TelegramError, TimeoutError):
                    async with asyncio.timeout(5):
                        await bot.get_updates(offset=offset, timeout=0, limit=1)

    async def _store(self, updates: Sequence[Update]) -> int:
        """Hand the updates to the pipeline; how many, from the first, were stored.

        Messages go together so the pipeline commits them as one batch (each reaches its queue
        in update order before any awaits). A platform event (a migration, a kick, a join) is
        handled alone, after the messages before it and before those after it, as PTB did.
        """
        identity = self._identity
        if identity is None:
            return 0
        now = self._clock.now()
        done = 0
        run: list[tuple[Update, tuple[Event, ...]]] = []
        for update in updates:
            events = translate_update(update, identity, now)
            if all(isinstance(event, IncomingMessage) for event in events):
                run.append((update, events))
                continue
            for batch in (run, [(update, events)]):
                stored = await self._store_together(batch)
                done += stored
                if stored < len(batch):
                    return done
            run = []
        return done + await self._store_together(run)

    async def _store_together(self, batch: Sequence[tuple[Update, tuple[Event, ...]]]) -> int:
        results = await asyncio.gather(
            *(self._deliver_events(update, events) for update, events in batch),
            return_exceptions=True,
        )
        for position, ((update, _), result) in enumerate(zip(batch, results, strict=True)):
            if isinstance(result, Exception):
                logger.error(
                    "telegram: storing update %s failed", update.update_id, exc_info=result
                )
                return position
        return len(batch)

    async def _after_failure(
        self, update: Update, failures: dict[int, int], offset: int | None
    ) -> int | None:
        """Wait and fetch the failed update again; past MAX_UPDATE_FAILURES tries, skip it."""
        count = failures[update.update_id] = failures.get(update.update_id, 0) + 1
        if count >= MAX_UPDATE_FAILURES:
            logger.error(
                "telegram: giving up on update %s after %d failed attempts", update.update_id, count
            )
            del failures[update.update_id]
            return update.update_id + 1
        await asyncio.sleep(min(2.0**count, 60.0))
        return offset

    async def _disconnect(self, application: TelegramApplication) -> None:
        # Stop receiving first, then let the application finish the events it already has.
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if application.running:
            await application.stop()
        await application.shutdown()
        # Closes the HTTP clients even when getMe never succeeded (shutdown() skips them then).
        await application.bot.shutdown()
        logger.info("telegram: disconnected")

    # -------------------------------------------------------------------- incoming

    async def _deliver_events(self, update: Update, events: Sequence[Event]) -> None:
        """Hand one update's events to the sink; answer a button press with its reply."""
        if self._sink is None:
            return
        query = update.callback_query
        answer = None
        try:
            for event in events:
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
        self, bot: ExtBot[int], chat_id: int, message: OutgoingMessage, part: Part
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


def _token_rejected() -> PlatformDown:
    """Log a rejected token and return the alert for the sink. PTB's message for this error
    quotes the token, so only our own words are logged."""
    logger.error("telegram: the Bot API rejected TELEGRAM_BOT_TOKEN")
    return PlatformDown(Platform.TELEGRAM, "the bot token was rejected")


def _seconds(value: float | timedelta) -> float:
    """RetryAfter.retry_after is seconds, or a timedelta when PTB_TIMEDELTA is set."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
