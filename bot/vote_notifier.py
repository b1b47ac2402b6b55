"""Renders what votes say on their own (results, reminders) and stores it in the outbox.

Implements the domain's VoteNotifier port. Reminders go privately wherever the register or
the config gives a way to reach the owner, spaced out so that a platform is never flooded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.community import Directory, Group, Person
from bot.domain.vote_ports import OwnerContact, VoteTally
from bot.domain.votes import Vote
from bot.events import ChatRef, Platform
from bot.outbox import Outbox, OutboxEntry
from handlers.texts import votes as texts

logger = logging.getLogger(__name__)

REMINDER_SPACING = timedelta(seconds=3)
"""Gap between two private reminders: paced like a person sending them one by one."""


class VoteMessages:
    """VoteNotifier on the outbox."""

    def __init__(
        self,
        outbox: Outbox,
        directory: Directory,
        platforms: Sequence[Platform],
        clock: Clock,
        timezone: ZoneInfo,
    ) -> None:
        self._outbox, self._directory, self._platforms = outbox, directory, tuple(platforms)
        self._clock, self._timezone = clock, timezone

    async def closed(self, tally: VoteTally, recipients: Sequence[Person]) -> None:
        """Post the result in the vote's group and send it to each recipient privately."""
        text = texts.result_text(tally)
        group = self._directory.group(tally.vote.group_id)
        if group is not None:
            await self._to_group(group, text)
        for person in recipients:
            await self._outbox.to_person(person, text)

    async def remind(self, vote: Vote, owners: Sequence[OwnerContact]) -> None:
        """Private reminders (with ballot buttons), paced; one group nudge for the others."""
        now, unreached, sent = self._clock.now(), 0, 0
        buttons = texts.ballot_buttons(vote)
        for owner in owners:
            chat, person_id = self._private_chat(owner)
            if chat is None:
                unreached += 1
                continue
            entry = OutboxEntry(
                chat=chat,
                text=texts.owner_reminder(vote, owner, self._timezone),
                person_id=person_id,
                buttons=buttons,
            )
            await self._outbox.put(entry, not_before_at=now + REMINDER_SPACING * sent)
            sent += 1
        group = self._directory.group(vote.group_id)
        if unreached and group is not None:
            await self._to_group(group, texts.group_reminder(vote, unreached, self._timezone))
        logger.info(
            "vote %s: reminded %s owners privately, %s in the group", vote.number, sent, unreached
        )

    def _private_chat(self, owner: OwnerContact) -> tuple[ChatRef | None, str | None]:
        """The first connected platform the owner can be reached on privately."""
        person = self._configured_person(owner)
        for platform in self._platforms:
            if platform is Platform.CONSOLE and person is not None:
                return ChatRef(Platform.CONSOLE, person.id, is_group=False), person.id
            ids = {Platform.TELEGRAM: owner.telegram_user_ids, Platform.WECHAT: owner.wechat_ids}
            if ids.get(platform):
                chat = ChatRef(platform, ids[platform][0], is_group=False)
                return chat, person.id if person is not None else None
        return None, None

    def _configured_person(self, owner: OwnerContact) -> Person | None:
        """The configured person whose platform ids are the owner's (console users, staff)."""
        for person in self._directory.people():
            if (person.telegram_user_id and person.telegram_user_id in owner.telegram_user_ids) or (
                person.wechat_id and person.wechat_id in owner.wechat_ids
            ):
                return person
        return None

    async def _to_group(self, group: Group, text: str) -> None:
        if not await self._outbox.to_group(group, text):
            logger.warning("group %s is not bound on any connected platform", group.id)
