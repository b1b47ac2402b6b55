"""Reminders, the ledger of scheduled sends, and the duty roster set in chat, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain.reminders import Recurrence, RecurrenceKind, Reminder, SendOutcome
from storage.db import Database
from storage.schema import reminders, scheduled_sends, visitor_duty

NAME_SEPARATOR = "|"


class SqlSendLedger:
    """SendLedger: one row per key; inserting an existing key does nothing."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def _insert(self) -> Any:
        # ON CONFLICT DO NOTHING keeps a PostgreSQL transaction usable where a failed insert
        # would abort it; both dialects report the skipped row as rowcount 0.
        if self._db.is_sqlite:
            return sqlite_insert(scheduled_sends).on_conflict_do_nothing(index_elements=["key"])
        return postgresql_insert(scheduled_sends).on_conflict_do_nothing(index_elements=["key"])

    async def claim(self, key: str, due_at: datetime, at: datetime, outcome: SendOutcome) -> bool:
        """Record the key inside the current transaction; False when it was already there."""
        values = {"key": key, "due_at": due_at, "done_at": at, "outcome": outcome.value}
        async with self._db.transaction() as connection:
            result = await connection.execute(self._insert().values(**values))
        return bool(result.rowcount)

    async def claimed(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys are recorded."""
        if not keys:
            return set()
        query = select(scheduled_sends.c.key).where(scheduled_sends.c.key.in_(list(keys)))
        async with self._db.reading() as connection:
            return set((await connection.execute(query)).scalars())

    async def first(self, key: str, at: datetime) -> datetime:
        """The due time stored under `key`, storing `at` first when the key is new."""
        async with self._db.transaction() as connection:
            await connection.execute(
                self._insert().values(key=key, due_at=at, done_at=at, outcome=SendOutcome.MARK)
            )
            query = select(scheduled_sends.c.due_at).where(scheduled_sends.c.key == key)
            stored: datetime = (await connection.execute(query)).scalar_one()
        return stored

    async def outcomes(self, prefix: str) -> dict[str, str]:
        """Every key starting with `prefix` and its outcome (for tests and operators)."""
        query = select(scheduled_sends.c.key, scheduled_sends.c.outcome).where(
            scheduled_sends.c.key.startswith(prefix, autoescape=True)
        )
        async with self._db.reading() as connection:
            return {row.key: row.outcome for row in (await connection.execute(query)).all()}


def _row_to_reminder(row: Any) -> Reminder:
    recurrence = None
    if row.recurrence_kind is not None:
        recurrence = Recurrence(
            kind=RecurrenceKind(row.recurrence_kind),
            at=time.fromisoformat(row.recurrence_time),
            day=row.recurrence_day,
        )
    return Reminder(
        id=row.id,
        text=row.text,
        creator_id=row.creator_id,
        creator_name=row.creator_name,
        group_id=row.group_id,
        recurrence=recurrence,
        next_at=row.next_at,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


def _active() -> Any:
    return reminders.c.cancelled_at.is_(None) & reminders.c.next_at.is_not(None)


class SqlReminderRepository:
    """ReminderRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, reminder: Reminder) -> Reminder:
        """Store a new reminder; its id is assigned here."""
        recurrence = reminder.recurrence
        values = {
            "text": reminder.text,
            "creator_id": reminder.creator_id,
            "creator_name": reminder.creator_name,
            "group_id": reminder.group_id,
            "recurrence_kind": recurrence.kind.value if recurrence else None,
            "recurrence_day": recurrence.day if recurrence else 0,
            "recurrence_time": recurrence.at.strftime("%H:%M") if recurrence else None,
            "next_at": reminder.next_at,
            "created_at": reminder.created_at,
            "cancelled_at": reminder.cancelled_at,
        }
        async with self._db.transaction() as connection:
            result = await connection.execute(insert(reminders).values(**values))
        return replace(reminder, id=int(result.inserted_primary_key[0]))  # type: ignore[index]

    async def get(self, reminder_id: int) -> Reminder | None:
        """One reminder, active or not."""
        async with self._db.reading() as connection:
            row = (
                await connection.execute(select(reminders).where(reminders.c.id == reminder_id))
            ).first()
        return None if row is None else _row_to_reminder(row)

    async def list_active(self, creator_id: str | None) -> list[Reminder]:
        """Active reminders, soonest first."""
        query = select(reminders).where(_active())
        if creator_id is not None:
            query = query.where(reminders.c.creator_id == creator_id)
        async with self._db.reading() as connection:
            rows = (await connection.execute(query.order_by(reminders.c.next_at))).all()
        return [_row_to_reminder(row) for row in rows]

    async def due(self, now: datetime) -> list[Reminder]:
        """Active reminders whose next occurrence has come."""
        query = select(reminders).where(_active(), reminders.c.next_at <= now)
        async with self._db.reading() as connection:
            rows = (await connection.execute(query.order_by(reminders.c.next_at))).all()
        return [_row_to_reminder(row) for row in rows]

    async def advance(self, reminder_id: int, next_at: datetime | None) -> None:
        """Move to the next occurrence (None: done)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(reminders).where(reminders.c.id == reminder_id).values(next_at=next_at)
            )

    async def cancel(self, reminder_id: int, at: datetime) -> None:
        """Stop the reminder."""
        async with self._db.transaction() as connection:
            await connection.execute(
                update(reminders).where(reminders.c.id == reminder_id).values(cancelled_at=at)
            )

    async def next_at(self) -> datetime | None:
        """The earliest next occurrence of an active reminder."""
        query = select(reminders.c.next_at).where(_active()).order_by(reminders.c.next_at)
        async with self._db.reading() as connection:
            value: datetime | None = (await connection.execute(query.limit(1))).scalar()
        return value


class SqlDutyRepository:
    """DutyRepository: one row per visitor day set in chat."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def set(self, day: date, names: Sequence[str], by: str, at: datetime) -> None:
        """Replace who is on duty on `day`."""
        async with self._db.transaction() as connection:
            await connection.execute(
                visitor_duty.delete().where(visitor_duty.c.day == day.isoformat())
            )
            await connection.execute(
                insert(visitor_duty).values(
                    day=day.isoformat(), names=NAME_SEPARATOR.join(names), set_by=by, set_at=at
                )
            )

    async def get(self, day: date) -> tuple[str, ...] | None:
        """Who was set in chat for `day`."""
        query = select(visitor_duty.c.names).where(visitor_duty.c.day == day.isoformat())
        async with self._db.reading() as connection:
            names: str | None = (await connection.execute(query)).scalar()
        return None if names is None else tuple(n for n in names.split(NAME_SEPARATOR) if n)
