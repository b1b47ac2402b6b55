"""Neutral event types: what adapters produce and what the outbox hands back to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Platform(StrEnum):
    """Chat platforms Linli speaks on; `console` also serves replays."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    WECHAT = "wechat"


class RequestType(StrEnum):
    """The six request types, plus `none` for ordinary chat."""

    REPAIR = "repair"
    COMPLAINT = "complaint"
    INCIDENT = "incident"
    DISPUTE = "dispute"
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform; for a private chat `chat_id` is the other user's id."""

    platform: Platform
    chat_id: str
    is_group: bool = True


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user on one platform."""

    platform: Platform
    user_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message from any platform, already normalised by its adapter."""

    message_id: str
    chat: ChatRef
    sender: UserRef
    text: str
    sent_at: datetime
    mentions_bot: bool = False
    image: str | None = None
    reply_to_id: str | None = None
    is_edit: bool = False
    is_button: bool = False
    # The sender is a chat, not a person: an anonymous group admin or a channel (Telegram).
    sender_is_chat: bool = False
    # A voice message: Linli cannot read it (its text is empty, or a Telegram caption).
    is_voice: bool = False
    # The platform can show the answer to the sender alone (a Telegram button press answered
    # with a pop-up): an answer meant for the group comes back from the sink instead of being
    # posted, so a vote by buttons does not put one message per voter into the group.
    answer_inline: bool = False


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button: what it shows and the text it sends back when pressed."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message ready for an adapter, read from the persisted outbox."""

    outbox_id: int
    chat: ChatRef
    text: str
    group_id: str | None = None
    person_id: str | None = None
    reply_to_id: str | None = None
    urgent: bool = False
    image: str | None = None
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    # Parts (a picture, text pieces) an earlier, failed attempt already delivered: a retry
    # sends only the rest, so nobody reads the first half of a long notice twice.
    parts_sent: int = 0
    # In a group, the platform id of whom the reply answers: WeChat @mentions them (a
    # Telegram reply already notifies its author).
    reply_to_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMigrated:
    """A Telegram group became a supergroup and changed its id."""

    platform: Platform
    old_chat_id: str
    new_chat_id: str


@dataclass(frozen=True, slots=True)
class BotRemoved:
    """The bot was removed from a group: nothing more may be sent there."""

    chat: ChatRef


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """Someone joined a group (WeChat room-join); they get a short welcome."""

    chat: ChatRef
    member: UserRef
    event_id: str
    # When they joined, as the platform says (None: unknown); an old one replayed is skipped.
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlatformDown:
    """A platform logged out or lost its session; secretaries are told elsewhere."""

    platform: Platform
    reason: str


PlatformEvent = ChatMigrated | BotRemoved | MemberJoined | PlatformDown
