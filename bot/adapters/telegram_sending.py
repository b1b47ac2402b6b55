"""What one outgoing Telegram message becomes: text split within Telegram's UTF-16 length limit,
an optional photo (the text as its caption when it fits), and inline keyboard buttons.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.adapters.base import DeliveryError
from bot.adapters.telegram_updates import FILE_REF_PREFIX
from bot.events import ChatRef, OutgoingMessage

TEXT_LIMIT: Final = int(MessageLimit.MAX_TEXT_LENGTH)
CAPTION_LIMIT: Final = int(MessageLimit.CAPTION_LENGTH)


@dataclass(frozen=True, slots=True)
class Part:
    """One Bot API call of an outgoing message: a photo or a text chunk."""

    text: str
    photo: bytes | str | None = None
    with_reply: bool = False
    with_keyboard: bool = False


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split on line boundaries into chunks of at most `limit` UTF-16 units; blank ones dropped."""
    chunks: list[str] = []
    current = ""
    for line in _hard_wrap(text.splitlines(keepends=True), limit):
        if current and utf16_length(current + line) > limit:
            chunks.append(current)
            current = ""
        current += line
    chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks if chunk.strip()]


def _hard_wrap(lines: list[str], limit: int) -> list[str]:
    pieces: list[str] = []
    for line in lines:
        piece = ""
        for char in line:
            if utf16_length(piece + char) > limit:
                pieces.append(piece)
                piece = ""
            piece += char
        pieces.append(piece)
    return pieces


def inline_keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """One button per row: labels are short Chinese options, payloads go back as callback data."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in message.buttons]
    )


def numeric_chat_id(chat: ChatRef) -> int:
    """The Bot API's integer chat id; anything else can never be delivered."""
    try:
        return int(chat.chat_id)
    except ValueError:
        raise DeliveryError(
            f"telegram: chat id {chat.chat_id!r} is not numeric", permanent=True
        ) from None


async def parts_of(message: OutgoingMessage) -> list[Part]:
    """Photo (with the text as caption when it fits), then text chunks; keyboard on the last."""
    chunks = split_text(message.text)
    parts: list[Part] = []
    if message.image:
        photo = await _photo_input(message.image)
        fits = len(chunks) == 1 and utf16_length(chunks[0]) <= CAPTION_LIMIT
        parts.append(Part(chunks[0] if fits else "", photo, with_reply=True))
        if fits:
            chunks = []
    parts.extend(Part(chunk, with_reply=not parts and i == 0) for i, chunk in enumerate(chunks))
    if not parts:
        raise DeliveryError("telegram: empty message (no text, no image)", permanent=True)
    last = parts[-1]
    parts[-1] = Part(last.text, last.photo, last.with_reply, with_keyboard=True)
    return parts


async def _photo_input(image: str) -> bytes | str:
    if image.startswith(FILE_REF_PREFIX):
        return image[len(FILE_REF_PREFIX) :]
    try:
        return await asyncio.to_thread(Path(image).read_bytes)
    except OSError as error:
        raise DeliveryError(
            f"telegram: cannot read image {image}: {error.strerror}", permanent=True
        ) from None
