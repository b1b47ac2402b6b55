"""Multi-step flows as data (STYLE E8): a named state with slots per user and chat, expiring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.events import ChatRef, UserRef


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where one user stands in a flow in one chat."""

    state: str
    slots: Mapping[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


class ConversationRepository(Protocol):
    """Storage port for flows (storage/conversations.py)."""

    async def get(self, chat: ChatRef, user: UserRef) -> Conversation | None:
        """The stored conversation, expired or not."""
        ...

    async def get_many(
        self, keys: Sequence[tuple[ChatRef, UserRef]]
    ) -> dict[tuple[ChatRef, UserRef], Conversation]:
        """The stored conversations of several users at once."""
        ...

    async def put(self, chat: ChatRef, user: UserRef, conversation: Conversation) -> None:
        """Store (replace) the conversation."""
        ...

    async def delete(self, chat: ChatRef, user: UserRef) -> None:
        """Forget the conversation."""
        ...

    async def delete_expired(self, now: datetime) -> None:
        """Forget every conversation that expired by `now`."""
        ...


class ConversationService:
    """Starts, reads and ends flows; an expired flow reads as no flow."""

    def __init__(self, conversations: ConversationRepository, clock: Clock) -> None:
        self._conversations, self._clock = conversations, clock

    async def start(
        self, chat: ChatRef, user: UserRef, state: str, slots: Mapping[str, str], ttl: timedelta
    ) -> None:
        """Put the user into `state` until `ttl` has passed (and forget expired flows, which
        would otherwise pile up: every batch of messages reads its senders' flows)."""
        now = self._clock.now()
        await self._conversations.delete_expired(now)
        await self._conversations.put(chat, user, Conversation(state, dict(slots), now + ttl))

    async def current(self, chat: ChatRef, user: UserRef) -> Conversation | None:
        """The user's live flow in this chat, if any."""
        found = await self._conversations.get(chat, user)
        if found is None or (found.expires_at and found.expires_at <= self._clock.now()):
            return None
        return found

    async def current_many(
        self, keys: Sequence[tuple[ChatRef, UserRef]]
    ) -> dict[tuple[ChatRef, UserRef], Conversation]:
        """The live flows of several users (one read for a whole batch of messages)."""
        now = self._clock.now()
        found = await self._conversations.get_many(keys)
        return {k: c for k, c in found.items() if c.expires_at is None or c.expires_at > now}

    async def finish(self, chat: ChatRef, user: UserRef) -> None:
        """End the user's flow in this chat."""
        await self._conversations.delete(chat, user)
