"""Tag overrides set in chat (`/tag`, `/untag`); the config's tags are never stored here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from bot.domain.tags import TagOverride, TargetKind
from storage.db import Database
from storage.schema import tag_overrides


def _row_to_override(row: Any) -> TagOverride:
    return TagOverride(
        kind=TargetKind(row.target_kind),
        target_id=row.target_id,
        tag=row.tag,
        present=row.present,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


class SqlTagRepository:
    """TagRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def overrides(self) -> list[TagOverride]:
        """Every stored override, oldest change first."""
        query = select(tag_overrides).order_by(tag_overrides.c.changed_at)
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_row_to_override(row) for row in rows]

    async def put(self, override: TagOverride) -> None:
        """Replace the override for its target and tag (delete and insert in one transaction)."""
        key = (
            tag_overrides.c.target_kind == override.kind.value,
            tag_overrides.c.target_id == override.target_id,
            tag_overrides.c.tag == override.tag,
        )
        async with self._db.transaction() as connection:
            await connection.execute(delete(tag_overrides).where(*key))
            await connection.execute(
                insert(tag_overrides).values(
                    target_kind=override.kind.value,
                    target_id=override.target_id,
                    tag=override.tag,
                    present=override.present,
                    changed_by=override.changed_by,
                    changed_at=override.changed_at,
                )
            )
