"""The composition root: `build_app(settings, secrets)` wires every part; `lifespan()` runs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date

from bot.adapters.base import Adapter
from bot.classifying import Classifier, make_classifier
from bot.clock import Clock, SystemClock
from bot.context import Services
from bot.domain.bindings import BindingService
from bot.domain.community import Directory
from bot.domain.conversations import ConversationService
from bot.domain.digests import DigestService, DigestTimes, RateSource
from bot.domain.reminders import QuietHours, ReminderService
from bot.domain.tags import TagService
from bot.domain.tickets import Deadlines, TicketPolicy, TicketService
from bot.domain.visitor_days import VisitorDayRules, VisitorDayService
from bot.domain.vote_service import VoteService
from bot.events import Platform, RequestType
from bot.notifier import Notifier
from bot.outbox import Dispatcher, Outbox
from bot.pipeline import Pipeline
from bot.platform_events import PlatformEventHandler
from bot.router import RouteTable
from bot.scheduler import LiveScheduler, Scheduled
from bot.vote_notifier import VoteMessages
from config.environment import Secrets
from config.settings import Settings
from config.visitor_days import HolidayPolicy
from handlers import all_routers
from handlers.digests import DigestMessages
from handlers.reminders import ReminderMessages
from storage.bindings import SqlBindingRepository
from storage.conversations import SqlConversationRepository
from storage.db import Database
from storage.digests import SqlDigestRepository
from storage.messages import SqlInboxRepository
from storage.migrate import upgrade
from storage.outbox import SqlOutboxRepository
from storage.owners import SqlRegisterRepository
from storage.reminders import SqlDutyRepository, SqlReminderRepository, SqlSendLedger
from storage.tags import SqlTagRepository
from storage.tickets import SqlTicketRepository
from storage.votes import SqlVoteRepository

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0

REQUEST_TYPES = [t for t in RequestType if t is not RequestType.NONE]


def ticket_policy(settings: Settings) -> TicketPolicy:
    """Routing and deadlines from the config, in domain terms."""
    deadlines = settings.deadlines

    def pair(request_type: RequestType, *, urgent: bool) -> Deadlines:
        deadline = deadlines.for_ticket(request_type, urgent=urgent)
        return Deadlines(respond=deadline.respond, resolve=deadline.resolve)

    return TicketPolicy(
        confirm_below=settings.classifier.confirm_below,
        routing={t: settings.routing.roles_for(t) for t in REQUEST_TYPES},
        deadlines={t: pair(t, urgent=False) for t in REQUEST_TYPES},
        urgent=pair(RequestType.REPAIR, urgent=True),
        remind_before=deadlines.remind_before,
        close_unrated_after=settings.followup.close_unrated_after,
        duplicate_window=settings.duplicates.window,
    )


@dataclass
class App:
    """Every long-lived part of a running Linli."""

    settings: Settings
    clock: Clock
    database: Database
    directory: Directory
    outbox: Outbox
    dispatcher: Dispatcher
    services: Services
    pipeline: Pipeline
    classifier: Classifier
    adapters: Sequence[Adapter]
    due_jobs: Sequence[Callable[[], Awaitable[None]]] = ()
    scheduled: Sequence[Scheduled] = ()
    _receivers: list[asyncio.Task[None]] = field(default_factory=list)
    _senders: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the database, apply migrations, load bindings, and warm the classifier."""
        revision = await upgrade(self.database)
        logger.info("database ready at revision %s", revision)
        await self.services.bindings.load()
        await self.classifier.start()

    async def stop(self) -> None:
        """Stop the classifier workers and release the database."""
        await self.classifier.stop()
        await self.database.close()

    async def run_due(self) -> None:
        """Run everything scheduled up to the clock's now (replay ticks and the scheduler)."""
        for job in self.due_jobs:
            try:
                await job()
            except Exception:
                # As in the live scheduler: one failing job must not stop the others.
                logger.exception("scheduled job %s failed", getattr(job, "__qualname__", job))

    async def deliver(self) -> int:
        """Send everything that is due now on every adapter (used by replays and tests)."""
        sent = 0
        for adapter in self.adapters:
            sent += await self.dispatcher.deliver_due(adapter)
        return sent

    async def wait_closed(self) -> None:
        """Return when the first adapter stops (the console at end of input)."""
        await asyncio.wait(self._receivers, return_when=asyncio.FIRST_COMPLETED)
        # Stop the dispatcher loop first, then send the last answers here: never both at once.
        self.dispatcher.stop()
        if self._senders is not None:
            await asyncio.wait({self._senders}, timeout=SHUTDOWN_GRACE_SECONDS)
        await self.deliver()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[App]:
        """Start the database, then the dispatcher and the adapters; stop in reverse order."""
        await self.start()
        scheduler = LiveScheduler(self.scheduled, self.settings.timezone)
        try:
            async with asyncio.TaskGroup() as group:
                senders = self._senders = group.create_task(
                    self.dispatcher.run({a.platform: a for a in self.adapters})
                )
                await scheduler.start()
                self._receivers = [
                    group.create_task(a.run(self.pipeline.handle)) for a in self.adapters
                ]
                try:
                    yield self
                finally:
                    await scheduler.stop()
                    for task in self._receivers:
                        task.cancel()
                    # Let the dispatcher finish the send in flight and record it, so nothing
                    # is sent twice after a restart; cancel it only if it hangs.
                    self.dispatcher.stop()
                    await asyncio.wait({senders}, timeout=SHUTDOWN_GRACE_SECONDS)
                    senders.cancel()
        finally:
            await self.stop()


