"""The console chat: talk to Linli in a terminal as any person in any group of the config."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.adapters.base import EventSink
from bot.clock import Clock, SystemClock
from bot.domain.community import Role
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from config.settings import Settings
from handlers.texts.common import with_numbered_choices

BOT_NAME = "邻里"


class ConsoleAdapter:
    """Reads lines from stdin as messages; prints what Linli sends with group, recipient, time."""

    platform = Platform.CONSOLE

    def __init__(
        self,
        settings: Settings,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._stdin, self._stdout = stdin or sys.stdin, stdout or sys.stdout
        self._clock = clock or SystemClock()
        stairwell_groups = [g for g in settings.groups if g.level == "stairwell"]
        self._group_id = (stairwell_groups or list(settings.groups))[0].id
        residents = [p for p in settings.people if p.roles == (Role.RESIDENT,)]
        self._user = residents[0].id if residents else "resident-1"
        self._private = False

    def _say(self, line: str) -> None:
        self._stdout.write(line + "\n")
        self._stdout.flush()

    def _where(self) -> str:
        if self._private:
            return "私聊"
        return self._settings.group(self._group_id).name

    def _name(self, person_id: str) -> str:
        known = next((p for p in self._settings.people if p.id == person_id), None)
        return known.name if known is not None else person_id

    def _banner(self) -> None:
        self._say(f"邻里 console — {self._settings.community.name}")
        self._say("  /groups lists groups, /group ID switches group, /people lists people,")
        self._say("  /as ID switches who you are (a new id is a resident), /private talks to")
        self._say("  the bot one to one, /quit leaves. Any other line is a message.")
        self._prompt()

    def _prompt(self) -> None:
        self._stdout.write(f"{self._where()} · {self._name(self._user)}> ")
        self._stdout.flush()

    async def run(self, sink: EventSink) -> None:
        """Read lines until end of input or /quit."""
        self._banner()
        while True:
            line = await asyncio.to_thread(self._stdin.readline)
            if not line:
                return
            text = line.strip()
            if text == "/quit":
                return
            if text and not self._console_command(text):
                await sink(self._message(text))
                # Give the dispatcher a moment to print the answer before the next prompt.
                await asyncio.sleep(0.3)
            self._prompt()

    def _console_command(self, text: str) -> bool:
        """Handle the console's own commands; False when the line is a message for the bot."""
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word == "/groups":
            for group in self._settings.groups:
                self._say(f"  {group.id:<12} {group.name}")
        elif word == "/people":
            for person in self._settings.people:
                self._say(f"  {person.id:<12} {person.name} ({', '.join(person.roles)})")
        elif word == "/group" and rest:
            if not any(g.id == rest for g in self._settings.groups):
                self._say(f"  no group {rest!r}; /groups lists them")
            else:
                self._group_id, self._private = rest, False
        elif word == "/as" and rest:
            self._user = rest
        elif word == "/private":
            self._private = True
        else:
            return False
        return True

    def _message(self, text: str) -> IncomingMessage:
        sender = UserRef(Platform.CONSOLE, self._user, self._name(self._user))
        chat = (
            ChatRef(Platform.CONSOLE, self._user, is_group=False)
            if self._private
            else ChatRef(Platform.CONSOLE, self._group_id)
        )
        return IncomingMessage(
            message_id=uuid.uuid4().hex,
            chat=chat,
            sender=sender,
            text=text,
            sent_at=self._clock.now(),
        )

    async def send(self, message: OutgoingMessage) -> None:
        """Print the message with where it went and when."""
        local = self._clock.now().astimezone(self._settings.timezone)
        if message.chat.is_group:
            where = self._settings.group(message.chat.chat_id).name
            header = f"[{local:%m-%d %H:%M}] {BOT_NAME} → {where}"
        else:
            header = f"[{local:%m-%d %H:%M}] {BOT_NAME} → 私聊 {self._name(message.chat.chat_id)}"
        self._say("\n" + header)
        text = with_numbered_choices(message.text, [b.label for b in message.buttons])
        for line in text.splitlines():
            self._say(f"    {line}")
