"""The vote service: opening polls and owners' decisions, taking ballots, closing, reminding,
and checking a vote's audit chain. Every change is stored with its hash-chained audit record in
the caller's transaction; the rules themselves live in votes.py, art278.py and audit.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.audit import (
    AuditEvent,
    next_record,
    vote_definition,
)
from bot.domain.community import Directory, Group, Level, Person, Role
from bot.domain.owners import Owner, Register
from bot.domain.units import UnitOfWork
from bot.domain.vote_commands import (
    DecisionCommand,
    PaperBallotCommand,
    PollCommand,
    read_ballot,
)
from bot.domain.vote_ports import (
    BallotChannel,
    CastBallot,
    ExportRow,
    OpenedVote,
    OwnerContact,
    RegisterImport,
    RegisterRepository,
    StoredBallot,
    StoredRegister,
    VerifyReport,
    VoteNotifier,
    Voter,
    VoteRepository,
    VoteTally,
)
from bot.domain.vote_records import VoteRecords
from bot.domain.votes import (
    DECISION_OPTIONS,
    Vote,
    VoteKind,
    VoteState,
    can_close_vote,
    check_ballot_accepted,
    check_can_close_vote,
    check_can_start_vote,
    default_closes_at,
    owners_not_voted,
)
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound

SYSTEM_ACTOR = "linli"
"""Actor of what Linli does on its own: closing at the deadline."""
LATE_WINDOW = timedelta(days=1)
"""A ballot-like reply this long after a vote ended is answered "too late" rather than ignored."""
REMIND_AT = time(10, 0)
"""Local time of the daily reminder to owners who have not voted (never on the opening day)."""

# "12号 同意", "#12 1", "第12号投票：反对": a ballot that names its vote.
_NUMBERED = re.compile(
    r"(?:第|#)?(?P<number>\d{1,6})"
    r"(?:号(?:投票|表决)?\s*[:：,，]?\s*|\s*[:：,，]\s*|\s+)(?P<body>\S.*)"
)


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
        # Which groups have a vote that a reply could be a ballot for (open, or ended within
        # LATE_WINDOW): read once from the table and dropped whenever this service opens or
        # ends a vote, so ordinary chat in the other groups costs no query at all.
        self._activity: dict[str, datetime | None] | None = None

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

    async def _open(self, draft: Vote, register_id: int | None, digest: str | None) -> Vote:
        self._activity = None
        async with self._unit_of_work.transaction():
            vote = await self._votes.add(draft, register_id)
            note = vote_definition(vote, digest)
            await self._record(vote, AuditEvent.OPENED, vote.opens_at, vote.starter_id, note=note)
        return vote

    async def _nearest_register(self, group: Group) -> StoredRegister:
        for node in self._directory.lineage(group.node):
            stored = await self._registers.latest(node.id)
            if stored is not None:
                return stored
            if node.level is Level.COMPOUND:
                break
        raise Conflict("vote.no_register")

    # -- ballots ---------------------------------------------------------------------------
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
            vote = await self._locked(number)
            check_ballot_accepted(vote, choice, self._clock.now())
            key = await self._voter_key(vote, voter, group)
            return await self._store(vote, key, choice, voter.person.id, channel, None)

    async def cast_paper(self, command: PaperBallotCommand, staff: Person) -> CastBallot:
        """Staff enter a paper ballot of an owners' decision for a room (`/ballot N 室号 同意`)."""
        async with self._unit_of_work.transaction():
            vote = await self._locked(command.number)
            if vote.kind is not VoteKind.DECISION:
                raise InvalidInput("ballot.paper_decisions_only")
            if not self._may_enter_paper(staff, vote):
                raise NotAllowed("ballot.paper_not_allowed")
            choice = read_ballot(command.choice_text, vote)
            if choice is None:
                raise InvalidInput("ballot.paper_bad_choice")
            check_ballot_accepted(vote, choice, self._clock.now())
            register = await self.records.register_of(vote)
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
        await self._record(vote, AuditEvent.BALLOT, now, actor, voter=key, choice=choice, note=note)
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

    # -- closing ---------------------------------------------------------------------------
    async def close(self, number: int, person: Person) -> VoteTally:
        """`/close N` by the starter (or a secretary): count, post and report the result."""
        async with self._unit_of_work.transaction():
            vote = await self._locked(number)
            check_can_close_vote(person, vote, self._directory)
            return await self._close(vote, person.id)

    async def _close(self, vote: Vote, actor: str) -> VoteTally:
        closed = vote.closed()
        ballots = [b.ballot() for b in await self._votes.ballots(vote.id)]
        tally = await self.records.count(closed, ballots)
        now = self._clock.now()
        result = tally.canonical()
        self._activity = None
        await self._votes.finish(closed, now, result)
        await self._record(closed, AuditEvent.CLOSED, now, actor, note=result)
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
        await self._remind(now)

    async def next_due_at(self) -> datetime | None:
        """The next deadline, or the next reminder time while a decision is open."""
        closes_at = await self._votes.next_closes_at()
        if not any(v.kind is VoteKind.DECISION for v in await self._votes.open_votes()):
            return closes_at
        local = self._clock.now().astimezone(self.timezone)
        remind = datetime.combine(local.date(), REMIND_AT, tzinfo=self.timezone).astimezone(UTC)
        if remind <= local:
            remind = datetime.combine(
                local.date() + timedelta(days=1), REMIND_AT, tzinfo=self.timezone
            ).astimezone(UTC)
        return min(remind, closes_at) if closes_at is not None else remind

    async def _remind(self, now: datetime) -> None:
        """At most one reminder a day per decision, to owners who have not voted yet."""
        local = now.astimezone(self.timezone)
        if local.time() < REMIND_AT:
            return
        for vote in await self._votes.open_votes():
            opened_on = vote.opens_at.astimezone(self.timezone).date()
            if vote.kind is not VoteKind.DECISION or opened_on >= local.date():
                continue
            if not vote.accepts_ballots_at(now):
                continue
            async with self._unit_of_work.transaction():
                register = await self.records.register_of(vote)
                ballots = [b.ballot() for b in await self._votes.ballots(vote.id)]
                missing = _contacts(register, owners_not_voted(register, ballots))
                if missing and await self._votes.claim_reminder(
                    vote.id, local.date(), now, len(missing)
                ):
                    await self._notifier.remind(vote, missing)

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

    # -- helpers ---------------------------------------------------------------------------
    async def _locked(self, number: int) -> Vote:
        vote = await self._votes.get(number, lock=True)
        if vote is None:
            raise NotFound("vote.not_found", number=number)
        return vote

    async def _record(
        self,
        vote: Vote,
        event: AuditEvent,
        at: datetime,
        actor: str,
        *,
        voter: str | None = None,
        choice: int | None = None,
        note: str = "",
    ) -> None:
        """Append the next link of the vote's chain (the vote row is locked by the caller)."""
        head = await self._votes.head(vote.id)
        record = next_record(
            head,
            vote_id=vote.id,
            event=event,
            at=at,
            actor=actor,
            voter=voter,
            choice=choice,
            note=note,
        )
        await self._votes.append(record)


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


def _contacts(register: Register, owners: Sequence[Owner]) -> list[OwnerContact]:
    """Owners with the platform ids of all their units (spouses may share a unit's row)."""
    contacts = []
    for owner in owners:
        units = [u for u in register.units if u.owner_key == owner.key]
        contacts.append(
            OwnerContact(
                key=owner.key,
                name=owner.name,
                rooms=owner.rooms,
                area=owner.area,
                telegram_user_ids=tuple(
                    dict.fromkeys(i for u in units for i in u.telegram_user_ids)
                ),
                wechat_ids=tuple(dict.fromkeys(i for u in units for i in u.wechat_ids)),
            )
        )
    return contacts
