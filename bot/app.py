"""The composition root: `build_app(settings, secrets)` wires every part into an `App`, whose
`lifespan()` (bot/lifecycle.py) runs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.adapters.base import Adapter
from bot.classifying import make_classifier
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
from bot.housekeeping import MessageLogKeeper
from bot.lifecycle import App
from bot.notifier import Notifier
from bot.outbox import Dispatcher, Outbox
from bot.pipeline import Pipeline
from bot.platform_events import PlatformEventHandler
from bot.router import RouteTable
from bot.scheduler import Scheduled
from bot.vote_notifier import VoteMessages
from config.environment import Secrets
from config.settings import Settings
from config.visitor_days import HolidayPolicy
from handlers import all_routers
from handlers.digests import ChartFiles, DigestMessages
from handlers.reminders import ReminderMessages
from storage.bindings import SqlBindingRepository
from storage.conversations import SqlConversationRepository
from storage.db import Database
from storage.digests import SqlDigestRepository
from storage.messages import SqlInboxRepository
from storage.outbox import SqlOutboxRepository
from storage.owners import SqlRegisterRepository
from storage.reminders import SqlDutyRepository, SqlReminderRepository, SqlSendLedger
from storage.tags import SqlTagRepository
from storage.tickets import SqlTicketRepository
from storage.votes import SqlVoteRepository

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


def charts_dir(settings: Settings) -> Path:
    """Where the weekly charts are drawn."""
    return settings.storage.data_dir / "charts"


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
        DigestMessages(outbox, charts_dir(settings), settings.timezone),
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
    keep_log = timedelta(days=settings.storage.keep_message_log_days)
    charts = ChartFiles(charts_dir(settings))
    housekeeping = MessageLogKeeper(
        [inbox, outbox_repository, charts], keep_log, clock, settings.timezone
    )
    classifier = make_classifier(settings.classifier.workers)
    pipeline = Pipeline(
        database=database,
        inbox=inbox,
        routes=RouteTable(all_routers()),
        services=services,
        platform_events=PlatformEventHandler(bindings, directory, outbox, database, inbox, clock),
        classifier=classifier,
        clock=clock,
        max_age=keep_log,
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
        due_jobs=[
            *(service.run_due for service in schedules.all),
            tickets.run_due,
            votes.run_due,
            housekeeping.run_due,
        ],
        scheduled=[*schedules.all, tickets, votes, housekeeping],
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
