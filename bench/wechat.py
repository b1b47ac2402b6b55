"""Bench: room messages through the fake puppet service, end to end with the real app.

Prints messages/s handled, answer latency p50/p99, and the pacing the adapter actually kept,
both as the pacer granted it and as the service saw the sends arrive. WeChat's real intervals
(3 s per room, 1.5 s overall, up to 2 s jitter) would make 100 answers take minutes, so they
are scaled by --pacing-scale (default 1/50); --pacing-scale 1 runs them for real.
Run from the repository root: `.venv/bin/python -m bench.wechat [--messages 2000] [--rate 0]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.platform_common import CHATTER, REQUESTS, bench_config, percentile
from bot.adapters.base import EventSink
from bot.adapters.wechat import WechatAdapter
from bot.adapters.wechat_options import WechatOptions
from bot.adapters.wechat_pacing import Grant
from bot.app import build_app
from bot.events import IncomingMessage, OutgoingMessage, Platform, PlatformEvent
from config.environment import Secrets
from config.settings import Settings, load_settings
from tests.adapters.fake_puppet import FakePuppetService

BOT = "wxid_linli_bot"


@dataclass
class Measured:
    """When each message was injected and when the pipeline finished with it."""

    injected_at: dict[str, float] = field(default_factory=dict)
    requests: set[str] = field(default_factory=set)
    handled_at: dict[str, float] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)


class TimedAdapter:
    """The real WeChat adapter, with the pipeline's finishing time of each message noted."""

    platform = Platform.WECHAT

    def __init__(self, inner: WechatAdapter, measured: Measured) -> None:
        self.inner, self._measured = inner, measured

    async def run(self, sink: EventSink) -> None:
        """Run the real adapter with a sink that notes when each message was handled."""

        async def timed(event: IncomingMessage | PlatformEvent) -> None:
            await sink(event)
            if isinstance(event, IncomingMessage):
                self._measured.handled_at[event.message_id] = time.monotonic()

        await self.inner.run(timed)

    async def send(self, message: OutgoingMessage) -> None:
        """Send through the real adapter; note when the answer to a message was delivered."""
        await self.inner.send(message)
        if message.reply_to_id is not None:
            self._measured.answered_at.setdefault(message.reply_to_id, time.monotonic())


def room_id(n: int) -> str:
    return f"bench{n:04d}@chatroom"


def options(
    fake: FakePuppetService, data_dir: Path, settings: Settings, arguments: argparse.Namespace
) -> WechatOptions:
    """The configured [wechat] numbers, with the pacing intervals scaled."""
    defaults, scale = settings.wechat, arguments.pacing_scale
    return WechatOptions(
        endpoint=fake.endpoint,
        token=fake.token,
        data_dir=data_dir,
        min_interval_per_room_seconds=defaults.min_interval_per_room_seconds * scale,
        min_interval_overall_seconds=defaults.min_interval_overall_seconds * scale,
        jitter_seconds=defaults.jitter_seconds * scale,
        daily_cap=max(defaults.daily_cap, arguments.messages),
        watchdog_seconds=defaults.watchdog_seconds,
        reconnect_max_backoff_seconds=defaults.reconnect_max_backoff_seconds,
        random_seed=arguments.seed,
    )


async def inject(
    fake: FakePuppetService, measured: Measured, arguments: argparse.Namespace
) -> None:
    """Residents write in the rooms: chatter mostly, a share of repair requests."""
    chance = random.Random(arguments.seed)
    for index in range(arguments.messages):
        room = room_id(index % arguments.rooms)
        sender = f"wxid_bench_{chance.randrange(arguments.rooms * 3)}"
        is_request = chance.random() < arguments.request_share
        if is_request:
            template = chance.choice(REQUESTS)
            text = template.format(b=chance.randint(1, 12), u=chance.randint(1, 4))
        else:
            text = chance.choice(CHATTER)
        message_id = await fake.say(room, sender, text)
        measured.injected_at[message_id] = time.monotonic()
        if is_request:
            measured.requests.add(message_id)
        if arguments.rate:
            await asyncio.sleep(1 / arguments.rate)


