"""Ticket benchmark on SQLite: opening tickets, transitions, and the three rates over 100k rows.

Usage: python bench/tickets.py [--open N] [--tickets 100000] [--rate-runs N]
Opening and transitions go through the real TicketService (routing, duplicate search, deadlines,
history and outbox rows, each in its own transaction); the 100k rows for the rates are
bulk-inserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.app import App, build_app  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.domain.rates import Period  # noqa: E402
from bot.domain.tickets import RequestDraft, TicketSource, TicketState  # noqa: E402
from bot.events import ChatRef, Platform, RequestType  # noqa: E402
from config.environment import Secrets, demo_config_path  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.schema import tickets  # noqa: E402
from tests.fakes import RecordingAdapter  # noqa: E402

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
WORDS = "电梯楼道灯水管漏水门禁垃圾消防通道路灯井盖屋顶外墙停车噪音油烟绿化"
TYPES = [t for t in RequestType if t is not RequestType.NONE]
STAIRWELLS = [("g-ty51", "taoyuan-5-1"), ("g-ty52", "taoyuan-5-2"), ("g-my21", "meiyuan-2-1")]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(16))


async def bench_open_and_transition(app: App, clock: FakeClock, count: int) -> None:
    """Open `count` tickets, then accept and resolve each: one transaction per operation."""
    rng = random.Random(1)
    service, database = app.services.tickets, app.database
    directory = app.directory
    numbers: list[int] = []
    started = time.perf_counter()
    for index in range(count):
        clock.set(clock.now() + timedelta(seconds=30))
        group_id, node = rng.choice(STAIRWELLS)
        reporter = directory.person("p-res1")
        assert reporter is not None
        draft = RequestDraft(rng.choice(TYPES), _text(rng), urgent=False, confidence=0.9)
        source = TicketSource(ChatRef(Platform.CONSOLE, group_id), f"b{index}", group_id)
        async with database.transaction():
            opened = await service.open(draft, reporter, node, source)
        numbers.append(opened.ticket.number)
    elapsed = time.perf_counter() - started
    print(f"open:       {count / elapsed:8.0f} tickets/s ({elapsed * 1000 / count:.2f} ms each)")
    secretary = directory.person("p-sec")
    assert secretary is not None
    started = time.perf_counter()
    moves = 0
    for number in numbers:
        async with database.transaction():
            ticket = await service.accept(number, secretary, "")
            moves += 1
        if ticket.state is TicketState.ACCEPTED:
            async with database.transaction():
                await service.resolve(number, secretary, "done")
                moves += 1
    elapsed = time.perf_counter() - started
    print(
        f"transition: {moves / elapsed:8.0f} transitions/s ({elapsed * 1000 / moves:.2f} ms each)"
    )


def _row(rng: random.Random, number: int) -> dict[str, Any]:
    created = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
    state = rng.choice(list(TicketState))
    accepted = created + timedelta(hours=rng.randrange(0, 48)) if state.value != "open" else None
    resolved = created + timedelta(hours=rng.randrange(1, 200)) if state.value in (
        "resolved", "closed") else None  # fmt: skip
    group_id, node = rng.choice(STAIRWELLS)
    return {
        "number": number, "request_type": rng.choice(TYPES).value, "state": state.value,
        "urgent": False, "text": "x", "location": None, "cues": "", "confidence": 1.0,
        "reporter_id": "p-res1", "reporter_name": "", "group_id": group_id, "node": node,
        "assignees": "", "platform": "console", "chat_id": group_id, "message_id": f"r{number}",
        "image": None, "created_at": created, "updated_at": created,
        "respond_by_at": created + timedelta(hours=24),
        "resolve_by_at": created + timedelta(hours=72), "accepted_at": accepted,
        "resolved_at": resolved, "closed_at": None, "reporter_user_id": "p-res1",
        "merged_into": None, "referred_to": None, "escalation_level": 0,
    }  # fmt: skip


async def bench_rates(app: App, total: int, runs: int) -> None:
    """Bulk-insert `total` tickets, then time the rate computation for community and compound."""
    rng = random.Random(2)
    started = time.perf_counter()
    async with app.database.transaction() as connection:
        for first in range(0, total, 5000):
            rows = [_row(rng, 100000 + n) for n in range(first, min(total, first + 5000))]
            await connection.execute(insert(tickets), rows)
    print(f"bulk insert: {total} tickets in {time.perf_counter() - started:.1f} s")
    year = Period(START, START + timedelta(days=365))
    month = Period(START + timedelta(days=150), START + timedelta(days=180))
    cases = [
        ("fuqiang", "community", "year", year),
        ("taoyuan", "compound", "year", year),
        ("fuqiang", "community", "30 days", month),
        ("taoyuan", "compound", "30 days", month),
    ]
    for node, label, span, period in cases:
        started = time.perf_counter()
        for _ in range(runs):
            counts = await app.services.tickets.rates(node, period)
        elapsed = time.perf_counter() - started
        print(
            f"rates ({label}, {span}, {counts.opened} tickets): {runs / elapsed:6.1f}/s "
            f"({elapsed * 1000 / runs:.1f} ms each)"
        )


async def main(arguments: argparse.Namespace) -> None:
    """Run the benchmark on a fresh SQLite file."""
    settings = load_settings(demo_config_path())
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as folder:
        clock = FakeClock(START)
        app = build_app(
            settings,
            Secrets(),
            clock=clock,
            adapters=[RecordingAdapter()],
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
        )
        await app.start()
        try:
            await bench_open_and_transition(app, clock, arguments.open)
            await bench_rates(app, arguments.tickets, arguments.rate_runs)
        finally:
            await app.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1000, help="tickets to open and move")
    parser.add_argument("--tickets", type=int, default=100_000, help="rows for the rate part")
    parser.add_argument("--rate-runs", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
