"""Ballots: reading a typed reply as a ballot for the right vote, who may vote, and storing
ballots typed, pressed or entered from paper, each with its audit record."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.audit import AuditEvent
from bot.domain.community import Directory, Group, Person, Role
from bot.domain.units import UnitOfWork
from bot.domain.vote_chain import VoteChain
from bot.domain.vote_commands import PaperBallotCommand, read_ballot
from bot.domain.vote_ports import (
    BallotChannel,
    CastBallot,
    RegisterRepository,
    StoredBallot,
    Voter,
    VoteRepository,
)
from bot.domain.vote_records import VoteRecords
from bot.domain.votes import Vote, VoteKind, VoteState, can_close_vote, check_ballot_accepted
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound

LATE_WINDOW = timedelta(days=1)
"""A ballot-like reply this long after a vote ended is answered "too late" rather than ignored."""

# "12号 同意", "#12 1", "第12号投票：反对": a ballot that names its vote.
_NUMBERED = re.compile(
    r"(?:第|#)?(?P<number>\d{1,6})"
    r"(?:号(?:投票|表决)?\s*[:：,，]?\s*|\s*[:：,，]\s*|\s+)(?P<body>\S.*)"
)


class VoteBallots:
    """Takes ballots for open votes; the vote service forgets its activity when votes change."""

    def __init__(
        self,
        votes: VoteRepository,
        registers: RegisterRepository,
        records: VoteRecords,
        chain: VoteChain,
        unit_of_work: UnitOfWork,
        directory: Directory,
        clock: Clock,
    ) -> None:
        self._votes, self._registers, self._records, self._chain = votes, registers, records, chain
        self._unit_of_work, self._directory, self._clock = unit_of_work, directory, clock
        # Which groups have a vote that a reply could be a ballot for (open, or ended within
        # LATE_WINDOW): read once from the table and dropped whenever the service opens or
        # ends a vote, so ordinary chat in the other groups costs no query at all.
        self._activity: dict[str, datetime | None] | None = None

    def forget_activity(self) -> None:
        """A vote was opened or ended: read which groups have votes again on the next reply."""
        self._activity = None

    async def _may_be_ballot(self, group: Group | None) -> bool:
        """False when no vote could take a ballot here: no open vote (privately: anywhere),
        and none in the group that ended within LATE_WINDOW."""
        if self._activity is None:
            since = self._clock.now() - LATE_WINDOW
            activity: dict[str, datetime | None] = {}
            for group_id, ended_at in await self._votes.activity(since):
                known = activity.get(group_id, ended_at)
                activity[group_id] = (
                    None if known is None or ended_at is None else max(known, ended_at)
                )
            self._activity = activity
        if group is None:
            return any(ended_at is None for ended_at in self._activity.values())
        if group.id not in self._activity:
            return False
        ended_at = self._activity[group.id]
        return ended_at is None or ended_at >= self._clock.now() - LATE_WINDOW

    async def cast_text(self, text: str, voter: Voter, group: Group | None) -> CastBallot | None:
        """A typed reply that reads as a ballot for an open vote here; None for ordinary chat.

        In a group the candidates are the group's open votes; privately, the open votes the
        sender may vote in. With several candidates the reply must name the vote (`12号 同意`).
        """
        if not await self._may_be_ballot(group):
            return None
        if group is not None:
            seen = await self._votes.in_group(group.id, self._clock.now() - LATE_WINDOW)
            candidates = named = [vote for vote in seen if vote.state is VoteState.OPEN]
        else:
            # Privately a reply naming any open vote is read against it, so that someone who
            # may not vote there hears why; a bare "1" only counts where they may vote.
            named = await self._votes.open_votes()
            candidates = seen = [v for v in named if await self._eligible_key(v, voter, None)]
        vote, body = _pick(text, named)
        if vote is None and len(candidates) == 1:
            vote = candidates[0]
        elif vote is None and candidates:
            readable = [v for v in candidates if _readable(body, v)]
            if len(readable) > 1:
                numbers = tuple(sorted(v.number for v in readable))
                raise InvalidInput("ballot.which_vote", vote_numbers=numbers)
            vote = readable[0] if readable else None
        if vote is None:
            ended = [v for v in seen if v.state is VoteState.CLOSED and _readable(text, v)]
            if ended:
                raise Conflict("ballot.vote_closed", number=ended[0].number)
            return None
        choice = read_ballot(body, vote)
        if choice is None:
            return None
        channel = BallotChannel.GROUP if group is not None else BallotChannel.PRIVATE
        return await self.cast(vote.number, choice, voter, group, channel)

    async def cast(
        self,
        number: int,
        choice: int,
        voter: Voter,
        group: Group | None,
        channel: BallotChannel,
    ) -> CastBallot:
        """Store one ballot (a button press, or a reply already read) for vote `number`."""
        if voter.anonymous:
            raise NotAllowed("ballot.anonymous_sender")
        async with self._unit_of_work.transaction():
            vote = await self._chain.locked(number)
            check_ballot_accepted(vote, choice, self._clock.now())
            key = await self._voter_key(vote, voter, group)
            return await self._store(vote, key, choice, voter.person.id, channel, None)

    async def cast_paper(self, command: PaperBallotCommand, staff: Person) -> CastBallot:
        """Staff enter a paper ballot of an owners' decision for a room (`/ballot N 室号 同意`)."""
        async with self._unit_of_work.transaction():
            vote = await self._chain.locked(command.number)
            if vote.kind is not VoteKind.DECISION:
                raise InvalidInput("ballot.paper_decisions_only")
            if not self._may_enter_paper(staff, vote):
                raise NotAllowed("ballot.paper_not_allowed")
            choice = read_ballot(command.choice_text, vote)
            if choice is None:
                raise InvalidInput("ballot.paper_bad_choice")
            check_ballot_accepted(vote, choice, self._clock.now())
            register = await self._records.register_of(vote)
            key = register.owner_of_room(command.room)
            if key is None:
                raise NotFound("ballot.unknown_room", room=command.room)
            return await self._store(vote, key, choice, staff.id, BallotChannel.PAPER, command.room)

    def _may_enter_paper(self, staff: Person, vote: Vote) -> bool:
        if can_close_vote(staff, vote, self._directory):
            return True
        compound = self._directory.compound_of(vote.node)
        return (
            staff.has(Role.GRID_WORKER)
            and compound is not None
            and self._directory.is_within(staff.node, compound.id)
        )

    async def _store(
        self,
        vote: Vote,
        key: str,
        choice: int,
        actor: str,
        channel: BallotChannel,
        room: str | None,
    ) -> CastBallot:
        now = self._clock.now()
        previous = await self._votes.cast(
            vote.id, StoredBallot(key, choice, now, actor, channel, room)
        )
        note = channel.value + (f" room {room}" if room else "")
        await self._chain.record(
            vote, AuditEvent.BALLOT, now, actor, voter=key, choice=choice, note=note
        )
        return CastBallot(vote, choice, previous, channel)

    async def _voter_key(self, vote: Vote, voter: Voter, group: Group | None) -> str:
        """Owner key (decisions) or person id (polls); NotAllowed when the voter may not vote."""
        key = await self._eligible_key(vote, voter, group)
        if key is not None:
            return key
        if vote.kind is VoteKind.DECISION:
            raise NotAllowed("ballot.owners_only", number=vote.number)
        raise NotAllowed("ballot.group_members_only", number=vote.number)

    async def _eligible_key(self, vote: Vote, voter: Voter, group: Group | None) -> str | None:
        if vote.kind is VoteKind.POLL:
            if group is not None:
                return voter.person.id if group.id == vote.group_id else None
            configured = self._directory.person(voter.person.id) is not None
            inside = self._directory.is_within(voter.person.node, vote.node)
            return voter.person.id if configured and inside else None
        register_id = await self._votes.register_id(vote.id)
        if register_id is None:
            return None
        for platform, user_id in voter.accounts:
            key = await self._registers.owner_for(register_id, platform, user_id)
            if key is not None:
                return key
        return None


def _pick(text: str, candidates: list[Vote]) -> tuple[Vote | None, str]:
    """The vote a reply names (`12号 同意`) among the candidates, and the rest of the reply."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _NUMBERED.fullmatch(cleaned)
    if match is not None:
        named = next((v for v in candidates if v.number == int(match["number"])), None)
        if named is not None:
            return named, match["body"]
    return None, text


def _readable(text: str, vote: Vote) -> bool:
    """True when the reply is meant as a ballot for `vote` (even one that cannot be counted)."""
    try:
        return read_ballot(text, vote) is not None
    except InvalidInput:
        return True