@dataclass(frozen=True, slots=True)
class Schedules:
    """The schedule services of one app."""

    reminders: ReminderService
    visitor_days: VisitorDayService
    digests: DigestService

    @property
    def all(self) -> tuple[Scheduled, ...]:
        """In the order they run at each tick."""
        return (self.visitor_days, self.reminders, self.digests)


def visitor_day_rules(settings: Settings) -> VisitorDayRules:
    """[visitor_days] in domain terms."""
    config = settings.visitor_days
    duty: dict[date, tuple[str, ...]] = {}
    for entry in config.duty:
        duty[entry.date] = (*duty.get(entry.date, ()), entry.name)
    return VisitorDayRules(
        days=config.days,
        start=config.start,
        end=config.end,
        place=config.place,
        remind_day_before=config.remind_day_before,
        remind_same_day=config.remind_same_day,
        levels=config.levels,
        holidays=frozenset(config.holidays),
        move_off_holidays=config.holiday_policy is HolidayPolicy.NEXT_WORKDAY,
        duty=duty,
    )


def build_schedules(
    settings: Settings,
    database: Database,
    directory: Directory,
    outbox: Outbox,
    clock: Clock,
    rates: RateSource,
) -> Schedules:
    """Construct the reminder, visitor-day and digest services (called by `build_app`)."""
    quiet = QuietHours(settings.quiet_hours.start, settings.quiet_hours.end, settings.timezone)
    ledger = SqlSendLedger(database)
    notifier = ReminderMessages(outbox, directory, settings.timezone)
    visitor_days = VisitorDayService(
        visitor_day_rules(settings),
        SqlDutyRepository(database),
        ledger,
        notifier,
        database,
        directory,
        quiet,
        clock,
    )
    reminders = ReminderService(
        SqlReminderRepository(database), ledger, notifier, database, directory, quiet, clock
    )
    digests = DigestService(
        SqlDigestRepository(database),
        rates,
        visitor_days,
        SqlVoteRepository(database),
        ledger,
        DigestMessages(outbox, settings.storage.data_dir / "charts", settings.timezone),
        database,
        directory,
        DigestTimes(settings.digests.time, settings.digests.weekly_review_weekday),
        quiet,
        clock,
    )
    return Schedules(reminders=reminders, visitor_days=visitor_days, digests=digests)


