"""Bench: group updates through the fake Bot API server, end to end with the real app.

Prints updates/s handled, answer latency p50/p99, and the 429s and duplicates the fake saw.
Run from the repository root: `.venv/bin/python -m bench.telegram [--updates 2000] [--rate 0]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.platform_common import CHATTER, REQUESTS, bench_config, percentile
from bot.adapters.base import EventSink
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.app import build_app
from bot.events import IncomingMessage, OutgoingMessage, Platform, PlatformEvent
from config.environment import Secrets
from config.settings import load_settings
from tests.adapters.fake_telegram import FakeTelegram

FIRST_CHAT_ID = -1001900000000
FIRST_USER_ID = 880000000


@dataclass
class Measured:
    """When each update was injected and when the pipeline finished with it."""

    injected_at: dict[tuple[str, str], float] = field(default_factory=dict)
    handled_at: dict[tuple[str, str], float] = field(default_factory=dict)
    handled_count: int = 0
    requests: set[tuple[str, str]] = field(default_factory=set)


class TimedAdapter:
    """The real Telegram adapter, with the pipeline's finishing time of each message noted."""

    platform = Platform.TELEGRAM

    def __init__(self, inner: TelegramAdapter, measured: Measured) -> None:
        self._inner, self._measured = inner, measured

    async def run(self, sink: EventSink) -> None:
        """Run the real adapter with a sink that notes when each message was handled."""

        async def timed(event: IncomingMessage | PlatformEvent) -> None:
            await sink(event)
            if isinstance(event, IncomingMessage):
                key = (event.chat.chat_id, event.message_id)
                self._measured.handled_at[key] = time.monotonic()
                self._measured.handled_count += 1

        await self._inner.run(timed)

    async def send(self, message: OutgoingMessage) -> None:
        """Send through the real adapter."""
        await self._inner.send(message)


async def inject(
    fake: FakeTelegram, measured: Measured, arguments: argparse.Namespace, users: int
) -> None:
    """Residents write in the groups: chatter mostly, a share of repair requests."""
    chance = random.Random(arguments.seed)
    for index in range(arguments.updates):
        chat_id = FIRST_CHAT_ID - index % arguments.groups
        user_id = FIRST_USER_ID + chance.randrange(users)
        is_request = chance.random() < arguments.request_share
        if is_request:
            template = chance.choice(REQUESTS)
            text = template.format(b=chance.randint(1, 12), u=chance.randint(1, 4))
        else:
            text = chance.choice(CHATTER)
        message_id = fake.say(chat_id, user_id, text)
        key = (str(chat_id), str(message_id))
        measured.injected_at[key] = time.monotonic()
        if is_request:
            measured.requests.add(key)
        if arguments.rate:
            await asyncio.sleep(1 / arguments.rate)


async def bench(arguments: argparse.Namespace) -> int:
    """Run one bench and print its figures; 1 if answers are missing or duplicated."""
    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    settings = load_settings(
        bench_config(workdir, arguments.groups, lambda n: f"telegram_chat_id = {FIRST_CHAT_ID - n}")
    )
    users = max(50, arguments.groups * 3)
    measured = Measured()
    async with FakeTelegram(flood_control=True) as fake:
        for n in range(arguments.groups):
            fake.add_group(FIRST_CHAT_ID - n, f"桃源5幢1单元楼道群{n}", supergroup=True)
        for n in range(users):
            fake.add_user(FIRST_USER_ID + n, f"居民{n}")
        adapter = TimedAdapter(
            TelegramAdapter(fake.token, TelegramOptions(), api_base=fake.base_url), measured
        )
        app = build_app(
            settings,
            Secrets(),
            adapters=[adapter],
            database_url=f"sqlite+aiosqlite:///{workdir / 'linli.db'}",
        )
        async with app.lifespan():
            await fake.wait_for(lambda: "getUpdates" in fake.received, within=30)
            started = time.monotonic()
            await inject(fake, measured, arguments, users)

            def finished() -> bool:
                if measured.handled_count < arguments.updates:
                    return False
                answered = {(str(m.chat_id), str(m.reply_to_message_id)) for m in fake.sent}
                return measured.requests <= answered

            await fake.wait_for(finished, within=arguments.timeout, what="every answer")
            handled_until = max(measured.handled_at.values())
            # Anything sent twice would show up shortly after: give the dispatcher a moment.
            await asyncio.sleep(1.0)
    report(fake, measured, started, handled_until)
    duplicates = duplicate_answers(fake)
    return 1 if duplicates or fake.too_many_requests else 0


def duplicate_answers(fake: FakeTelegram) -> int:
    """Answers to a message that had already been answered."""
    replies = Counter(
        (m.chat_id, m.reply_to_message_id) for m in fake.sent if m.reply_to_message_id
    )
    return sum(count - 1 for count in replies.values())


def report(fake: FakeTelegram, measured: Measured, started: float, handled_until: float) -> None:
    """Print the figures."""
    latencies = []
    for message in fake.sent:
        key = (str(message.chat_id), str(message.reply_to_message_id))
        if key in measured.injected_at:
            latencies.append((message.at - measured.injected_at[key]) * 1000)
    handled_seconds = handled_until - started
    answers_span = max(m.at for m in fake.sent) - min(m.at for m in fake.sent)
    updates = len(measured.injected_at)
    print(f"updates injected       {updates} in {len({c for c, _ in measured.injected_at})} groups")
    print(f"updates handled        {measured.handled_count} in {handled_seconds:.2f} s")
    print(f"updates/s handled      {measured.handled_count / handled_seconds:.1f}")
    answered = {(m.chat_id, m.reply_to_message_id) for m in fake.sent if m.reply_to_message_id}
    print(
        f"answers sent           {len(fake.sent)} to {len(answered)} messages "
        f"({len(measured.requests)} of them repair requests)"
    )
    print(f"answers/s sent         {len(fake.sent) / max(answers_span, 1e-9):.1f}")
    print(f"answer latency p50     {percentile(latencies, 0.50):.0f} ms")
    print(f"answer latency p99     {percentile(latencies, 0.99):.0f} ms")
    print(f"429 responses          {fake.too_many_requests}")
    print(f"duplicate answers      {duplicate_answers(fake)}")


def main() -> int:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--request-share", type=float, default=0.25)
    parser.add_argument("--rate", type=float, default=0, help="updates/s injected; 0 = burst")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=600)
    arguments = parser.parse_args()
    # PTB 22.8 warns inside RetryAfter() unless its timedelta periods are opted into.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    return asyncio.run(bench(arguments))


if __name__ == "__main__":
    sys.exit(main())
