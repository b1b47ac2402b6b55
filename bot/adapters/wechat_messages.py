"""WeChat messages as plain data and their translation into neutral events: mentions with
WeChat's U+2005, quoted replies, and numbers answering the choices Linli sent. No wechaty here:
bot/adapters/wechat.py reduces puppet payloads to `RawMessage` first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.events import Button, ChatRef, IncomingMessage, Platform, UserRef

_MENTION_SEPARATOR = "\u2005"
# WeChat shows a quoted reply as 「author：quoted」, a dashed rule, then the reply.
_QUOTE = re.compile(
    r"\A「(?P<author>[^：:」]*)[：:](?P<quoted>.*)」\n(?:- ?){10,}\n?(?P<reply>.*)\Z", re.S
)


class MessageKind(StrEnum):
    """The message types Linli reads; everything else is ignored."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A puppet message reduced to plain data (`room_id` is "" for a private chat)."""

    message_id: str
    kind: MessageKind
    text: str
    sender_id: str
    sender_name: str
    room_id: str
    mention_ids: tuple[str, ...]
    timestamp: int
    image_path: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A quoted reply split into who was quoted, what, and the reply itself."""

    author: str
    quoted: str
    reply: str


QuoteLookup = Callable[[str, str], str | None]
"""(chat_id, quoted text) -> id of the quoted message, if known."""


def parse_quote(text: str) -> Quote | None:
    """Recognise WeChat's quoted-reply layout."""
    match = _QUOTE.match(text)
    if match is None:
        return None
    return Quote(match["author"], match["quoted"], match["reply"])


def strip_mentions(text: str, names: Sequence[str]) -> tuple[str, bool]:
    """Remove `@name` (WeChat ends it with U+2005) for each of the bot's names; was one there?"""
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return text, False
    alternatives = "|".join(re.escape(n) for n in names)
    pattern = re.compile(f"@(?:{alternatives})(?:{_MENTION_SEPARATOR}| |$)")
    stripped, count = pattern.subn("", text)
    return stripped, count > 0


def sent_at_of(timestamp: int, fallback: datetime) -> datetime:
    """Puppet timestamps come in seconds or milliseconds; 0 means unknown."""
    if timestamp <= 0:
        return fallback
    seconds = timestamp / 1000 if timestamp > 10**11 else timestamp
    return datetime.fromtimestamp(seconds, UTC)


def chosen_payload(text: str, choices: Sequence[Button]) -> str | None:
    """A bare number answering a numbered list we sent ("回复 1 …") picks that button."""
    number = unicodedata.normalize("NFKC", text).strip()
    if not number.isdigit() or not choices:
        return None
    index = int(number)
    return choices[index - 1].payload if 1 <= index <= len(choices) else None


def to_incoming(
    raw: RawMessage,
    *,
    self_id: str,
    self_names: Sequence[str],
    received_at: datetime,
    quote_lookup: QuoteLookup | None = None,
    choices: Sequence[Button] = (),
) -> IncomingMessage | None:
    """Translate one puppet message; None for our own messages and types Linli ignores."""
    if raw.sender_id == self_id or raw.kind is MessageKind.OTHER:
        return None
    if raw.kind is MessageKind.IMAGE and raw.image_path is None:
        return None
    chat_id = raw.room_id or raw.sender_id
    # A voice message's text is the puppet's XML about the recording, not words.
    text, reply_to_id = ("" if raw.kind is MessageKind.VOICE else raw.text), None
    quote = parse_quote(text)
    if quote is not None:
        text = quote.reply
        reply_to_id = quote_lookup(chat_id, quote.quoted) if quote_lookup else None
    text, named = strip_mentions(text, self_names)
    text = text.strip()
    payload = chosen_payload(text, choices)
    return IncomingMessage(
        message_id=raw.message_id,
        chat=ChatRef(Platform.WECHAT, chat_id, is_group=bool(raw.room_id)),
        sender=UserRef(Platform.WECHAT, raw.sender_id, raw.sender_name),
        text=payload if payload is not None else text,
        sent_at=sent_at_of(raw.timestamp, received_at),
        mentions_bot=named or self_id in raw.mention_ids,
        image=raw.image_path,
        reply_to_id=reply_to_id,
        is_button=payload is not None,
        is_voice=raw.kind is MessageKind.VOICE,
    )


class RecentMessages:
    """The last texts seen per chat, so a quoted reply can name the message it quotes."""

    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[tuple[str, str], str] = OrderedDict()

    def remember(self, chat_id: str, text: str, message_id: str) -> None:
        """Note one message."""
        self._ids[(chat_id, text)] = message_id
        self._ids.move_to_end((chat_id, text))
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    def find(self, chat_id: str, quoted: str) -> str | None:
        """The message a quote refers to; WeChat shortens long quotes with an ellipsis."""
        exact = self._ids.get((chat_id, quoted))
        if exact is not None or not quoted.endswith(("...", "…")):
            return exact
        prefix = quoted.rstrip(".…")
        for (chat, text), message_id in reversed(self._ids.items()):
            if chat == chat_id and prefix and text.startswith(prefix):
                return message_id
        return None


class RecentChoices:
    """The numbered choices last sent to each chat, so "1" can be read as pressing button 1."""

    def __init__(self, ttl_seconds: float, capacity: int = 1000) -> None:
        self._ttl, self._capacity = ttl_seconds, capacity
        self._choices: OrderedDict[str, tuple[float, tuple[Button, ...]]] = OrderedDict()

    def remember(self, chat_id: str, buttons: tuple[Button, ...], at: float) -> None:
        """Note the choices just sent to a chat (`at` on the pacing clock)."""
        self._choices[chat_id] = (at, buttons)
        self._choices.move_to_end(chat_id)
        while len(self._choices) > self._capacity:
            self._choices.popitem(last=False)

    def forget(self, chat_id: str) -> None:
        """A later message without choices was sent to this chat: a number no longer picks."""
        self._choices.pop(chat_id, None)

    def current(self, chat_id: str, now: float) -> tuple[Button, ...]:
        """The choices a number typed in this chat now answers (none once they are stale)."""
        sent_at, buttons = self._choices.get(chat_id, (0.0, ()))
        return buttons if now - sent_at <= self._ttl else ()
