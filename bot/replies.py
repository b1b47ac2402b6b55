"""What a handler answers: a text for the chat (or privately for the sender)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Button


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer; `private` sends it to the sender one to one instead of the chat."""

    text: str
    private: bool = False
    buttons: tuple[Button, ...] = ()
    image: str | None = None
