"""Votes benchmark: 1,000 concurrent ballots through the real pipeline into SQLite.

A register of N owners (one unit each, random exact areas) is imported for 桃源小区 and the
compound secretary opens an owners' decision in its Telegram group. Then all ballots are handed
to the pipeline at once with asyncio.gather: half typed in the group, half privately, and a
tenth of the owners change their mind with a second ballot in the same chat. Prints the time
taken and checks the stored tally against a count made here: every owner counted exactly once,
with their last choice, and the audit chain intact.

    .venv/bin/python bench/votes.py [--ballots 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from bot.app import build_app
from bot.clock import FakeClock
from bot.domain.owners import parse_register
from bot.domain.vote_ports import VerifyReport, VoteTally
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from config.environment import Secrets, demo_config_path
from config.settings import load_settings

WORDS = {1: "同意", 2: "反对", 3: "弃权"}
FIRST_USER = 7_000_000


class NullAdapter:
    """Accepts every message; the benchmark measures Linli, not a network."""

    platform = Platform.TELEGRAM

    def __init__(self) -> None:
        self.sent = 0

    async def run(self, sink: object) -> None:
        del sink

    async def send(self, message: OutgoingMessage) -> None:
        del message
        self.sent += 1


def register_csv(owners: int, rng: random.Random) -> tuple[str, dict[str, Decimal]]:
    lines = ["room,area,owner,phone,telegram_user_id"]
    areas: dict[str, Decimal] = {}
    for i in range(owners):
        area = Decimal(rng.randint(4000, 16000)) / 100
        user = str(FIRST_USER + i)
        areas[user] = area
        lines.append(f"{i // 100 + 1}-{i % 100 + 101},{area},业主{i},139{i:08d},{user}")
    return "\n".join(lines) + "\n", areas


def plan(ballots: int, rng: random.Random) -> tuple[list[tuple[str, int, bool]], dict[str, int]]:
    """(telegram user, choice, in group) per ballot; changers vote twice in the same chat."""
    voters = round(ballots / 1.1)
    changers = ballots - voters
    casts: list[tuple[str, int, bool]] = []
    last: dict[str, int] = {}
    for i in range(voters):
        user, in_group = str(FIRST_USER + i), i % 2 == 0
        choices = [rng.randint(1, 3)] + ([rng.randint(1, 3)] if i < changers else [])
        casts += [(user, choice, in_group) for choice in choices]
        last[user] = choices[-1]
    return casts, last


def message(
    index: int, user: str, choice: int, in_group: bool, group_chat: str, now: datetime
) -> IncomingMessage:
    chat = ChatRef(Platform.TELEGRAM, group_chat if in_group else user, is_group=in_group)
    return IncomingMessage(
        message_id=f"ballot-{index}",
        chat=chat,
        sender=UserRef(Platform.TELEGRAM, user, f"业主{user}"),
        text=WORDS[choice],
        sent_at=now,
    )


async def run(ballots: int) -> int:
    rng = random.Random(278)
    settings = load_settings(demo_config_path())
    group = settings.group("g-taoyuan")
    casts, last = plan(ballots, rng)
    text, areas = register_csv(len(last) + len(last) // 10, rng)  # some owners never vote
    clock = FakeClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    adapter = NullAdapter()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(
            settings,
            Secrets(),
            clock=clock,
            adapters=[adapter],
            database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
        )
        await app.start()
        votes = app.services.votes
        await votes.import_register("taoyuan", parse_register(text, "bench.csv"))
        opening = IncomingMessage(
            message_id="open",
            chat=ChatRef(Platform.TELEGRAM, str(group.telegram_chat_id)),
            sender=UserRef(Platform.TELEGRAM, "510000002", "李书记"),
            text="/表决 选聘物业 续聘物业公司 截止 3天后",
            sent_at=clock.now(),
        )
        await app.pipeline.handle(opening)
        messages = [
            message(i, user, choice, in_group, str(group.telegram_chat_id), clock.now())
            for i, (user, choice, in_group) in enumerate(casts)
        ]
        latencies: list[float] = []

        async def timed(incoming: IncomingMessage) -> None:
            before = time.perf_counter()
            await app.pipeline.handle(incoming)
            latencies.append(time.perf_counter() - before)

        started = time.perf_counter()
        await asyncio.gather(*(timed(m) for m in messages))
        elapsed = time.perf_counter() - started
        tally = await votes.tally(1)
        report = await votes.verify(1)
        await app.deliver()
        await app.stop()
    print(f"ballots                 {ballots} from {len(last)} owners, {len(areas)} in register")
    print(f"time                    {elapsed:.2f} s ({ballots / elapsed:,.0f} ballots/s)")
    cut = statistics.quantiles(latencies, n=100)
    print(f"latency per ballot      p50 {cut[49] * 1000:.0f} ms   p99 {cut[98] * 1000:.0f} ms")
    print(f"answers delivered       {adapter.sent}")
    return check(last, areas, tally, report)


def check(
    last: dict[str, int], areas: dict[str, Decimal], tally: VoteTally, report: VerifyReport
) -> int:
    """Compare the stored count with one made here; 0 when exact, single and intact."""
    result = tally.decision
    if result is None:
        raise SystemExit("vote 1 is not a decision")
    expected_heads = {c: sum(1 for v in last.values() if v == c) for c in (1, 2, 3)}
    expected_area = {
        c: sum((Fraction(areas[u]) for u, v in last.items() if v == c), Fraction(0))
        for c in (1, 2, 3)
    }
    heads = {1: result.agree_heads, 2: result.oppose_heads, 3: result.abstain_heads}
    area = {1: result.agree_area, 2: result.oppose_area, 3: result.abstain_area}
    exact = heads == expected_heads and area == expected_area
    single = result.participating_heads == len(last) and len(report.recount.ballots) == len(last)
    print(f"tally (heads)           同意 {heads[1]}  反对 {heads[2]}  弃权 {heads[3]}")
    print(
        f"tally (area m²)         同意 {float(area[1]):.2f}  反对 {float(area[2]):.2f}  "
        f"弃权 {float(area[3]):.2f}"
    )
    print(f"exact tally             {'yes' if exact else 'NO'} (recounted here with Fractions)")
    print(
        f"no double count         {'yes' if single else 'NO'} "
        f"({result.participating_heads} counted, {report.recount.ballots_cast} ballots in chain)"
    )
    chain = "intact" if report.intact else "BROKEN: " + "; ".join(report.problems)
    print(f"audit chain             {chain}")
    return 0 if exact and single and report.intact else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=1000)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.ballots)))


if __name__ == "__main__":
    main()
