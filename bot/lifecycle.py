"""A running Linli: the long-lived parts `build_app` (bot/app.py) made, and their lifecycle:
start the database, scheduler, dispatcher and adapters in order, stop them in reverse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.adapters.base import Adapter
from bot.classifying import Classifier
from bot.clock import Clock
from bot.context import Services
from bot.domain.community import Directory
from bot.outbox import Dispatcher, Outbox
from bot.pipeline import Pipeline
from bot.scheduler import LiveScheduler, Scheduled
from config.settings import Settings
from storage.db import Database
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0


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
