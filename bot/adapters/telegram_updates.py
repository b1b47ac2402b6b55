"""Bot API updates turned into Linli's neutral events: `/cmd@Bot` and @mentions normalised, photos
kept as Telegram file references, button presses, joins, migrations and the bot's removal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from telegram import CallbackQuery, Chat, ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.events import (
    BotRemoved,
    ChatMigrated,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    Platform,
    PlatformEvent,
    UserRef,
)

Event = IncomingMessage | PlatformEvent
FILE_REF_PREFIX: Final = "telegram:"
_REMOVED_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
_GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL})
_COMMAND_FOR_BOT = re.compile(r"^/([^\s@/]+)@([A-Za-z0-9_]{3,32})(?=\s|$)")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is on Telegram, as getMe told us."""

    user_id: int
    username: str


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """Message text with `/cmd@Bot` shortened and the bot's own @mention removed."""

    text: str
    mentions_bot: bool


def normalise_text(text: str, bot_username: str) -> NormalisedText | None:
    """`/cmd@Bot args` -> `/cmd args`, `@Bot` removed; None for a command aimed at another bot."""
    stripped = text.strip()
    addressed = False
    command = _COMMAND_FOR_BOT.match(stripped)
    if command is not None:
        if command.group(2).casefold() != bot_username.casefold():
            return None
        stripped = f"/{command.group(1)}{stripped[command.end() :]}"
        addressed = True
    mention = re.compile(rf"(?<![\w@])@{re.escape(bot_username)}\b", re.IGNORECASE)
    if mention.search(stripped):
        addressed = True
        stripped = mention.sub(" ", stripped)
        stripped = re.sub(r"[ \t\u3000]{2,}", " ", stripped).strip().lstrip(",，:：").strip()
    return NormalisedText(stripped, addressed)


def translate_update(update: Update, me: BotIdentity, now: datetime) -> tuple[Event, ...]:
    """Turn one Bot API update into neutral events (none for what Linli does not use)."""
    if update.callback_query is not None:
        return _from_callback(update.callback_query, now)
    if update.my_chat_member is not None:
        return _from_membership(update.my_chat_member, me)
    if update.message is not None:
        return _from_message(update.message, me, is_edit=False)
    if update.channel_post is not None:
        return _from_message(update.channel_post, me, is_edit=False)
    edited = update.edited_message or update.edited_channel_post
    if edited is not None:
        return _from_message(edited, me, is_edit=True)
    return ()


def chat_ref(chat: Chat) -> ChatRef:
    """Groups, supergroups and channels are group chats; a private chat is keyed by the user."""
    return ChatRef(Platform.TELEGRAM, str(chat.id), is_group=chat.type in _GROUP_TYPES)


def _from_message(message: Message, me: BotIdentity, *, is_edit: bool) -> tuple[Event, ...]:
    if message.migrate_to_chat_id is not None:
        # Only the old group's last message is mapped; `migrate_from_chat_id` repeats it.
        new_id = str(message.migrate_to_chat_id)
        return (ChatMigrated(Platform.TELEGRAM, str(message.chat.id), new_id),)
    if message.new_chat_members:
        return tuple(
            MemberJoined(
                chat_ref(message.chat),
                UserRef(Platform.TELEGRAM, str(member.id), member.full_name),
                event_id=f"join:{message.chat.id}:{message.message_id}:{member.id}",
                at=message.date,
            )
            for member in message.new_chat_members
            if not member.is_bot
        )
    sender = _sender(message, me)
    image = _image_ref(message)
    raw_text = message.text or message.caption or ""
    voice = message.voice is not None or message.audio is not None
    if sender is None or (not raw_text and image is None and not voice):
        return ()
    normalised = normalise_text(raw_text, me.username)
    if normalised is None:
        return ()
    reply = message.reply_to_message
    replies_to_bot = bool(reply and reply.from_user and reply.from_user.id == me.user_id)
    sent_at = message.edit_date if is_edit and message.edit_date else message.date
    return (
        IncomingMessage(
            message_id=str(message.message_id),
            chat=chat_ref(message.chat),
            sender=sender,
            text=normalised.text,
            sent_at=sent_at,
            mentions_bot=normalised.mentions_bot or replies_to_bot,
            image=image,
            reply_to_id=str(reply.message_id) if reply else None,
            is_edit=is_edit,
            sender_is_chat=message.sender_chat is not None,
            is_voice=voice,
        ),
    )


def _sender(message: Message, me: BotIdentity) -> UserRef | None:
    # Anonymous admins post as the group and channel owners as their channel: `sender_chat`.
    if message.sender_chat is not None:
        chat = message.sender_chat
        return UserRef(Platform.TELEGRAM, str(chat.id), chat.effective_name or "")
    user = message.from_user
    if user is None:
        return UserRef(Platform.TELEGRAM, str(message.chat.id), message.chat.effective_name or "")
    if user.id == me.user_id:
        return None
    return UserRef(Platform.TELEGRAM, str(user.id), user.full_name)


def _image_ref(message: Message) -> str | None:
    if message.photo:
        return FILE_REF_PREFIX + message.photo[-1].file_id
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return FILE_REF_PREFIX + document.file_id
    return None


def _from_callback(query: CallbackQuery, now: datetime) -> tuple[Event, ...]:
    message = query.message
    if message is None or query.data is None:
        return ()
    presser = UserRef(Platform.TELEGRAM, str(query.from_user.id), query.from_user.full_name)
    return (
        IncomingMessage(
            message_id=f"cb:{query.id}",
            chat=chat_ref(message.chat),
            sender=presser,
            text=query.data,
            sent_at=now,
            reply_to_id=str(message.message_id),
            is_button=True,
            answer_inline=True,
        ),
    )


def _from_membership(change: ChatMemberUpdated, me: BotIdentity) -> tuple[Event, ...]:
    member = change.new_chat_member
    if member.user.id == me.user_id and member.status in _REMOVED_STATUSES:
        return (BotRemoved(chat_ref(change.chat)),)
    return ()
