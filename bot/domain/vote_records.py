"""A vote's records: counting, checking the audit chain against everything stored, exporting the
ballot list, and importing owners' registers. Used by the vote service and the operator commands.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import Clock
from bot.domain.audit import AuditEvent, diff_ballots, recount, verify_chain, vote_definition
from bot.domain.community import Directory
from bot.domain.owners import Register
from bot.domain.units import UnitOfWork
from bot.domain.vote_ports import (
    ExportRow,
    RegisterImport,
    RegisterRepository,
    VerifyReport,
    VoteRepository,
    VoteTally,
)
from bot.domain.votes import Ballot, Vote, VoteState, decide, tally_poll
from bot.errors import NotFound


class VoteRecords:
    """Reads and checks what is stored about votes; writes only owners' registers."""

    def __init__(
        self,
        votes: VoteRepository,
        registers: RegisterRepository,
        unit_of_work: UnitOfWork,
        directory: Directory,
        clock: Clock,
    ) -> None:
        self._votes, self._registers, self._unit_of_work = votes, registers, unit_of_work
        self._directory, self._clock = directory, clock

    async def get(self, number: int) -> Vote:
        """Vote `number`, or NotFound."""
        vote = await self._votes.get(number)
        if vote is None:
            raise NotFound("vote.not_found", number=number)
        return vote

    async def register_of(self, vote: Vote) -> Register:
        """The register version a decision opened with."""
        register_id = await self._votes.register_id(vote.id)
        if register_id is None:
            raise ValueError(f"decision {vote.number} has no register")
        return await self._registers.load(register_id)

    async def count(self, vote: Vote, ballots: Sequence[Ballot]) -> VoteTally:
        """Count ballots: per option for polls, art. 278 against the register for decisions."""
        if vote.matter is None:
            return VoteTally(vote, tally_poll(vote.options, ballots), None)
        return VoteTally(vote, None, decide(vote.matter, await self.register_of(vote), ballots))

    async def tally(self, number: int) -> VoteTally:
        """The count so far (or the final count) of vote `number`."""
        vote = await self.get(number)
        return await self.count(vote, [b.ballot() for b in await self._votes.ballots(vote.id)])

    async def verify(self, number: int) -> VerifyReport:
        """Recompute the chain, then hold the ballots, the vote row, the register and the stored
        result against it: any row changed after the fact shows up as a problem (English)."""
        vote = await self.get(number)
        records = await self._votes.audit(vote.id)
        head_hash = await self._votes.head_hash(vote.id)
        problems = [
            f"audit record {p.seq}: {p.message}" if p.seq is not None else f"audit: {p.message}"
            for p in verify_chain(records, head_hash=head_hash)
        ]
        chain = recount(records)
        stored = [b.ballot() for b in await self._votes.ballots(vote.id)]
        problems += [f"ballot {problem}" for problem in diff_ballots(stored, chain.ballots)]
        problems += await self._definition_problems(vote, records[0].note if records else None)
        if chain.state is not vote.state:
            problems.append(f"vote row says {vote.state}, audit chain says {chain.state}")
        tally = await self.count(vote, chain.ballots)
        if vote.state is VoteState.CLOSED:
            closing = next((r for r in records if r.event is AuditEvent.CLOSED), None)
            if closing is not None and closing.note != tally.canonical():
                problems.append("result recorded at the close differs from the recount")
            if await self._votes.result(vote.id) != tally.canonical():
                problems.append("stored result differs from the recount of the audit chain")
        return VerifyReport(vote, tuple(problems), chain, len(records), tally)

    async def _definition_problems(self, vote: Vote, opened_note: str | None) -> list[str]:
        """The vote row against its OPENED record; the register's units against their digest."""
        digest = None
        problems: list[str] = []
        register_id = await self._votes.register_id(vote.id)
        if register_id is not None:
            digest = await self._registers.digest(register_id)
            if (await self._registers.load(register_id)).digest() != digest:
                problems.append(f"register {register_id}: units differ from the imported file")
        if opened_note is not None and opened_note != vote_definition(vote, digest):
            problems.append("vote row (title, options, deadline, group) differs from its OPENED")
        return problems

    async def export(self, number: int) -> tuple[Vote, list[ExportRow]]:
        """The ballot list for the record; choices only where the vote is not anonymous."""
        vote = await self.get(number)
        owners = (await self.register_of(vote)).owners() if vote.matter else {}
        rows = []
        for ballot in await self._votes.ballots(vote.id):
            owner = owners.get(ballot.voter)
            person = self._directory.person(ballot.voter)
            rows.append(
                ExportRow(
                    voter=ballot.voter,
                    owner_name=owner.name if owner else (person.name if person else ""),
                    rooms=owner.rooms if owner else (),
                    choice=None if vote.anonymous else vote.option_title(ballot.choice),
                    cast_at=ballot.cast_at,
                    channel=ballot.channel,
                )
            )
        return vote, rows

    async def import_register(self, scope: str, register: Register) -> RegisterImport:
        """Store a parsed register for a compound or stairwell; the same content is a no-op.

        A changed register becomes a new version: open decisions keep counting against the
        version they opened with, whose digest their OPENED record holds.
        """
        if not self._directory.has_node(scope) or self._directory.compound_of(scope) is None:
            raise ValueError(f"node {scope!r} is not a compound or stairwell of the config")
        async with self._unit_of_work.transaction():
            latest = await self._registers.latest(scope)
            if latest is not None and latest.digest == register.digest():
                return RegisterImport(latest, register, changed=False)
            stored = await self._registers.add(scope, register, self._clock.now())
        return RegisterImport(stored, register, changed=True)
