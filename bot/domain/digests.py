"""Secretaries' morning digest (日报) and the Monday weekly review (周研判), from ticket facts:
built for each secretary's node, sent privately once each day, and on demand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.community import Directory, Level, Node, Person, Role
from bot.domain.rates import Period, RateCounts
from bot.domain.reminders import QuietHours, SendLedger, SendOutcome, at_local, next_local
from bot.domain.units import UnitOfWork
from bot.domain.visitor_days import VisitorDay
from bot.domain.votes import Vote
from bot.errors import NotAllowed
from bot.events import RequestType

EPOCH_KEY = "epoch:digests"
KINDS = ("digest", "weekly")


def _ledger_key(kind: str, person: Person, day: date) -> str:
    """The send ledger's record of one person's digest or weekly review of one day."""
    return f"{kind}:{person.id}:{day.isoformat()}"


RATES_WINDOW = timedelta(days=30)
STALE_AFTER = timedelta(days=7)
ACTIVE = frozenset({"open", "accepted", "in_progress", "reopened"})
DONE = frozenset({"resolved", "closed"})


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What a digest needs to know about one ticket."""

    number: int
    request_type: RequestType
    state: str
    urgent: bool
    node: str
    assignees: tuple[str, ...]
    created_at: datetime
    respond_by_at: datetime
    resolve_by_at: datetime
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    satisfied: bool | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Active and past its response (not accepted) or resolution deadline."""
        if self.state not in ACTIVE:
            return False
        late_response = self.accepted_at is None and self.respond_by_at < now
        return late_response or self.resolve_by_at < now


@dataclass(frozen=True, slots=True)
class Digest:
    """One node's morning digest for `day` (covering the day before)."""

    scope: Node
    day: date
    new_by_type: Mapping[RequestType, int]
    new_by_compound: Mapping[str, int]
    overdue: tuple[TicketFacts, ...]
    resolved: tuple[TicketFacts, ...]
    rates: RateCounts
    next_visitor_day: VisitorDay | None
    votes_in_progress: tuple[Vote, ...] = ()


@dataclass(frozen=True, slots=True)
class WeeklyReview:
    """The week before `day` against the week before that, for the 民呼我为 meeting."""

    scope: Node
    day: date
    this_week: Mapping[RequestType, int]
    last_week: Mapping[RequestType, int]
    per_day: Mapping[date, Mapping[RequestType, int]]
    stale: tuple[TicketFacts, ...]
    lowest_rated: tuple[tuple[str, float], ...]
    rates: RateCounts


class DigestRepository(Protocol):
    """Read-only ticket facts for digests (storage/digests.py)."""

    async def facts(self, nodes: frozenset[str] | None, since: datetime) -> list[TicketFacts]:
        """Tickets at these nodes (None: all) created, resolved or still active since `since`."""
        ...


class RateSource(Protocol):
    """The ticket loop's three rates (TicketService.rates, definitions in bot/domain/rates.py)."""

    async def rates(self, node_id: str, period: Period) -> RateCounts:
        """Counts behind the rates for tickets opened at or below a node in the period."""
        ...


class VoteSource(Protocol):
    """Open votes (storage/votes.py SqlVoteRepository)."""

    async def open_votes(self) -> list[Vote]:
        """Every open vote, oldest first."""
        ...


class VisitorDays(Protocol):
    """What the digest asks the visitor-day service."""

    async def next_visitor_day(self) -> VisitorDay | None:
        """The next visitor day that has not ended."""
        ...


@dataclass(frozen=True, slots=True)
class DrawnReview:
    """A weekly review with its chart (the path of a PNG image)."""

    review: WeeklyReview
    chart: str


class DigestNotifier(Protocol):
    """Renders digests and sends them privately (handlers/digests.py)."""

    async def digest(self, person: Person, digest: Digest, not_before_at: datetime) -> None:
        """The morning digest."""
        ...

    async def draw(self, review: WeeklyReview) -> DrawnReview:
        """Draw the review's chart: slow, so never inside a write transaction."""
        ...

    async def weekly_review(
        self, person: Person, drawn: DrawnReview, not_before_at: datetime
    ) -> None:
        """The weekly review with its chart."""
        ...


