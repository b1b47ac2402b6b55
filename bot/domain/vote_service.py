"""The vote service: opening polls and owners' decisions, closing them at the deadline or on
command, and the one entry point for ballots (vote_ballots), reminders (vote_reminders) and
records (vote_records). Every change is stored with its hash-chained audit record (vote_chain)
in the caller's transaction; the rules themselves live in votes.py, art278.py and audit.py.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.audit import AuditEvent, vote_definition
from bot.domain.community import Directory, Group, Level, Person, Role
from bot.domain.owners import Register
from bot.domain.units import UnitOfWork
from bot.domain.vote_ballots import VoteBallots
from bot.domain.vote_chain import VoteChain
from bot.domain.vote_commands import DecisionCommand, PaperBallotCommand, PollCommand
from bot.domain.vote_ports import (
    BallotChannel,
    CastBallot,
    ExportRow,
    OpenedVote,
    RegisterImport,
    RegisterRepository,
    StoredRegister,
    VerifyReport,
    VoteNotifier,
    Voter,
    VoteRepository,
    VoteTally,
)
from bot.domain.vote_records import VoteRecords
from bot.domain.vote_reminders import VoteReminders
from bot.domain.votes import (
    DECISION_OPTIONS,
    Vote,
    VoteKind,
    check_can_close_vote,
    check_can_start_vote,
    default_closes_at,
)
from bot.errors import Conflict

SYSTEM_ACTOR = "linli"
"""Actor of what Linli does on its own: closing at the deadline."""


class VoteService:
    """Opens, counts and closes votes; the database says what is open and what is due."""

    name = "votes"

    def __init__(
        self,
        votes: VoteRepository,
        registers: RegisterRepository,
        notifier: VoteNotifier,
        unit_of_work: UnitOfWork,
        directory: Directory,
        clock: Clock,
        timezone: ZoneInfo,
    ) -> None:
        self._votes, self._registers, self._notifier = votes, registers, notifier
        self._unit_of_work, self._directory = unit_of_work, directory
        self._clock, self.timezone = clock, timezone
        self.records = VoteRecords(votes, registers, unit_of_work, directory, clock)
        self._chain = VoteChain(votes)
        self._ballots = VoteBallots(
            votes, registers, self.records, self._chain, unit_of_work, directory, clock
        )
        self._reminders = VoteReminders(
            votes, self.records, notifier, unit_of_work, clock, timezone
        )

    # -- opening ---------------------------------------------------------------------------
    async def start_poll(self, command: PollCommand, person: Person, group: Group) -> OpenedVote:
        """A quick poll of the group's residents."""
        check_can_start_vote(person, group, VoteKind.POLL, self._directory)
        now = self._clock.now()
        draft = Vote(
            id=0,
            number=0,
            kind=VoteKind.POLL,
            title=command.title,
            options=command.options,
            matter=None,
            group_id=group.id,
            node=group.node,
            starter_id=person.id,
            anonymous=command.anonymous,
            opens_at=now,
            closes_at=command.closes_at or default_closes_at(VoteKind.POLL, now),
        )
        return OpenedVote(await self._open(draft, None, None), None)

    async def start_decision(
        self, command: DecisionCommand, person: Person, group: Group
    ) -> OpenedVote:
        """An owners' decision counted against the nearest register of the group's node."""
        check_can_start_vote(person, group, VoteKind.DECISION, self._directory)
        stored = await self._nearest_register(group)
        register = await self._registers.load(stored.id)
        now = self._clock.now()
        draft = Vote(
            id=0,
            number=0,
            kind=VoteKind.DECISION,
            title=command.title,
            options=DECISION_OPTIONS,
            matter=command.matter,
            group_id=group.id,
            node=stored.scope,
            starter_id=person.id,
            anonymous=command.anonymous,
            opens_at=now,
            closes_at=command.closes_at or default_closes_at(VoteKind.DECISION, now),
        )
        return OpenedVote(await self._open(draft, stored.id, stored.digest), register)

    async def _open(self, draft: Vote, register_id: int | None, digest: str | None) -> Vote:
        self._ballots.forget_activity()
        async with self._unit_of_work.transaction():
            vote = await self._votes.add(draft, register_id)
            note = vote_definition(vote, digest)
            await self._chain.record(
                vote, AuditEvent.OPENED, vote.opens_at, vote.starter_id, note=note
            )
        return vote

    async def _nearest_register(self, group: Group) -> StoredRegister:
        for node in self._directory.lineage(group.node):
            stored = await self._registers.latest(node.id)
            if stored is not None:
                return stored
            if node.level is Level.COMPOUND:
                break
        raise Conflict("vote.no_register")

    # -- ballots (bot/domain/vote_ballots.py) ----------------------------------------------
    async def cast_text(self, text: str, voter: Voter, group: Group | None) -> CastBallot | None:
        """A typed reply that reads as a ballot for an open vote here; None for ordinary chat."""
        return await self._ballots.cast_text(text, voter, group)

    async def cast(
        self,
        number: int,
        choice: int,
        voter: Voter,
        group: Group | None,
        channel: BallotChannel,
    ) -> CastBallot:
        """Store one ballot (a button press, or a reply already read) for vote `number`."""
        return await self._ballots.cast(number, choice, voter, group, channel)

    async def cast_paper(self, command: PaperBallotCommand, staff: Person) -> CastBallot:
        """Staff enter a paper ballot of an owners' decision for a room (`/ballot N 室号 同意`)."""
        return await self._ballots.cast_paper(command, staff)

    # -- closing ---------------------------------------------------------------------------
    async def close(self, number: int, person: Person) -> VoteTally:
        """`/close N` by the starter (or a secretary): count, post and report the result."""
        async with self._unit_of_work.transaction():
            vote = await self._chain.locked(number)
            check_can_close_vote(person, vote, self._directory)
            return await self._close(vote, person.id)

    async def _close(self, vote: Vote, actor: str) -> VoteTally:
        closed = vote.closed()
        ballots = [b.ballot() for b in await self._votes.ballots(vote.id)]
        tally = await self.records.count(closed, ballots)
        now = self._clock.now()
        result = tally.canonical()
        self._ballots.forget_activity()
        await self._votes.finish(closed, now, result)
        await self._chain.record(closed, AuditEvent.CLOSED, now, actor, note=result)
        await self._notifier.closed(tally, self._result_recipients(closed))
        return tally

    def _result_recipients(self, vote: Vote) -> list[Person]:
        people = [p for p in self._directory.people() if p.has(Role.SECRETARY)]
        compound = self._directory.compound_of(vote.node)
        if compound is not None:
            people += [
                p
                for p in self._directory.people()
                if p.has(Role.COMPOUND_SECRETARY) and p.node == compound.id and p not in people
            ]
        return people

    async def run_due(self) -> None:
        """Close every vote whose deadline has come, then send today's reminders."""
        now = self._clock.now()
        for due in await self._votes.due(now):
            async with self._unit_of_work.transaction():
                vote = await self._votes.get(due.number, lock=True)
                if vote is not None and vote.is_due(now):
                    await self._close(vote, SYSTEM_ACTOR)
        await self._reminders.send_due(now)

    async def next_due_at(self) -> datetime | None:
        """The next deadline, or the next reminder time while a decision is open."""
        closes_at = await self._votes.next_closes_at()
        remind = await self._reminders.next_at()
        if remind is None:
            return closes_at
        return min(remind, closes_at) if closes_at is not None else remind

    # -- counting, checking, exporting (bot/domain/vote_records.py) --------------------------
    async def tally(self, number: int) -> VoteTally:
        """The count so far (or the final count) of vote `number`."""
        return await self.records.tally(number)

    async def verify(self, number: int) -> VerifyReport:
        """Recompute the chain, the ballots, the definition, the register and the result."""
        return await self.records.verify(number)

    async def export(self, number: int) -> tuple[Vote, list[ExportRow]]:
        """The ballot list for the record; choices only where the vote is not anonymous."""
        return await self.records.export(number)

    async def import_register(self, scope: str, register: Register) -> RegisterImport:
        """Store a parsed register for a compound or stairwell; the same content is a no-op."""
        return await self.records.import_register(scope, register)
