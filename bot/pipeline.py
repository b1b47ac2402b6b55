"""The message pipeline: dedupe, resolve who and where, classify, route, and store the answer.

Everything one message causes (its inbox record, the ticket, the outbox rows) commits in one
transaction, so a crash either loses nothing or repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.classifying import Classifier
from bot.clock import Clock
from bot.context import HandlerContext, Services
from bot.domain.conversations import Conversation
from bot.errors import UserError
from bot.events import (
    BotRemoved,
    ChatMigrated,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    Platform,
    PlatformDown,
    PlatformEvent,
)
from bot.outbox import OutboxEntry
from bot.ports import OWN_KEY_PREFIX, Inbox, InboxKey, Transactions
from bot.privacy import mask
from bot.replies import Reply
from bot.router import Handler, Match, RouteTable
from handlers.texts import bindings as binding_texts
from handlers.texts import common as texts
from handlers.texts.errors import render as render_error
from nlp import Classification, Label, normalize, parse_location

logger = logging.getLogger(__name__)


MAX_BATCH = 64
# A command's preparation (see `Router.command`) that takes longer fails, and its sender gets
# the apology: the chat's later messages wait for it.
PREPARE_TIMEOUT = 60.0
# Preparations running at once: each holds a database connection while it reads.
MAX_PREPARING = 4


class _RedoCarefully(Exception):
    """A handler raised in a batch run without savepoints: run the batch again with them."""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A prepared message waiting for the writer, and the future its sender awaits."""

    msg: IncomingMessage
    routed: tuple[Match, Handler] | None
    # A future while a classifier worker is still on it (bot/classifying.py).
    classification: Classification | asyncio.Future[Classification] | None
    # Resolved with the answer for the sender alone (IncomingMessage.answer_inline), if any.
    done: asyncio.Future[str | None]
    inline: list[str] = field(default_factory=list)
    # A command with a `prepare` (see `Router.command`), started once nothing before it in its
    # chat is still queued, so that it reads what those messages committed.
    wants_preparing: bool = False

    @property
    def preparation(self) -> asyncio.Future[object] | None:
        """The command's preparation, once started."""
        return None if self.routed is None else self.routed[0].preparation

    @property
    def unprepared(self) -> bool:
        """True until the command's preparation has finished."""
        return self.wants_preparing and (self.preparation is None or not self.preparation.done())

    async def classified(self) -> Classification | None:
        """The classification, once the worker has answered; None (logged) if it failed, so
        one text the classifier chokes on does not fail the batch it is in."""
        if not isinstance(self.classification, asyncio.Future):
            return self.classification
        try:
            return await self.classification
        except Exception:
            logger.exception("classifying message %s failed", self.msg.message_id)
            return None


def _preparing(queue: deque[_Pending]) -> list[asyncio.Future[object]]:
    """The preparations still running among the queued messages."""
    return [p.preparation for p in queue if p.preparation is not None and not p.preparation.done()]


class PlatformEvents(Protocol):
    """Reactions to platform events (bindings, welcomes, alerts), wired in bot/app.py."""

    async def handle(self, event: PlatformEvent) -> None:
        """React to one platform event."""
        ...


