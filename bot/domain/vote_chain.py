"""A vote's audit chain as the vote service writes it: the vote row locked by number, then the
next hash-chained record appended in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from bot.domain.audit import AuditEvent, next_record
from bot.domain.vote_ports import VoteRepository
from bot.domain.votes import Vote
from bot.errors import NotFound


class VoteChain:
    """Locks vote rows and appends the next link of their audit chain."""

    def __init__(self, votes: VoteRepository) -> None:
        self._votes = votes

    async def locked(self, number: int) -> Vote:
        """Vote `number` with its row locked until the transaction ends, or NotFound."""
        vote = await self._votes.get(number, lock=True)
        if vote is None:
            raise NotFound("vote.not_found", number=number)
        return vote

    async def record(
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
