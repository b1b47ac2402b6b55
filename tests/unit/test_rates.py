"""The three rates: SQL counting agrees with the definitions on random tickets; periods."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.rates import RateCounts, last_days, this_month, this_week
from bot.domain.ticket_models import Followup
from bot.domain.tickets import Rating, Ticket, TicketEvent, TicketSource, TicketState
from bot.events import ChatRef, Platform, RequestType
from storage.db import Database
from storage.migrate import upgrade
from storage.tickets import SqlTicketRepository

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, tzinfo=UTC)
NODES = ("taoyuan-5-1", "taoyuan", "meiyuan-2-1")
FINISHED = (TicketState.RESOLVED, TicketState.CLOSED)


def _ticket(rng: random.Random) -> Ticket:
    created = START + timedelta(hours=rng.randrange(0, 24 * 20))
    state = rng.choice(list(TicketState))
    accepted = None
    if state is not TicketState.OPEN and rng.random() < 0.8:
        accepted = created + timedelta(hours=rng.randrange(0, 60))
    resolved = None
    if state in (*FINISHED, TicketState.REOPENED):
        resolved = created + timedelta(hours=rng.randrange(1, 200))
    return Ticket(
        id=0,
        number=0,
        request_type=rng.choice([t for t in RequestType if t is not RequestType.NONE]),
        state=state,
        urgent=False,
        text="x",
        location=None,
        cues=(),
        confidence=1.0,
        reporter_id="r",
        reporter_name="",
        node=rng.choice(NODES),
        assignees=(),
        source=TicketSource(ChatRef(Platform.CONSOLE, "g-ty51"), "m", "g-ty51"),
        image=None,
        created_at=created,
        updated_at=created,
        respond_by_at=created + timedelta(hours=24),
        resolve_by_at=created + timedelta(hours=72),
        accepted_at=accepted,
        resolved_at=resolved,
    )


def _reference(
    tickets: list[tuple[Ticket, list[Rating]]],
    nodes: frozenset[str] | None,
    since: datetime,
    until: datetime,
    now: datetime,
) -> RateCounts:
    """The definitions of bot/domain/rates.py, spelled out in Python."""
    chosen = [
        (t, ratings)
        for t, ratings in tickets
        if since <= t.created_at < until
        and t.state not in (TicketState.MERGED, TicketState.REFERRED)
        and (nodes is None or t.node in nodes)
    ]
    rated = [r for _, ratings in chosen for r in ratings]
    return RateCounts(
        opened=len(chosen),
        due_response=sum(t.accepted_at is not None or t.respond_by_at <= now for t, _ in chosen),
        responded_in_time=sum(
            t.accepted_at is not None and t.accepted_at <= t.respond_by_at for t, _ in chosen
        ),
        due_resolution=sum(t.resolved_at is not None or t.resolve_by_at <= now for t, _ in chosen),
        resolved=sum(t.state in FINISHED for t, _ in chosen),
        rated=len(rated),
        satisfied=sum(r.is_positive for r in rated),
    )


async def test_sql_counts_agree_with_the_definitions(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'rates.db'}")
    try:
        await upgrade(database)
        repository = SqlTicketRepository(database)
        stored: list[tuple[Ticket, list[Rating]]] = []
        for _ in range(150):
            ticket = await repository.add(
                _ticket(rng), TicketEvent("opened", "r", START, to_state=TicketState.OPEN)
            )
            ratings = [rng.choice(list(Rating)) for _ in range(rng.randrange(0, 3))]
            for rating in ratings:
                chat = ChatRef(Platform.CONSOLE, "r", is_group=False)
                await repository.add_followup(Followup(0, ticket.id, "r", chat, START))
                asked = await repository.followups(ticket.id)
                await repository.answer_followup(asked[-1].id, rating, START)
            stored.append((ticket, ratings))
        cases = [
            (None, START, START + timedelta(days=30), START + timedelta(days=30)),
            (frozenset({"taoyuan-5-1", "taoyuan"}), START, START + timedelta(days=10),
             START + timedelta(days=12)),
            (frozenset({"meiyuan-2-1"}), START + timedelta(days=5), START + timedelta(days=9),
             START + timedelta(days=7)),
        ]  # fmt: skip
        for nodes, since, until, now in cases:
            counted = await repository.rate_counts(nodes, since, until, now)
            assert counted == _reference(stored, nodes, since, until, now)
            assert counted.opened > 0 and counted.rated > 0
    finally:
        await database.close()


def test_rates_are_exact_fractions_and_none_without_data() -> None:
    counts = RateCounts(
        opened=3, due_response=3, responded_in_time=2, due_resolution=0, rated=4, satisfied=3
    )
    assert counts.response_rate == Fraction(2, 3)
    assert counts.resolution_rate is None
    assert counts.satisfaction_rate == Fraction(3, 4)


def test_periods_start_at_local_midnight() -> None:
    now = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)  # Thursday 11:00 in Shanghai
    assert last_days(now, 7, TZ).since == datetime(2026, 12, 4, tzinfo=TZ)
    assert this_week(now, TZ).since == datetime(2026, 12, 7, tzinfo=TZ)
    assert this_month(now, TZ).since == datetime(2026, 12, 1, tzinfo=TZ)
    assert this_month(now, TZ).until == now