@dataclass(frozen=True, slots=True)
class DigestTimes:
    """When digests go out: local time, and the ISO weekday of the weekly review."""

    at: time
    weekly_review_weekday: int


class DigestService:
    """Builds digests for a recipient's node and sends each one once per day."""

    def __init__(
        self,
        repository: DigestRepository,
        rate_source: RateSource,
        visitor_days: VisitorDays,
        votes: VoteSource,
        ledger: SendLedger,
        notifier: DigestNotifier,
        unit_of_work: UnitOfWork,
        directory: Directory,
        times: DigestTimes,
        quiet_hours: QuietHours,
        clock: Clock,
    ) -> None:
        self._repository, self._visitor_days, self._ledger = repository, visitor_days, ledger
        self._rate_source, self._votes = rate_source, votes
        self._notifier, self._unit_of_work, self._directory = notifier, unit_of_work, directory
        self._times, self._quiet, self._clock = times, quiet_hours, clock
        self._epoch_at: datetime | None = None
        self.name = "digests"

    @property
    def timezone(self) -> ZoneInfo:
        """The community's time zone."""
        return self._quiet.timezone

    def recipients(self) -> list[tuple[Person, Node]]:
        """Each secretary with the community, each compound secretary with their compound."""
        found: list[tuple[Person, Node]] = []
        for person in self._directory.people():
            scope = self.scope_of(person)
            if scope is not None:
                found.append((person, scope))
        return found

    def scope_of(self, person: Person) -> Node | None:
        """The node whose digest a person receives, if any."""
        if person.has(Role.SECRETARY):
            return self._directory.community
        if person.has(Role.COMPOUND_SECRETARY):
            return self._directory.compound_of(person.node)
        return None

    def _nodes(self, scope: Node) -> frozenset[str] | None:
        if scope.level is Level.COMMUNITY:
            return None
        return frozenset(
            n for n in self._directory.node_ids() if self._directory.is_within(n, scope.id)
        )

    async def digest_for(self, person: Person) -> Digest:
        """Today's digest for the person's node (`/digest`)."""
        scope = self.scope_of(person)
        if scope is None:
            raise NotAllowed("digest.not_allowed")
        return await self._digest(scope, self._clock.now())

    async def _digest(self, scope: Node, now: datetime) -> Digest:
        today = now.astimezone(self.timezone).date()
        start, end = self._day_bounds(today - timedelta(days=1))
        facts = await self._repository.facts(self._nodes(scope), now - RATES_WINDOW)
        new = [f for f in facts if start <= f.created_at < end]
        compounds = Counter(self._compound_name(f.node) for f in new)
        return Digest(
            scope=scope,
            day=today,
            new_by_type=Counter(f.request_type for f in new),
            new_by_compound=dict(compounds),
            overdue=tuple(f for f in facts if f.is_overdue(now)),
            resolved=tuple(f for f in facts if f.resolved_at and start <= f.resolved_at < end),
            rates=await self._rate_source.rates(scope.id, Period(now - RATES_WINDOW, now)),
            next_visitor_day=await self._visitor_days.next_visitor_day(),
            votes_in_progress=await self._votes_within(scope),
        )

    async def _votes_within(self, scope: Node) -> tuple[Vote, ...]:
        """Open votes of groups at or below the scope (a vote's node may have left the config)."""
        return tuple(
            vote
            for vote in await self._votes.open_votes()
            if self._directory.has_node(vote.node)
            and self._directory.is_within(vote.node, scope.id)
        )

    async def weekly_review_for(self, person: Person) -> WeeklyReview:
        """The weekly review for the person's node, as of now."""
        scope = self.scope_of(person)
        if scope is None:
            raise NotAllowed("digest.weekly_not_allowed")
        return await self._weekly(scope, self._clock.now())

    async def draw_weekly_review(self, person: Person) -> DrawnReview:
        """The weekly review for the person's node with its chart (before the transaction)."""
        return await self._notifier.draw(await self.weekly_review_for(person))

    async def send_weekly_review(self, person: Person, drawn: DrawnReview) -> None:
        """The weekly review now, privately (`/weekly`)."""
        await self._notifier.weekly_review(person, drawn, self._clock.now())

    async def _weekly(self, scope: Node, now: datetime) -> WeeklyReview:
        today = now.astimezone(self.timezone).date()
        week_start, _ = self._day_bounds(today - timedelta(days=7))
        before_start, _ = self._day_bounds(today - timedelta(days=14))
        end, _ = self._day_bounds(today)
        facts = await self._repository.facts(self._nodes(scope), before_start)
        this_week = [f for f in facts if week_start <= f.created_at < end]
        last_week = [f for f in facts if before_start <= f.created_at < week_start]
        per_day: dict[date, Counter[RequestType]] = {
            today - timedelta(days=offset): Counter() for offset in range(7, 0, -1)
        }
        for fact in this_week:
            per_day[fact.created_at.astimezone(self.timezone).date()][fact.request_type] += 1
        return WeeklyReview(
            scope=scope,
            day=today,
            this_week=Counter(f.request_type for f in this_week),
            last_week=Counter(f.request_type for f in last_week),
            per_day=per_day,
            stale=tuple(f for f in facts if f.state in ACTIVE and f.created_at < now - STALE_AFTER),
            lowest_rated=self._lowest_rated(this_week),
            rates=await self._rate_source.rates(scope.id, Period(week_start, end)),
        )

    def _lowest_rated(self, facts: Sequence[TicketFacts]) -> tuple[tuple[str, float], ...]:
        """Property and grid staff by their share of satisfied ratings this week, lowest first."""
        ratings: dict[str, list[bool]] = {}
        for fact in facts:
            if fact.satisfied is None:
                continue
            for person_id in fact.assignees:
                person = self._directory.person(person_id)
                if person is not None and person.has(Role.PROPERTY, Role.GRID_WORKER):
                    ratings.setdefault(person.name, []).append(fact.satisfied)
        averages = sorted((sum(r) / len(r), name) for name, r in ratings.items())
        return tuple((name, average) for average, name in averages[:3])

    def _compound_name(self, node_id: str) -> str:
        compound = self._directory.compound_of(node_id)
        return compound.name if compound is not None else self._directory.community.name

    def _day_bounds(self, day: date) -> tuple[datetime, datetime]:
        return (
            at_local(day, time(0), self.timezone),
            at_local(day + timedelta(days=1), time(0), self.timezone),
        )

    async def _epoch(self, now: datetime) -> datetime:
        """When this service first ran on this database (stored once, so cached after)."""
        if self._epoch_at is None:
            self._epoch_at = await self._ledger.first(EPOCH_KEY, now)
        return self._epoch_at

    async def run_due(self) -> None:
        """Send today's digest (and on the review weekday the weekly review) once each."""
        now = self._clock.now()
        today = now.astimezone(self.timezone).date()
        due_at = at_local(today, self._times.at, self.timezone)
        # Digests due before Linli first ran here are history; one missed while down is sent
        # late the same day, and a day later the next digest covers it.
        if due_at > now or due_at < await self._epoch(now):
            return
        weekly = today.isoweekday() == self._times.weekly_review_weekday
        recipients = self.recipients()
        keys = [_ledger_key(kind, p, today) for p, _ in recipients for kind in KINDS]
        claimed = await self._ledger.claimed(keys)
        if not set(keys) - claimed:
            return  # the common case at every tick after the digest went out: one read
        for person, scope in recipients:
            # The figures are read (and the chart drawn) before the write transaction: inside
            # one they would hold the write lock. The claim decides who sends.
            key = _ledger_key("digest", person, today)
            if key not in claimed:
                digest = await self._digest(scope, now)
                async with self._unit_of_work.transaction():
                    if await self._ledger.claim(key, due_at, now, SendOutcome.SENT):
                        release = self._quiet.release_at(now)
                        await self._notifier.digest(person, digest, release)
            key = _ledger_key("weekly", person, today)
            if not weekly or key in claimed:
                continue
            drawn = await self._notifier.draw(await self._weekly(scope, now))
            async with self._unit_of_work.transaction():
                if await self._ledger.claim(key, due_at, now, SendOutcome.SENT):
                    await self._notifier.weekly_review(person, drawn, self._quiet.release_at(now))

    async def next_due_at(self) -> datetime | None:
        """Today's digest time if still ahead, else tomorrow's."""
        return next_local(self._clock.now(), self._times.at, self.timezone)
