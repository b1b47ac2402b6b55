"""The composition root: `build_app(settings, secrets)` wires every part; `lifespan()` runs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import nlp
from bot.adapters.base import Adapter
from bot.clock import Clock, SystemClock
from bot.context import Services
from bot.domain.bindings import BindingService
from bot.domain.community import Directory
from bot.domain.conversations import ConversationService
from bot.domain.tickets import Deadlines, TicketPolicy, TicketService
from bot.events import Platform, RequestType
from bot.notifier import Notifier
from bot.outbox import Dispatcher, Outbox
from bot.pipeline import Pipeline
from bot.platform_events import PlatformEventHandler
from bot.router import RouteTable
from config.environment import Secrets
from config.settings import Settings
from handlers import all_routers
from storage.bindings import SqlBindingRepository
from storage.conversations import SqlConversationRepository
from storage.db import Database
from storage.messages import SqlInboxRepository
from storage.migrate import upgrade
from storage.outbox import SqlOutboxRepository
from storage.tickets import SqlTicketRepository

logger = logging.getLogger(__name__)

REQUEST_TYPES = [t for t in RequestType if t is not RequestType.NONE]


def ticket_policy(settings: Settings) -> TicketPolicy:
    """Routing and deadlines from the config, in domain terms."""
    deadlines = settings.deadlines

    def pair(request_type: RequestType, *, urgent: bool) -> Deadlines:
        deadline = deadlines.for_ticket(request_type, urgent=urgent)
        return Deadlines(respond=deadline.respond, resolve=deadline.resolve)

    return TicketPolicy(
        routing={t: settings.routing.roles_for(t) for t in REQUEST_TYPES},
        deadlines={t: pair(t, urgent=False) for t in REQUEST_TYPES},
        urgent=pair(RequestType.REPAIR, urgent=True),
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
    adapters: Sequence[Adapter]
    due_jobs: Sequence[Callable[[], Awaitable[None]]] = ()
    _receivers: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Open the database, apply migrations, load bindings, and warm the classifier."""
        revision = await upgrade(self.database)
        logger.info("database ready at revision %s", revision)
        await self.services.bindings.load()
        # jieba's first use loads its dictionary (about a second): never on the event loop.
        await asyncio.to_thread(nlp.warm_up)

    async def stop(self) -> None:
        """Release the database."""
        await self.database.close()

    async def run_due(self) -> None:
        """Run everything scheduled up to the clock's now (replay ticks and the scheduler)."""
        for job in self.due_jobs:
            await job()

    async def deliver(self) -> int:
        """Send everything that is due now on every adapter (used by replays and tests)."""
        sent = 0
        for adapter in self.adapters:
            sent += await self.dispatcher.deliver_due(adapter)
        return sent

    async def wait_closed(self) -> None:
        """Return when the first adapter stops (the console at end of input)."""
        await asyncio.wait(self._receivers, return_when=asyncio.FIRST_COMPLETED)
        # Let the dispatcher print the last answers before shutting down.
        await self.deliver()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[App]:
        """Start the database, then the dispatcher and the adapters; stop in reverse order."""
        await self.start()
        try:
            async with asyncio.TaskGroup() as group:
                senders = group.create_task(
                    self.dispatcher.run({a.platform: a for a in self.adapters})
                )
                self._receivers = [
                    group.create_task(a.run(self.pipeline.handle)) for a in self.adapters
                ]
                try:
                    yield self
                finally:
                    for task in (*self._receivers, senders):
                        task.cancel()
        finally:
            await self.stop()


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
    chosen = list(adapters) if adapters is not None else platform_adapters(settings, secrets)
    platforms = [adapter.platform for adapter in chosen]
    outbox_repository = SqlOutboxRepository(database)
    outbox = Outbox(outbox_repository, directory, clock, platforms)
    notifier = Notifier(outbox, directory, settings.timezone)
    bindings = BindingService(SqlBindingRepository(database), directory, clock)
    services = Services(
        tickets=TicketService(
            SqlTicketRepository(database), directory, ticket_policy(settings), notifier, clock
        ),
        bindings=bindings,
        conversations=ConversationService(SqlConversationRepository(database), clock),
        directory=directory,
        outbox=outbox,
        timezone=settings.timezone,
        confirm_below=settings.classifier.confirm_below,
        question_ttl=settings.classifier.question_timeout,
    )
    inbox = SqlInboxRepository(database)
    pipeline = Pipeline(
        database=database,
        inbox=inbox,
        routes=RouteTable(all_routers()),
        services=services,
        platform_events=PlatformEventHandler(bindings, directory, outbox, database, inbox, clock),
        classifier=nlp.classify,
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
        adapters=chosen,
    )


def platform_adapters(settings: Settings, secrets: Secrets) -> list[Adapter]:
    """Telegram and WeChat when their credentials are set, else the console chat."""
    from bot.adapters.console import ConsoleAdapter

    chosen: list[Adapter] = []
    if not chosen:
        chosen.append(ConsoleAdapter(settings))
    del secrets
    return chosen


__all__ = ["App", "Platform", "build_app"]
