"""What the vote service needs and gives: its storage and notifier ports and its result models.

The service itself is `bot/domain/vote_service.py`; storage implements the ports in
`storage/votes.py` and `storage/owners.py`, the notifier in `bot/vote_notifier.py`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from bot.domain.audit import AuditRecord, Recount, canonical_instant
from bot.domain.community import Person
from bot.domain.owners import Register
from bot.domain.votes import Ballot, DecisionResult, PollResult, Vote
from bot.events import Platform


class BallotChannel(StrEnum):
    """How a ballot arrived: typed in the group, typed privately, a button, or on paper."""

    GROUP = "group"
    PRIVATE = "private"
    BUTTON = "button"
    PAPER = "paper"


@dataclass(frozen=True, slots=True)
class Voter:
    """Who is casting a ballot: the person and every platform identity they are known by.

    `accounts` holds the sender's own platform id plus the Telegram and WeChat ids of the
    configured person, so a console (replay) user is matched to the register through the
    platform ids of the configured person with that id.
    """

    person: Person
    accounts: tuple[tuple[Platform, str], ...]
    # Posting as the group or a channel (Telegram's anonymous admins): nobody can tell who
    # this is, so the ballot cannot be counted (one admin could vote twice, all as one).
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class StoredBallot:
    """A voter's current ballot as stored: owner key (decisions) or person id (polls)."""

    voter: str
    choice: int
    cast_at: datetime
    actor: str
    channel: BallotChannel
    room: str | None = None

    def ballot(self) -> Ballot:
        """The ballot as the tally functions take it."""
        return Ballot(self.voter, self.choice)


@dataclass(frozen=True, slots=True)
class CastBallot:
    """A ballot just stored: the vote, the choice, and the choice it replaced (if any)."""

    vote: Vote
    choice: int
    previous: int | None
    channel: BallotChannel

    @property
    def changed(self) -> bool:
        """True when the voter had voted before (with this or another choice)."""
        return self.previous is not None


@dataclass(frozen=True, slots=True)
class VoteTally:
    """A vote's count: per option for polls, the art. 278 arithmetic for decisions."""

    vote: Vote
    poll: PollResult | None
    decision: DecisionResult | None

    def canonical(self) -> str:
        """The count as canonical JSON with exact fractions: stored and hashed at the close."""
        fields: dict[str, str | int | list[int]] = {"vote": self.vote.number}
        if self.poll is not None:
            fields |= {"counts": list(self.poll.counts), "voters": self.poll.voters}
        if self.decision is not None:
            result = self.decision
            fields |= {
                "total_area": str(result.total_area),
                "total_heads": result.total_heads,
                "agree_area": str(result.agree_area),
                "oppose_area": str(result.oppose_area),
                "abstain_area": str(result.abstain_area),
                "agree_heads": result.agree_heads,
                "oppose_heads": result.oppose_heads,
                "abstain_heads": result.abstain_heads,
                "outcome": result.outcome.value,
            }
        return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class OwnerContact:
    """An owner who has not voted yet, with the platform ids the register gives for them."""

    key: str
    name: str
    rooms: tuple[str, ...]
    area: Fraction
    telegram_user_ids: tuple[str, ...]
    wechat_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredRegister:
    """One imported version of a scope's register; votes keep the version they opened with."""

    id: int
    scope: str
    source: str
    digest: str
    imported_at: datetime


@dataclass(frozen=True, slots=True)
class RegisterImport:
    """What `linli owners import` did: the stored version, and whether it was new."""

    stored: StoredRegister
    register: Register
    changed: bool


