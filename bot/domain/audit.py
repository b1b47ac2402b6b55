"""The append-only, hash-chained audit log of a vote: building records, verifying, recounting.

Each record's hash is SHA-256 over the canonical JSON of its fields and the previous hash, so
changing, inserting, reordering or deleting any stored record breaks the chain at that record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from bot.domain.votes import Ballot, Vote, VoteState, latest_ballots

GENESIS_HASH = "0" * 64
"""`previous_hash` of the first record of every chain."""

FieldValue = str | int | bool | None


class AuditEvent(StrEnum):
    """What a record says happened to the vote."""

    OPENED = "opened"
    BALLOT = "ballot"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_ENDINGS = {AuditEvent.CLOSED: VoteState.CLOSED, AuditEvent.CANCELLED: VoteState.CANCELLED}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of a vote's chain; `seq` counts from 1, `at` is aware UTC.

    `actor` is who did it (person id; staff for paper ballots), `voter` and `choice` are set for
    ballots (owner key or person id, 1-based option), `note` is free text such as the vote's
    definition on OPENED (see `vote_definition`) or "paper ballot, room 501".
    """

    vote_id: int
    seq: int
    event: AuditEvent
    at: datetime
    actor: str
    voter: str | None
    choice: int | None
    note: str
    previous_hash: str
    hash: str

    def fields(self) -> dict[str, FieldValue]:
        """The hashed content: every field except the two hashes."""
        return {
            "vote_id": self.vote_id,
            "seq": self.seq,
            "event": self.event.value,
            "at": canonical_instant(self.at),
            "actor": self.actor,
            "voter": self.voter,
            "choice": self.choice,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One problem found in a chain (English, for operators); `seq` None for the whole chain."""

    seq: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Recount:
    """What the chain says: the vote's state and each voter's last ballot cast before the end."""

    state: VoteState
    ballots: tuple[Ballot, ...]
    ballots_cast: int


def canonical_instant(at: datetime) -> str:
    """An aware datetime as UTC ISO 8601 with microseconds: one spelling per instant."""
    if at.tzinfo is None:
        raise ValueError("audit datetimes must be aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(fields: Mapping[str, FieldValue]) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is: equal content gives equal text."""
    return json.dumps(dict(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(previous_hash: str, fields: Mapping[str, FieldValue]) -> str:
    """SHA-256 (hex) of the canonical JSON of `fields` together with the previous hash."""
    payload = canonical_json({**fields, "previous_hash": previous_hash})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def next_record(
    head: AuditRecord | None,
    *,
    vote_id: int,
    event: AuditEvent,
    at: datetime,
    actor: str,
    voter: str | None = None,
    choice: int | None = None,
    note: str = "",
) -> AuditRecord:
    """The record that follows `head` (None for the first record of the vote), hash included."""
    if head is not None and head.vote_id != vote_id:
        raise ValueError(f"record for vote {vote_id} cannot follow a record of vote {head.vote_id}")
    previous_hash = head.hash if head is not None else GENESIS_HASH
    seq = head.seq + 1 if head is not None else 1
    draft = AuditRecord(vote_id, seq, event, at, actor, voter, choice, note, previous_hash, "")
    return replace(draft, hash=chain_hash(previous_hash, draft.fields()))


def vote_definition(vote: Vote, register_digest: str | None = None) -> str:
    """Canonical JSON of what a vote asks, for the OPENED record's note.

    Includes the register's digest for decisions, so a register swapped after the opening shows.
    """
    return canonical_json(
        {
            "number": vote.number,
            "kind": vote.kind.value,
            "title": vote.title,
            "options": "|".join(vote.options),
            "matter": vote.matter.value if vote.matter else None,
            "group_id": vote.group_id,
            "node": vote.node,
            "starter_id": vote.starter_id,
            "anonymous": vote.anonymous,
            "opens_at": canonical_instant(vote.opens_at),
            "closes_at": canonical_instant(vote.closes_at),
            "register": register_digest,
        }
    )


def verify_chain(
    records: Sequence[AuditRecord], *, head_hash: str | None = None
) -> list[ChainProblem]:
    """Recompute every link of one vote's chain (records in stored order); [] means intact.

    Reports, in order, each record whose hash does not match its content, each broken link
    (previous_hash, seq), and records that make no sense (no OPENED first, events after the end,
    ballots without voter or choice). The first problem names the first broken record. Pass
    the head hash kept with the vote to also detect records deleted from the end.
    """
    if not records:
        return [ChainProblem(None, "the chain has no records")]
    problems: list[ChainProblem] = []
    previous_hash, ended_at = GENESIS_HASH, None
    for index, record in enumerate(records):
        problems.extend(_link_problems(record, index, previous_hash, records[0].vote_id))
        problems.extend(_event_problems(record, index, ended_at))
        if record.event in _ENDINGS and ended_at is None:
            ended_at = record.seq
        previous_hash = record.hash
    if head_hash is not None and records[-1].hash != head_hash:
        problems.append(
            ChainProblem(None, "the last record is not the vote's head: records are missing")
        )
    return problems


def _link_problems(
    record: AuditRecord, index: int, previous_hash: str, vote_id: int
) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    if record.seq != index + 1:
        problems.append(ChainProblem(record.seq, f"expected seq {index + 1}: a record is missing"))
    if record.vote_id != vote_id:
        problems.append(ChainProblem(record.seq, f"belongs to vote {record.vote_id}"))
    if record.previous_hash != previous_hash:
        problems.append(ChainProblem(record.seq, "previous_hash does not match the record before"))
    if chain_hash(record.previous_hash, record.fields()) != record.hash:
        problems.append(ChainProblem(record.seq, "content does not match its hash: altered"))
    return problems


def _event_problems(record: AuditRecord, index: int, ended_at: int | None) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    if (index == 0) != (record.event is AuditEvent.OPENED):
        problems.append(ChainProblem(record.seq, "the chain must start with one OPENED record"))
    if ended_at is not None:
        problems.append(ChainProblem(record.seq, f"{record.event} after the end (seq {ended_at})"))
    if record.event is AuditEvent.BALLOT and (record.voter is None or record.choice is None):
        problems.append(ChainProblem(record.seq, "ballot without voter or choice"))
    return problems


def recount(records: Iterable[AuditRecord]) -> Recount:
    """Replay the chain: the final state and each voter's last ballot before CLOSED/CANCELLED.

    Ballots recorded after the end are not counted (`verify_chain` reports them). The ballots
    come in the order each voter first voted.
    """
    cast: list[Ballot] = []
    state = VoteState.OPEN
    for record in records:
        if state is not VoteState.OPEN:
            break
        if record.event in _ENDINGS:
            state = _ENDINGS[record.event]
        elif record.event is AuditEvent.BALLOT and record.voter and record.choice is not None:
            cast.append(Ballot(record.voter, record.choice))
    latest = latest_ballots(cast)
    return Recount(
        state=state,
        ballots=tuple(Ballot(voter, choice) for voter, choice in latest.items()),
        ballots_cast=len(cast),
    )


def diff_ballots(stored: Iterable[Ballot], chain: Iterable[Ballot]) -> list[str]:
    """Differences between the stored ballots and the chain's recount (English, per voter)."""
    stored_by_voter, chain_by_voter = latest_ballots(stored), latest_ballots(chain)
    problems: list[str] = []
    for voter in sorted(stored_by_voter.keys() | chain_by_voter.keys()):
        kept, logged = stored_by_voter.get(voter), chain_by_voter.get(voter)
        if logged is None:
            problems.append(f"{voter}: stored ballot {kept} is not in the audit chain")
        elif kept is None:
            problems.append(f"{voter}: audit chain has ballot {logged} but none is stored")
        elif kept != logged:
            problems.append(f"{voter}: stored ballot {kept}, audit chain says {logged}")
    return problems
