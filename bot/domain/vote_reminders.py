"""Reminders of open owners' decisions: at most one a day per decision (never on its opening
day), to the owners who have not voted yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.owners import Owner, Register
from bot.domain.reminders import next_local
from bot.domain.units import UnitOfWork
from bot.domain.vote_ports import OwnerContact, VoteNotifier, VoteRepository
from bot.domain.vote_records import VoteRecords
from bot.domain.votes import VoteKind, owners_not_voted

REMIND_AT = time(10, 0)
"""Local time of the daily reminder to owners who have not voted (never on the opening day)."""


class VoteReminders:
    """Says when the next reminder is due and sends the ones due now."""

    def __init__(
        self,
        votes: VoteRepository,
        records: VoteRecords,
        notifier: VoteNotifier,
        unit_of_work: UnitOfWork,
        clock: Clock,
        timezone: ZoneInfo,
    ) -> None:
        self._votes, self._records, self._notifier = votes, records, notifier
        self._unit_of_work, self._clock, self._timezone = unit_of_work, clock, timezone

    async def next_at(self) -> datetime | None:
        """The next reminder time while a decision is open, else None."""
        if not any(v.kind is VoteKind.DECISION for v in await self._votes.open_votes()):
            return None
        return next_local(self._clock.now(), REMIND_AT, self._timezone)

    async def send_due(self, now: datetime) -> None:
        """At most one reminder a day per decision, to owners who have not voted yet."""
        local = now.astimezone(self._timezone)
        if local.time() < REMIND_AT:
            return
        for vote in await self._votes.open_votes():
            opened_on = vote.opens_at.astimezone(self._timezone).date()
            if vote.kind is not VoteKind.DECISION or opened_on >= local.date():
                continue
            if not vote.accepts_ballots_at(now):
                continue
            async with self._unit_of_work.transaction():
                register = await self._records.register_of(vote)
                ballots = [b.ballot() for b in await self._votes.ballots(vote.id)]
                missing = _contacts(register, owners_not_voted(register, ballots))
                if missing and await self._votes.claim_reminder(
                    vote.id, local.date(), now, len(missing)
                ):
                    await self._notifier.remind(vote, missing)


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