@dataclass(frozen=True, slots=True)
class OpenedVote:
    """A vote just opened, with the register its decision is counted against."""

    vote: Vote
    register: Register | None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """`linli votes verify N`: every problem found (English), and the chain's own recount."""

    vote: Vote
    problems: tuple[str, ...]
    recount: Recount
    records: int
    tally: VoteTally

    @property
    def intact(self) -> bool:
        """True when chain, ballots, definition, register and result all agree."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One line of `linli votes export N`; `choice` is None for anonymous votes."""

    voter: str
    owner_name: str
    rooms: tuple[str, ...]
    choice: str | None
    cast_at: datetime
    channel: BallotChannel

    def cells(self) -> list[str]:
        """The row as CSV cells."""
        return [
            self.voter,
            self.owner_name,
            ";".join(self.rooms),
            self.choice or "",
            canonical_instant(self.cast_at),
            self.channel.value,
        ]


class VoteRepository(Protocol):
    """Storage port for votes, ballots, the audit chain and reminder days (storage/votes.py)."""

    async def add(self, vote: Vote, register_id: int | None) -> Vote:
        """Store a new vote; its id and number are assigned here (number = highest + 1)."""
        ...

    async def get(self, number: int, *, lock: bool = False) -> Vote | None:
        """A vote by number; `lock` holds its row until the transaction ends."""
        ...

    async def register_id(self, vote_id: int) -> int | None:
        """The register version a decision is counted against."""
        ...

    async def in_group(self, group_id: str, closed_since: datetime) -> list[Vote]:
        """Open votes of a group and those that ended since `closed_since`, newest first."""
        ...

    async def open_votes(self) -> list[Vote]:
        """Every open vote, oldest first."""
        ...

    async def activity(self, closed_since: datetime) -> list[tuple[str, datetime | None]]:
        """(group id, ended at or None while open) of votes open or ended since then."""
        ...

    async def due(self, now: datetime) -> list[Vote]:
        """Open votes whose deadline is at or before `now`."""
        ...

    async def next_closes_at(self) -> datetime | None:
        """The earliest deadline of any open vote."""
        ...

    async def finish(self, vote: Vote, at: datetime, result: str) -> None:
        """Store the vote's new state, when it ended, and its canonical result."""
        ...

    async def result(self, vote_id: int) -> str | None:
        """The canonical result stored at the close."""
        ...

    async def cast(self, vote_id: int, ballot: StoredBallot) -> int | None:
        """Store the voter's ballot, replacing theirs if any; returns the replaced choice."""
        ...

    async def ballots(self, vote_id: int) -> list[StoredBallot]:
        """Every voter's current ballot, in the order they first voted."""
        ...

    async def head(self, vote_id: int) -> AuditRecord | None:
        """The last audit record of the vote."""
        ...

    async def head_hash(self, vote_id: int) -> str:
        """The chain head hash kept with the vote."""
        ...

    async def append(self, record: AuditRecord) -> None:
        """Append an audit record and make it the vote's head."""
        ...

    async def audit(self, vote_id: int) -> list[AuditRecord]:
        """The vote's audit records in stored order."""
        ...

    async def claim_reminder(self, vote_id: int, day: date, at: datetime, owners: int) -> bool:
        """Record the reminder of `day`; False when that day's reminder was already sent."""
        ...


class RegisterRepository(Protocol):
    """Storage port for owners' registers (storage/owners.py)."""

    async def latest(self, scope: str) -> StoredRegister | None:
        """The newest register version of a node."""
        ...

    async def add(self, scope: str, register: Register, at: datetime) -> StoredRegister:
        """Store a new version with its units and platform ids."""
        ...

    async def load(self, register_id: int) -> Register:
        """A stored version with its units in file order."""
        ...

    async def digest(self, register_id: int) -> str:
        """The digest recorded when the version was imported."""
        ...

    async def owner_for(self, register_id: int, platform: Platform, user_id: str) -> str | None:
        """The owner key a platform id belongs to in that version."""
        ...


class VoteNotifier(Protocol):
    """Renders and stores what votes say on their own (bot/vote_notifier.py)."""

    async def closed(self, tally: VoteTally, recipients: Sequence[Person]) -> None:
        """Post the result in the vote's group and send it to `recipients` privately."""
        ...

    async def remind(self, vote: Vote, owners: Sequence[OwnerContact]) -> None:
        """Remind owners who have not voted, privately where possible, paced."""
        ...