def build_app(
    settings: Settings,
    secrets: Secrets,
    *,
    clock: Clock | None = None,
    adapters: Sequence[Adapter] | None = None,
    database_url: str | None = None,
) -> App:
    """Construct everything; `adapters` overrides the ones chosen from `secrets`."""
    clock = clock or SystemClock()
    database = Database(database_url or settings.storage.database)
    directory = Directory(settings.nodes(), settings.groups, settings.people)
    chosen = list(adapters) if adapters is not None else platform_adapters(settings, secrets, clock)
    platforms = [adapter.platform for adapter in chosen]
    outbox_repository = SqlOutboxRepository(database)
    quiet = settings.quiet_hours
    outbox = Outbox(
        outbox_repository,
        directory,
        clock,
        platforms,
        database.after_commit,
        QuietHours(quiet.start, quiet.end, settings.timezone),
    )
    notifier = Notifier(outbox, directory, settings.timezone)
    bindings = BindingService(
        SqlBindingRepository(database), directory, clock, database.after_commit
    )
    tickets = TicketService(
        SqlTicketRepository(database),
        directory,
        ticket_policy(settings),
        notifier,
        clock,
        transactions=database,
    )
    schedules = build_schedules(settings, database, directory, outbox, clock, tickets)
    votes = VoteService(
        SqlVoteRepository(database),
        SqlRegisterRepository(database),
        VoteMessages(outbox, directory, platforms, clock, settings.timezone),
        database,
        directory,
        clock,
        settings.timezone,
    )
    services = Services(
        tickets=tickets,
        bindings=bindings,
        conversations=ConversationService(SqlConversationRepository(database), clock),
        directory=directory,
        outbox=outbox,
        timezone=settings.timezone,
        question_ttl=settings.classifier.question_timeout,
        reminders=schedules.reminders,
        visitor_days=schedules.visitor_days,
        digests=schedules.digests,
        votes=votes,
        tags=TagService(
            SqlTagRepository(database),
            outbox,
            database,
            directory,
            QuietHours(quiet.start, quiet.end, settings.timezone),
            clock,
        ),
    )
    inbox = SqlInboxRepository(database)
    classifier = make_classifier(settings.classifier.worker_processes)
    pipeline = Pipeline(
        database=database,
        inbox=inbox,
        routes=RouteTable(all_routers()),
        services=services,
        platform_events=PlatformEventHandler(bindings, directory, outbox, database, inbox, clock),
        classifier=classifier,
        clock=clock,
    )
    return App(
        settings=settings,
        clock=clock,
        database=database,
        directory=directory,
        outbox=outbox,
        dispatcher=Dispatcher(outbox_repository, outbox, clock),
        services=services,
        pipeline=pipeline,
        classifier=classifier,
        adapters=chosen,
        due_jobs=[*(service.run_due for service in schedules.all), tickets.run_due, votes.run_due],
        scheduled=[*schedules.all, tickets, votes],
    )


def platform_adapters(
    settings: Settings, secrets: Secrets, clock: Clock | None = None
) -> list[Adapter]:
    """Telegram and WeChat when their credentials are set, else the console chat.

    Adapter modules are imported only when their platform is configured: each SDK costs
    start-up time, and WeChat's needs a compatibility shim (see bot/adapters/wechat_puppet.py).
    """
    chosen: list[Adapter] = []
    if secrets.telegram_bot_token is not None:
        from bot.adapters.telegram import TelegramAdapter, TelegramOptions

        telegram = settings.telegram
        options = TelegramOptions(
            mode=telegram.mode.value,
            webhook_url=telegram.webhook_url,
            webhook_listen=telegram.webhook_listen,
            webhook_port=telegram.webhook_port,
            webhook_secret=secrets.telegram_webhook_secret,
            per_group_per_minute=telegram.per_group_per_minute,
            overall_per_second=telegram.overall_per_second,
        )
        chosen.append(
            TelegramAdapter(
                secrets.telegram_bot_token,
                options,
                api_base=secrets.telegram_api_base,
                clock=clock,
            )
        )
    token, endpoint = secrets.wechaty_puppet_service_token, secrets.wechaty_puppet_service_endpoint
    if token is not None and endpoint is not None:
        from bot.adapters.wechat import WechatAdapter
        from bot.adapters.wechat_options import WechatOptions

        wechat = settings.wechat
        chosen.append(
            WechatAdapter(
                WechatOptions(
                    endpoint=endpoint,
                    token=token,
                    data_dir=settings.storage.data_dir / "wechat",
                    min_interval_per_room_seconds=wechat.min_interval_per_room_seconds,
                    min_interval_overall_seconds=wechat.min_interval_overall_seconds,
                    jitter_seconds=wechat.jitter_seconds,
                    daily_cap=wechat.daily_cap,
                    watchdog_seconds=wechat.watchdog_seconds,
                    reconnect_max_backoff_seconds=wechat.reconnect_max_backoff_seconds,
                    timezone_name=settings.timezone_name,
                )
            )
        )
    if not chosen:
        from bot.adapters.console import ConsoleAdapter

        chosen.append(ConsoleAdapter(settings))
    return chosen


__all__ = ["App", "Platform", "build_app"]
