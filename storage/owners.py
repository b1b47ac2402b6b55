"""Owners' registers in SQL: each import that changes a register is a new version with its units
and the platform ids that let a voter be found in one query.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from bot.domain.owners import OwnerUnit, Register
from bot.domain.vote_ports import StoredRegister
from bot.events import Platform
from storage.db import Database
from storage.schema import owner_accounts, owner_registers, owner_units


def _row_to_stored(row: Any) -> StoredRegister:
    return StoredRegister(
        id=row.id,
        scope=row.scope,
        source=row.source,
        digest=row.digest,
        imported_at=row.imported_at,
    )


def _row_to_unit(row: Any) -> OwnerUnit:
    return OwnerUnit(
        room=row.room,
        area=Decimal(row.area),
        owner_name=row.owner_name,
        phone=row.phone,
        owner_key=row.owner_key,
        telegram_user_ids=tuple(i for i in row.telegram_user_ids.split(";") if i),
        wechat_ids=tuple(i for i in row.wechat_ids.split(";") if i),
        developer_unsold=row.developer_unsold,
    )


def _unit_values(register_id: int, position: int, unit: OwnerUnit) -> dict[str, Any]:
    return {
        "register_id": register_id,
        "position": position,
        "room": unit.room,
        "area": str(unit.area),
        "owner_name": unit.owner_name,
        "phone": unit.phone,
        "owner_key": unit.owner_key,
        "telegram_user_ids": ";".join(unit.telegram_user_ids),
        "wechat_ids": ";".join(unit.wechat_ids),
        "developer_unsold": unit.developer_unsold,
    }


def _accounts(register_id: int, register: Register) -> list[dict[str, Any]]:
    """One row per platform id; the parser guarantees an id belongs to one owner only."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for unit in register.units:
        for platform, ids in (
            (Platform.TELEGRAM, unit.telegram_user_ids),
            (Platform.WECHAT, unit.wechat_ids),
        ):
            for user_id in ids:
                rows[(platform.value, user_id)] = {
                    "register_id": register_id,
                    "platform": platform.value,
                    "user_id": user_id,
                    "owner_key": unit.owner_key,
                }
    return list(rows.values())


class SqlRegisterRepository:
    """RegisterRepository on SQLAlchemy Core."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def latest(self, scope: str) -> StoredRegister | None:
        """The newest register version of a node."""
        query = (
            select(owner_registers)
            .where(owner_registers.c.scope == scope)
            .order_by(owner_registers.c.id.desc())
            .limit(1)
        )
        async with self._db.reading() as connection:
            row = (await connection.execute(query)).first()
        return _row_to_stored(row) if row is not None else None

    async def add(self, scope: str, register: Register, at: datetime) -> StoredRegister:
        """Store a new version with its units and platform ids, all in one transaction."""
        async with self._db.transaction() as connection:
            register_id = (
                await connection.execute(
                    insert(owner_registers)
                    .values(
                        scope=scope,
                        source=register.source[:512],
                        digest=register.digest(),
                        imported_at=at,
                    )
                    .returning(owner_registers.c.id)
                )
            ).scalar_one()
            units = [_unit_values(register_id, i, u) for i, u in enumerate(register.units)]
            await connection.execute(insert(owner_units), units)
            accounts = _accounts(register_id, register)
            if accounts:
                await connection.execute(insert(owner_accounts), accounts)
        return StoredRegister(register_id, scope, register.source[:512], register.digest(), at)

    async def load(self, register_id: int) -> Register:
        """A stored version with its units in file order."""
        query = (
            select(owner_units, owner_registers.c.source)
            .join(owner_registers, owner_registers.c.id == owner_units.c.register_id)
            .where(owner_units.c.register_id == register_id)
            .order_by(owner_units.c.position)
        )
        async with self._db.reading() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            raise LookupError(f"register {register_id} has no units")
        return Register(units=tuple(_row_to_unit(row) for row in rows), source=rows[0].source)

    async def digest(self, register_id: int) -> str:
        """The digest recorded when the version was imported."""
        query = select(owner_registers.c.digest).where(owner_registers.c.id == register_id)
        async with self._db.reading() as connection:
            digest = (await connection.execute(query)).scalar_one_or_none()
        if digest is None:
            raise LookupError(f"register {register_id} does not exist")
        return str(digest)

    async def owner_for(self, register_id: int, platform: Platform, user_id: str) -> str | None:
        """The owner key a platform id belongs to in that version."""
        query = select(owner_accounts.c.owner_key).where(
            owner_accounts.c.register_id == register_id,
            owner_accounts.c.platform == platform.value,
            owner_accounts.c.user_id == user_id,
        )
        async with self._db.reading() as connection:
            key = (await connection.execute(query)).scalar_one_or_none()
        return str(key) if key is not None else None
