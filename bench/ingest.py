"""Ingest benchmark: N messages through the real pipeline into SQLite, against raw jieba.

Messages are the real dev set (../shared/data/requests-dev.jsonl) mixed with chat lines from
the training corpus, cycled to N. Each goes through dedupe, classification, routing, ticket
storage and the outbox, durably (WAL, synchronous=FULL). Prints messages/s, p50/p99 latency per
message (until its transaction committed) and peak RSS, then raw `jieba.lcut` messages/s on
the same texts and the ratio. Sending the outbox is timed separately.

    .venv/bin/python bench/ingest.py [--messages 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
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


async def run_pipeline(texts: list[str], concurrency: int) -> tuple[list[float], float, int, float]:
    from bot.app import build_app
    from bot.clock import FakeClock
    from bot.events import ChatRef, IncomingMessage, Platform, UserRef
    from config.environment import Secrets, demo_config_path
    from config.settings import load_settings

    settings = load_settings(demo_config_path())
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
        started = time.perf_counter()

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

        # Messages arrive as a burst from many chats: `concurrency` are in flight at a time,
        # as adapters hand them over (each call returns once its message is committed).
        for start in range(0, len(texts), concurrency):
            window = texts[start : start + concurrency]
            await asyncio.gather(*(one(start + i, t) for i, t in enumerate(window)))
        elapsed = time.perf_counter() - started
        # Sending is the dispatcher's job, paced by each platform's limits in production; it
        # is timed on its own here (to an adapter that accepts everything at once).
        sending = time.perf_counter()
        await app.deliver()
        delivery = time.perf_counter() - sending
        await app.stop()
    return latencies, elapsed, adapter.sent, delivery


def raw_jieba(texts: list[str]) -> float:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32, help="messages in flight")
    args = parser.parse_args()
    texts = load_texts(args.messages)
    latencies, elapsed, sent, delivery = asyncio.run(run_pipeline(texts, args.concurrency))
    rate = len(texts) / elapsed
    jieba_rate = raw_jieba(texts)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"messages                {len(texts)}, {args.concurrency} in flight "
        f"(replies and alerts sent: {sent})"
    )
    print(f"pipeline                {rate:,.0f} messages/s")
    print(f"latency per message     p50 {cut[49] * 1000:.2f} ms   p99 {cut[98] * 1000:.2f} ms")
    print(f"peak RSS                {peak_mb:.0f} MB")
    print(
        f"outbox delivery         {sent} messages in {delivery:.2f} s "
        f"({sent / delivery:,.0f}/s to a null adapter, not in the figures above)"
    )
    print(f"raw jieba.lcut          {jieba_rate:,.0f} messages/s (same texts, same run)")
    print(f"ratio pipeline/jieba    {rate / jieba_rate:.3f} (target >= 0.25)")


if __name__ == "__main__":
    main()