async def bench(arguments: argparse.Namespace) -> int:
    """Run one bench and print its figures; 1 if answers are missing or the pacing was broken."""
    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-wechat-"))
    settings = load_settings(
        bench_config(workdir, arguments.rooms, lambda n: f'wechat_room_id = "{room_id(n)}"')
    )
    measured = Measured()
    async with FakePuppetService(self_id=BOT, heartbeat_seconds=5) as fake:
        for n in range(arguments.rooms * 3):
            fake.add_contact(f"wxid_bench_{n}", f"居民{n}")
        members = [f"wxid_bench_{n}" for n in range(arguments.rooms * 3)]
        for n in range(arguments.rooms):
            fake.add_room(room_id(n), f"桃源5幢1单元楼道群{n}", members)
        await fake.login()
        chosen = options(fake, workdir, settings, arguments)
        adapter = TimedAdapter(WechatAdapter(chosen), measured)
        app = build_app(
            settings,
            Secrets(),
            adapters=[adapter],
            database_url=f"sqlite+aiosqlite:///{workdir / 'linli.db'}",
        )
        async with app.lifespan():
            await fake.wait_until(lambda: "RoomList" in fake.calls, within=30)
            started = time.monotonic()
            await inject(fake, measured, arguments)

            def finished() -> bool:
                handled = len(measured.handled_at) >= arguments.messages
                return handled and measured.requests <= measured.answered_at.keys()

            await fake.wait_until(finished, within=arguments.timeout)
            handled_until = max(measured.handled_at.values())
            # Anything sent twice would show up shortly after: give the dispatcher a moment.
            await asyncio.sleep(1.0)
    grants = list(adapter.inner.pacer.history)
    report(fake, measured, started, handled_until, grants, chosen, arguments)
    unanswered = measured.requests - measured.answered_at.keys()
    return 1 if unanswered or broken_pacing(grants, chosen) else 0


def answer_latencies(measured: Measured) -> list[float]:
    """ms from each message to the delivery of Linli's answer to it."""
    return [
        (answered - measured.injected_at[message_id]) * 1000
        for message_id, answered in measured.answered_at.items()
        if message_id in measured.injected_at
    ]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(sorted(times))]


def min_room_gap(pairs: list[tuple[str, float]]) -> float:
    """The smallest gap between two sends into the same room."""
    by_room: dict[str, list[float]] = defaultdict(list)
    for room, at in pairs:
        by_room[room].append(at)
    room_gaps = [gap for times in by_room.values() for gap in gaps(times)]
    return min(room_gaps, default=float("inf"))


def broken_pacing(grants: list[Grant], options: WechatOptions) -> bool:
    """Whether the pacer ever granted two sends closer than the configured intervals."""
    overall = min(gaps([g.at for g in grants]), default=float("inf"))
    per_room = min_room_gap([(g.room_id, g.at) for g in grants])
    return (
        overall < options.min_interval_overall_seconds
        or per_room < options.min_interval_per_room_seconds
    )


def report(
    fake: FakePuppetService,
    measured: Measured,
    started: float,
    handled_until: float,
    grants: list[Grant],
    options: WechatOptions,
    arguments: argparse.Namespace,
) -> None:
    """Print the figures."""
    latencies = answer_latencies(measured)
    handled_seconds = handled_until - started
    arrivals = [(s.conversation_id, s.at) for s in fake.sent]
    arrival_gaps = gaps([at for _, at in arrivals])
    grant_gaps = gaps([g.at for g in grants])
    print(f"messages injected      {len(measured.injected_at)} in {arguments.rooms} rooms")
    print(f"messages handled       {len(measured.handled_at)} in {handled_seconds:.2f} s")
    print(f"messages/s handled     {len(measured.handled_at) / handled_seconds:.1f}")
    print(
        f"answers sent           {len(fake.sent)} to {len(measured.answered_at)} messages"
        f" ({len(measured.requests)} of them repair requests)"
    )
    print(f"answer latency p50     {percentile(latencies, 0.50):.0f} ms")
    print(f"answer latency p99     {percentile(latencies, 0.99):.0f} ms")
    print(f"pacing scale           {arguments.pacing_scale:g} of [wechat] in the config")
    print(
        f"configured             overall >= {options.min_interval_overall_seconds:.3f} s,"
        f" per room >= {options.min_interval_per_room_seconds:.3f} s,"
        f" jitter <= {options.jitter_seconds:.3f} s"
    )
    print(
        f"granted gaps           overall min {min(grant_gaps):.3f} s,"
        f" mean {sum(grant_gaps) / len(grant_gaps):.3f} s,"
        f" per room min {min_room_gap([(g.room_id, g.at) for g in grants]):.3f} s"
    )
    print(
        f"arrival gaps           overall min {min(arrival_gaps):.3f} s,"
        f" mean {sum(arrival_gaps) / len(arrival_gaps):.3f} s,"
        f" per room min {min_room_gap(arrivals):.3f} s"
    )
    print(f"answers/s sent         {len(fake.sent) / (max(a for _, a in arrivals) - started):.2f}")


def main() -> int:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--request-share", type=float, default=0.05)
    parser.add_argument("--pacing-scale", type=float, default=0.02)
    parser.add_argument("--rate", type=float, default=0, help="messages/s injected; 0 = burst")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900)
    return asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