class Pipeline:
    """Turns incoming events into stored side effects and outbox rows, once each."""

    def __init__(
        self,
        *,
        database: Transactions,
        inbox: Inbox,
        routes: RouteTable,
        services: Services,
        platform_events: PlatformEvents,
        classifier: Classifier,
        clock: Clock,
        max_age: timedelta | None = None,
    ) -> None:
        """`max_age`: a message sent longer ago than this is skipped (the inbox forgets
        messages after that long, so it could no longer tell a repeat)."""
        self._db, self._inbox, self._routes = database, inbox, routes
        self._max_age = max_age
        self._services, self._platform_events = services, platform_events
        self._classifier, self._clock = classifier, clock
        # Messages wait here for the single writer, in arrival order: one FIFO keeps every
        # chat's order, and the writer commits whatever has queued up in one transaction
        # (group commit), so a burst pays for one fsync instead of one per message.
        self._queue: deque[_Pending] = deque()
        self._writer: asyncio.Task[None] | None = None
        # Queued commands whose preparation has not finished (see `Router.command`), the
        # preparations that may run at once, and the event that wakes a writer waiting for
        # them when another message is queued.
        self._unprepared = 0
        self._preparation_slots = asyncio.Semaphore(MAX_PREPARING)
        self._arrived: asyncio.Event | None = None

    async def handle(self, event: IncomingMessage | PlatformEvent) -> str | None:
        """Process one event from any adapter; returns once its effects are committed, with
        the answer to show its sender alone when the message asked for one (`answer_inline`).
        """
        if isinstance(event, ChatMigrated | BotRemoved | MemberJoined | PlatformDown):
            if isinstance(event, MemberJoined) and self._too_old(event.at, self._clock.now()):
                logger.warning("skipping a join in chat %s: before the message log", event.chat)
                return None
            await self._platform_events.handle(event)
            return None
        pending = self._prepare(event)
        self._queue.append(pending)
        if self._arrived is not None:
            self._arrived.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        return await pending.done

    def _prepare(self, event: IncomingMessage) -> _Pending:
        """Normalise, match a command, or classify: CPU work that needs no transaction."""
        text = normalize(event.text)
        msg = event if text == event.text else replace(event, text=text)
        routed = self._routes.match_command(msg.text)
        # An edit only updates a ticket's text: its command is not run again.
        wants_preparing = (
            routed is not None and routed[0].command in self._routes.preparers and not msg.is_edit
        )
        self._unprepared += wants_preparing
        classification = None
        if routed is None and msg.text and not msg.is_button:
            classification = self._classifier.submit(msg.text)
        done = asyncio.get_running_loop().create_future()
        return _Pending(msg, routed, classification, done, wants_preparing=wants_preparing)

    def _start_preparing(self, pending: _Pending) -> _Pending:
        """Start the command's read-only preparation; the writer keeps the message queued
        until it is done, and the handler takes its result (or error) from the match."""
        assert pending.routed is not None
        match, handler = pending.routed
        context = self._context(pending.msg, None, None)
        preparation = asyncio.ensure_future(self._run_preparation(pending.msg, context, match))
        preparation.add_done_callback(self._prepared)
        return replace(pending, routed=(replace(match, preparation=preparation), handler))

    async def _run_preparation(
        self, msg: IncomingMessage, context: HandlerContext, match: Match
    ) -> object:
        async with self._preparation_slots:
            prepare = self._routes.preparers[match.command]
            return await asyncio.wait_for(prepare(msg, context, match), PREPARE_TIMEOUT)

    def _prepared(self, preparation: asyncio.Future[object]) -> None:
        self._unprepared -= 1
        # A handler that never runs (a repeat, an unbound group) leaves its error unread.
        if not preparation.cancelled():
            preparation.exception()

    async def _write_queued(self) -> None:
        """The single writer: commit queued messages in batches, then wake their senders."""
        while self._queue:
            batch = self._next_batch()
            if not batch:
                # Every queued chat waits for a command's preparation: wait for one of them,
                # or for a message from another chat.
                self._arrived = asyncio.Event()
                arrived: asyncio.Future[object] = asyncio.ensure_future(self._arrived.wait())
                try:
                    await asyncio.wait(
                        [*_preparing(self._queue), arrived], return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    arrived.cancel()
                    self._arrived = None
                continue
            try:
                try:
                    async with self._db.transaction():
                        await self._handle_batch(batch, careful=False)
                except Exception as error:
                    # A handler raised (_RedoCarefully), or writing the batch's rows at commit
                    # failed: either way, again with a savepoint per message.
                    if not isinstance(error, _RedoCarefully):
                        logger.warning("batch of %d failed at commit; redoing it", len(batch))
                    async with self._db.transaction():
                        await self._handle_batch(batch, careful=True)
            except Exception as error:
                # The batch did not commit, so none of it happened: every sender learns so.
                logger.exception("committing %d messages failed", len(batch))
                for pending in batch:
                    if not pending.done.done():  # its sender may have been cancelled
                        pending.done.set_exception(error)
                continue
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_result(pending.inline[-1] if pending.inline else None)

    def _next_batch(self) -> list[_Pending]:
        """Up to MAX_BATCH queued messages, at most one per sender in a chat: a reply to a
        question must see the conversation state its sender's previous message stored.

        A command that needs preparing (a report read, a chart drawn) stays queued with the
        rest of its chat, so as to keep the chat's order, while other chats' messages go ahead.
        Its preparation starts once nothing before it in its chat is left to commit.
        """
        batch: list[_Pending] = []
        senders: set[tuple[Platform, str, str]] = set()
        waiting: set[tuple[Platform, str]] = set()
        taken: set[tuple[Platform, str]] = set()
        kept: deque[_Pending] = deque()
        checking = self._unprepared > 0
        while self._queue and len(batch) < MAX_BATCH:
            msg = self._queue[0].msg
            if checking:
                chat = (msg.chat.platform, msg.chat.chat_id)
                if chat in waiting or self._queue[0].unprepared:
                    pending = self._queue.popleft()
                    if chat not in waiting and chat not in taken and pending.preparation is None:
                        pending = self._start_preparing(pending)
                    waiting.add(chat)
                    kept.append(pending)
                    continue
                taken.add(chat)
            sender = (msg.chat.platform, msg.chat.chat_id, msg.sender.user_id)
            if sender in senders:
                break
            senders.add(sender)
            batch.append(self._queue.popleft())
        if kept:
            self._queue.extendleft(reversed(kept))
        return batch

    async def _handle_batch(self, batch: list[_Pending], *, careful: bool) -> None:
        """Dedupe and read flow states for the whole batch at once, then handle each message."""
        now = self._clock.now()
        if self._max_age is not None:
            batch = self._recent(batch, now)
        keys = [
            InboxKey(p.msg.chat.platform, p.msg.chat.chat_id, _dedupe_key(p.msg)) for p in batch
        ]
        fresh = await self._inbox.record_many(keys, now)
        todo = [pending for pending, new in zip(batch, fresh, strict=True) if new]
        flows = await self._services.conversations.current_many(
            [(p.msg.chat, p.msg.sender) for p in todo]
        )
        for pending in todo:
            msg = pending.msg
            classification = await pending.classified()
            ctx = self._context(msg, classification, flows.get((msg.chat, msg.sender)))
            await self._guarded(pending, ctx, careful=careful)

    def _too_old(self, at: datetime | None, now: datetime) -> bool:
        """Sent before the kept message log (whose inbox could no longer tell a repeat)."""
        return self._max_age is not None and at is not None and at < now - self._max_age

    def _recent(self, batch: list[_Pending], now: datetime) -> list[_Pending]:
        """The batch without messages sent before the message log (a platform replaying
        history), which are logged and dropped."""
        recent: list[_Pending] = []
        for pending in batch:
            msg = pending.msg
            if not self._too_old(msg.sent_at, now):
                recent.append(pending)
                continue
            logger.warning(
                "skipping message %s in chat %s on %s: sent %s, before the message log",
                msg.message_id, msg.chat.chat_id, msg.chat.platform.value,
                msg.sent_at.isoformat(),
            )  # fmt: skip
        return recent

    def _context(
        self,
        msg: IncomingMessage,
        classification: Classification | None,
        conversation: Conversation | None,
    ) -> HandlerContext:
        """Who is talking, in which group, in which flow, and what the classifier made of it."""
        directory = self._services.directory
        group = directory.group_for_chat(msg.chat)
        # Only a ticket uses the place: a request, or a photo report's caption.
        located = classification is not None and (
            classification.label is not Label.NONE or msg.image is not None
        )
        location = parse_location(msg.text) if located else None
        return HandlerContext(
            services=self._services,
            person=directory.person_for_user(msg.sender, group),
            group=group,
            now=self._clock.now(),
            classification=classification,
            location=location.describe() if location is not None else None,
            conversation=conversation,
        )

    async def _guarded(self, pending: _Pending, ctx: HandlerContext, *, careful: bool) -> None:
        """The one error boundary: user errors become their text (`render`), others an apology.

        Most messages raise nothing, so a batch first runs without a savepoint per message
        (two statements each). If anything raises, the whole batch is rolled back and run
        again `careful`ly: each message's handling and answer in a savepoint of their own
        (which also writes their appended rows), so one message's failure undoes only its
        own writes, and a failure is never blamed on the next message.
        """
        msg = pending.msg
        if not careful:
            try:
                await self._answer(pending, ctx, await self._dispatch(msg, ctx, pending.routed))
            except Exception as error:
                raise _RedoCarefully from error
            return
        try:
            async with self._db.savepoint():
                await self._answer(pending, ctx, await self._dispatch(msg, ctx, pending.routed))
        except UserError as error:
            reply = Reply(render_error(error))
        except Exception:
            logger.exception("handling message %s in %s failed", msg.message_id, msg.chat)
            reply = Reply(texts.SORRY)
        else:
            return
        try:
            async with self._db.savepoint():
                await self._answer(pending, ctx, reply)
        except Exception:
            logger.exception("storing the answer to message %s failed", msg.message_id)

    async def _answer(self, pending: _Pending, ctx: HandlerContext, reply: Reply | None) -> None:
        """Store the reply in the outbox, or keep it for the platform to show (answer_inline)."""
        pending.inline.clear()  # a careful redo answers afresh
        if reply is None:
            return
        if _answered_inline(pending.msg, reply):
            pending.inline.append(mask(reply.text))
        else:
            await self._services.outbox.put(_reply_entry(pending.msg, ctx, reply))

    async def _dispatch(
        self, msg: IncomingMessage, ctx: HandlerContext, routed: tuple[Match, Handler] | None
    ) -> Reply | None:
        if msg.chat.is_group and ctx.group is None:
            return await self._unbound(msg, ctx, routed)
        if msg.is_edit:
            await ctx.tickets.update_text(msg.chat, msg.message_id, msg.text, ctx.person)
            return None
        if routed is not None:
            match, handler = routed
            return await handler(msg, ctx, match)
        return await self._dispatch_text(msg, ctx)

    async def _unbound(
        self, msg: IncomingMessage, ctx: HandlerContext, routed: tuple[Match, Handler] | None
    ) -> Reply | None:
        """A group not bound to the config: only `/bind` works, and we say how, once."""
        if routed is not None and routed[0].command == "bind":
            return await routed[1](msg, ctx, routed[0])
        if await _unbound_hint_due(self._inbox, msg, self._clock.now()):
            return Reply(binding_texts.HOW_TO_BIND)
        return None

    async def _dispatch_text(self, msg: IncomingMessage, ctx: HandlerContext) -> Reply | None:
        """Flows first, then ballots and ratings, then classified requests."""
        # A voice message cannot answer a question: the question stays open for a typed reply.
        if ctx.conversation is not None and not (msg.is_voice and not msg.text):
            flow = self._routes.flows.get(ctx.conversation.state)
            if flow is not None:
                reply = await flow(msg, ctx, Match(command=ctx.conversation.state, args=msg.text))
                if reply is not None:
                    return reply
        for handler in self._routes.message_handlers:
            reply = await handler(msg, ctx, Match(command="message", args=msg.text))
            if reply is not None:
                return reply
        classification = ctx.classification
        if classification is None or classification.label is Label.NONE:
            return None
        for handler in self._routes.request_handlers:
            reply = await handler(
                msg, ctx, Match(command=classification.label.value, args=msg.text)
            )
            if reply is not None:
                return reply
        return None


async def _unbound_hint_due(inbox: Inbox, msg: IncomingMessage, now: datetime) -> bool:
    """True only the first time: the inbox doubles as a durable "already said" record."""
    return await inbox.record(
        msg.chat.platform, msg.chat.chat_id, f"{OWN_KEY_PREFIX}bind-hint", now
    )


def _dedupe_key(msg: IncomingMessage) -> str:
    """An edit is a new event about the same message: key it by its edit time."""
    if msg.is_edit:
        return f"{msg.message_id}@edit:{msg.sent_at.timestamp():.0f}"
    return msg.message_id


def _answered_inline(msg: IncomingMessage, reply: Reply) -> bool:
    """A plain answer meant for the group, to a sender the platform can answer alone."""
    return (
        msg.answer_inline
        and msg.chat.is_group
        and not reply.private
        and not reply.buttons
        and reply.image is None
    )


def _reply_entry(msg: IncomingMessage, ctx: HandlerContext, reply: Reply) -> OutboxEntry:
    """Answer in the chat the message came from, or privately to its sender."""
    private = reply.private or not msg.chat.is_group
    sender_chat = ChatRef(msg.sender.platform, msg.sender.user_id, is_group=False)
    chat = sender_chat if private else msg.chat
    return OutboxEntry(
        chat=chat,
        text=reply.text,
        group_id=None if private or ctx.group is None else ctx.group.id,
        person_id=ctx.person.id if private else None,
        reply_to_id=msg.message_id,
        buttons=reply.buttons,
        image=reply.image,
        # A resident is @mentioned where the platform needs it (WeChat); staff, whose
        # commands open votes and the like, are not named in front of the group.
        reply_to_user_id=None
        if private or msg.sender_is_chat or ctx.person.is_staff
        else msg.sender.user_id,
    )
