"""Ingest benchmark: N messages through the real pipeline into SQLite, against raw jieba.

Messages are the real dev set (../shared/data/requests-dev.jsonl) mixed with chat lines from
the training corpus, cycled to N. Each goes through dedupe, classification, routing, ticket
storage and the outbox, durably (WAL, synchronous=FULL). For each burst size (messages in
flight at once, as adapters hand them over) it prints messages/s, p50/p99 latency per message
(until its transaction committed) and main-thread CPU per message, marking the setting that
`worker_processes = "auto"` (the default) picks on this machine; then peak RSS, raw
`jieba.lcut` messages/s on the same texts, the ratio, and the cost of one durable commit on this
disk (the floor under every batch). Sending the outbox is timed separately.

    .venv/bin/python bench/ingest.py [--messages 3000] [--in-flight 32 256]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "requests-dev.jsonl"
CHAT = ROOT / "corpus" / "parts" / "none.jsonl"


class NullAdapter:
    """Accepts every message; the benchmark measures Linli, not a network."""

    platform = None  # set in main() to Platform.CONSOLE

    def __init__(self) -> None:
        self.sent = 0

    async def run(self, sink: object) -> None:
        del sink

    async def send(self, message: object) -> None:
        del message
        self.sent += 1


def load_texts(count: int) -> list[str]:
    texts: list[str] = []
    for path in (DEV, CHAT):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    if not texts:
        raise SystemExit(f"no texts found in {DEV} or {CHAT}")
    return [texts[i % len(texts)] for i in range(count)]


@dataclass(frozen=True)
class Run:
    """What one burst size measured."""

    in_flight: int
    workers: int
    latencies: list[float]
    elapsed: float
    cpu: float  # main-thread CPU seconds: what other load on the machine does not inflate
    sent: int
    delivery: float


async def run_pipeline(texts: list[str], concurrency: int, workers: int) -> Run:
    from bot.app import build_app
    from bot.clock import FakeClock
    from bot.events import ChatRef, IncomingMessage, Platform, UserRef
    from config.environment import Secrets, demo_config_path
    from config.settings import load_settings

    settings = load_settings(demo_config_path())
    settings = replace(settings, classifier=replace(settings.classifier, worker_processes=workers))
    groups = [g.id for g in settings.groups]
    NullAdapter.platform = Platform.CONSOLE  # type: ignore[assignment]
    adapter = NullAdapter()
    clock = FakeClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(
            settings,
            Secrets(),
            clock=clock,
            adapters=[adapter],  # type: ignore[list-item]
            database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
        )
        await app.start()
        latencies: list[float] = []
        started, cpu_started = time.perf_counter(), time.thread_time()

        async def one(index: int, text: str) -> None:
            clock.set(clock.now() + timedelta(seconds=7))
            message = IncomingMessage(
                message_id=f"b{index}",
                chat=ChatRef(Platform.CONSOLE, groups[index % len(groups)]),
                sender=UserRef(Platform.CONSOLE, f"resident-{index % 97}"),
                text=text,
                sent_at=clock.now(),
            )
            before = time.perf_counter()
            await app.pipeline.handle(message)
            latencies.append(time.perf_counter() - before)

        # Messages arrive as a burst from many chats: `concurrency` are in flight at any time,
        # as adapters hand them over (each call returns once its message is committed, and
        # the next message starts as soon as one returns).
        slots = asyncio.Semaphore(concurrency)

        async def admitted(index: int, text: str) -> None:
            try:
                await one(index, text)
            finally:
                slots.release()

        tasks = []
        for index, text in enumerate(texts):
            await slots.acquire()
            tasks.append(asyncio.create_task(admitted(index, text)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        cpu = time.thread_time() - cpu_started
        # Sending is the dispatcher's job, paced by each platform's limits in production; it
        # is timed on its own here (to an adapter that accepts everything at once).
        sending = time.perf_counter()
        await app.deliver()
        delivery = time.perf_counter() - sending
        await app.stop()
    return Run(concurrency, workers, latencies, elapsed, cpu, adapter.sent, delivery)


def raw_jieba(texts: list[str]) -> float:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return len(texts) / (time.perf_counter() - started)


def durable_commit_seconds(commits: int = 100) -> float:
    """One small transaction committed with the pipeline's pragmas (WAL, synchronous=FULL)."""
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "fsync.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE t (n INTEGER)")
        started = time.perf_counter()
        for n in range(commits):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t VALUES (?)", (n,))
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
    return elapsed / commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--in-flight", type=int, nargs="+", default=[32, 256], help="burst sizes to measure"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[0, 1],
        help="[classifier] worker_processes settings to measure (0: on the event loop)",
    )
    args = parser.parse_args()
    from config.sections import ClassifierSettings

    default_workers = ClassifierSettings().workers  # what "auto" starts on this machine
    texts = load_texts(args.messages)
    runs = [
        asyncio.run(run_pipeline(texts, in_flight, workers))
        for workers in args.workers
        for in_flight in args.in_flight
    ]
    jieba_rate = raw_jieba(texts)
    commit = durable_commit_seconds()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"messages                {len(texts)} (dev set + corpus chat, cycled)")
    print(f"raw jieba.lcut          {jieba_rate:,.0f} messages/s (same texts, same run)")
    print(f"durable commit          {commit * 1000:.2f} ms each on this disk (one per batch)")
    print()
    print(
        "classifier      in flight   messages/s   p50 ms   p99 ms   loop CPU us/msg"
        "   ratio (target >= 0.25)"
    )
    for run in runs:
        rate = len(texts) / run.elapsed
        cut = statistics.quantiles(run.latencies, n=100)
        where = "event loop" if run.workers == 0 else f"{run.workers} process"
        print(
            f"{where:<14}  {run.in_flight:>9}   {rate:>10,.0f}"
            f"   {cut[49] * 1000:>6.2f}   {cut[98] * 1000:>6.1f}"
            f"   {run.cpu / len(texts) * 1e6:>15.0f}   {rate / jieba_rate:.3f}"
            + ("   (default here)" if run.workers == default_workers else "")
        )
    print()
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS                {peak_mb:.0f} MB (a classifier worker: {worker_mb:.0f} MB)")
    last = runs[-1]
    print(
        f"outbox delivery         {last.sent} messages in {last.delivery:.2f} s "
        f"({last.sent / last.delivery:,.0f}/s to a null adapter, one commit per send; "
        "not in the figures above)"
    )


if __name__ == "__main__":
    main()
