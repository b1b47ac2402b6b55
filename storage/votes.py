"""Votes, their current ballots, the append-only audit chain and reminder days in SQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain.audit import GENESIS_HASH, AuditEvent, AuditRecord
from bot.domain.vote_ports import BallotChannel, StoredBallot
from bot.domain.votes import Matter, Vote, VoteKind, VoteState
from storage.db import Database
from storage.schema import vote_audit, vote_ballots, vote_reminders, votes

FIRST_NUMBER = 1


def _row_to_vote(row: Any) -> Vote:
    return Vote(
        id=row.id,
        number=row.number,
        kind=VoteKind(row.kind),
        title=row.title,
        options=tuple(json.loads(row.options)),
        matter=Matter(row.matter) if row.matter else None,
        group_id=row.group_id,
        node=row.node,
        starter_id=row.starter_id,
        anonymous=row.anonymous,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        state=VoteState(row.state),
    )


def _row_to_ballot(row: Any) -> StoredBallot:
    return StoredBallot(
        voter=row.voter,
        choice=row.choice,
        cast_at=row.cast_at,
        actor=row.actor,
        channel=BallotChannel(row.channel),
        room=row.room,
    )


def _row_to_record(row: Any) -> AuditRecord:
    return AuditRecord(
        vote_id=row.vote_id,
        seq=row.seq,
        event=AuditEvent(row.event),
        at=row.at,
        actor=row.actor,
        voter=row.voter,
        choice=row.choice,
        note=row.note,
        previous_hash=row.previous_hash,
        hash=row.hash,
    )


class SqlVoteRepository:
    """VoteRepository on SQLAlchemy Core; the same code runs on SQLite and PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, vote: Vote, register_id: int | None) -> Vote:
        """Store a new vote; its number is the highest so far plus one (inside the write lock)."""
        async with self._db.transaction() as connection:
            highest = (await connection.execute(select(func.max(votes.c.number)))).scalar()
            number = (highest or FIRST_NUMBER - 1) + 1
            vote_id = (
                await connection.execute(
                    insert(votes)
                    .values(
                        number=number,
                        kind=vote.kind.value,
                        title=vote.title,
                        options=json.dumps(list(vote.options), ensure_ascii=False),
                        matter=vote.matter.value if vote.matter else None,
                        group_id=vote.group_id,
                        node=vote.node,
                        starter_id=vote.starter_id,
                        anonymous=vote.anonymous,
                        opens_at=vote.opens_at,
                        closes_at=vote.closes_at,
                        state=vote.state.value,
                        register_id=register_id,
                        head_hash=GENESIS_HASH,
                    )
                    .returning(votes.c.id)
                )
            ).scalar_one()
        return replace(vote, id=vote_id, number=number)

    async def get(self, number: int, *, lock: bool = False) -> Vote | None:
        """A vote by number; `lock` holds its row (FOR UPDATE; SQLite's write lock is global)."""
        query = select(votes).where(votes.c.number == number)
        if lock:
            query = query.with_for_update()
            async with self._db.transaction() as connection:
                row = (await connection.execute(query)).first()
        else:
            async with self._db.reading() as connection:
                row = (await connection.execute(query)).first()
        return _row_to_vote(row) if row is not None else None

    async def register_id(self, vote_id: int) -> int | None:
        """The register version a decision is counted against."""
        query = select(votes.c.register_id).where(votes.c.id == vote_id)
        async with self._db.reading() as connection:
            value = (await connection.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def in_group(self, group_id: str, closed_since: datetime) -> list[Vote]:
        """Open votes of a group and those that ended since `closed_since`, newest first."""
        query = (
            select(votes)
            .where(
                votes.c.group_id == group_id,
                or_(votes.c.state == VoteState.OPEN.value, votes.c.ended_at >= closed_since),
            )
            .order_by(votes.c.number.desc())
        )
        return await self._votes(query)

    async def activity(self, closed_since: datetime) -> list[tuple[str, datetime | None]]:
        """(group id, ended at or None while open) of votes open or ended since then."""
        query = select(votes.c.group_id, votes.c.state, votes.c.ended_at).where(
            or_(votes.c.state == VoteState.OPEN.value, votes.c.ended_at >= closed_since)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [
            (row.group_id, None if row.state == VoteState.OPEN.value else row.ended_at)
            for row in rows
        ]

    async def open_votes(self) -> list[Vote]:
        """Every open vote, oldest first."""
        query = select(votes).where(votes.c.state == VoteState.OPEN.value).order_by(votes.c.number)
        return await self._votes(query)

    async def due(self, now: datetime) -> list[Vote]:
        """Open votes whose deadline is at or before `now`."""
        query = (
            select(votes)
            .where(votes.c.state == VoteState.OPEN.value, votes.c.closes_at <= now)
            .order_by(votes.c.closes_at, votes.c.number)
        )
        return await self._votes(query)

    async def next_closes_at(self) -> datetime | None:
        """The earliest deadline of any open vote."""
        # ORDER BY .. LIMIT 1 rather than MIN(): the column type (aware UTC) applies to the row.
        query = (
            select(votes.c.closes_at)
            .where(votes.c.state == VoteState.OPEN.value)
            .order_by(votes.c.closes_at)
            .limit(1)
        )
        async with self._db.reading() as connection:
            row = (await connection.execute(query)).first()
        return row.closes_at if row is not None else None

    async def finish(self, vote: Vote, at: datetime, result: str) -> None:
        """Store the vote's new state, when it ended, and its canonical result."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(votes)
                .where(votes.c.id == vote.id)
                .values(state=vote.state.value, ended_at=at, result=result)
            )

    async def result(self, vote_id: int) -> str | None:
        """The canonical result stored at the close."""
        query = select(votes.c.result).where(votes.c.id == vote_id)
        async with self._db.reading() as connection:
            value = (await connection.execute(query)).scalar_one_or_none()
        return str(value) if value is not None else None

    async def cast(self, vote_id: int, ballot: StoredBallot) -> int | None:
        """Store the voter's ballot, replacing theirs if any; returns the replaced choice."""
        values = {
            "choice": ballot.choice,
            "cast_at": ballot.cast_at,
            "actor": ballot.actor,
            "channel": ballot.channel.value,
            "room": ballot.room,
        }
        async with self._db.transaction() as connection:
            previous = (
                await connection.execute(
                    select(vote_ballots.c.choice).where(
                        vote_ballots.c.vote_id == vote_id, vote_ballots.c.voter == ballot.voter
                    )
                )
            ).scalar_one_or_none()
            statement = _upsert(connection.dialect.name)(vote_ballots).values(
                vote_id=vote_id, voter=ballot.voter, **values
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[vote_ballots.c.vote_id, vote_ballots.c.voter], set_=values
                )
            )
        return int(previous) if previous is not None else None

    async def ballots(self, vote_id: int) -> list[StoredBallot]:
        """Every voter's current ballot, in the order they first voted."""
        query = (
            select(vote_ballots)
            .where(vote_ballots.c.vote_id == vote_id)
            .order_by(vote_ballots.c.id)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_ballot(row) for row in rows]

    async def head(self, vote_id: int) -> AuditRecord | None:
        """The last audit record of the vote."""
        query = (
            select(vote_audit)
            .where(vote_audit.c.vote_id == vote_id)
            .order_by(vote_audit.c.seq.desc())
            .limit(1)
        )
        async with self._db.reading() as connection:
            row = (await connection.execute(query)).first()
        return _row_to_record(row) if row is not None else None

    async def head_hash(self, vote_id: int) -> str:
        """The chain head hash kept with the vote."""
        query = select(votes.c.head_hash).where(votes.c.id == vote_id)
        async with self._db.reading() as connection:
            return str((await connection.execute(query)).scalar_one())

    async def append(self, record: AuditRecord) -> None:
        """Append an audit record and make it the vote's head, in one transaction."""
        async with self._db.transaction() as connection:
            await connection.execute(
                insert(vote_audit).values(
                    vote_id=record.vote_id,
                    seq=record.seq,
                    event=record.event.value,
                    at=record.at,
                    actor=record.actor,
                    voter=record.voter,
                    choice=record.choice,
                    note=record.note,
                    previous_hash=record.previous_hash,
                    hash=record.hash,
                )
            )
            await connection.execute(
                update(votes).where(votes.c.id == record.vote_id).values(head_hash=record.hash)
            )

    async def audit(self, vote_id: int) -> list[AuditRecord]:
        """The vote's audit records in stored order."""
        query = select(vote_audit).where(vote_audit.c.vote_id == vote_id).order_by(vote_audit.c.id)
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_record(row) for row in rows]

    async def claim_reminder(self, vote_id: int, day: date, at: datetime, owners: int) -> bool:
        """Record the reminder of `day`; False when that day's reminder was already sent."""
        async with self._db.transaction() as connection:
            statement = _upsert(connection.dialect.name)(vote_reminders).values(
                vote_id=vote_id, day=day.isoformat(), sent_at=at, owners=owners
            )
            result = await connection.execute(statement.on_conflict_do_nothing())
        return bool(result.rowcount)

    async def _votes(self, query: Any) -> list[Vote]:
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_vote(row) for row in rows]


def _upsert(dialect: str) -> Any:
    """INSERT .. ON CONFLICT for the two databases Linli runs on (both speak it)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
