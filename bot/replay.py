"""`linli replay`: run a scripted scenario (messages, ticks, restarts) on a virtual clock.

Each input line is checked completely before it has any effect, so a bad line stops the run
with nothing of it stored, while everything before it stays.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from config.environment import Secrets
from config.settings import Settings
from handlers.texts.common import with_numbered_choices

MESSAGE_KEYS = {"id", "at", "chat", "user", "name", "text", "image"}


class ReplayError(Exception):
    """A bad scenario line; str() is the one line shown to the operator."""


@dataclass(frozen=True, slots=True)
class MessageStep:
    """A message from a person, in a group or privately (`chat` None)."""

    at: datetime
    id: str
    chat: str | None
    user: str
    name: str
    text: str
    image: str | None


@dataclass(frozen=True, slots=True)
class TickStep:
    """Move the clock; everything scheduled up to then happens."""

    at: datetime


@dataclass(frozen=True, slots=True)
class RestartStep:
    """Stop as if killed and start again at `at`."""

    at: datetime


Step = MessageStep | TickStep | RestartStep


def _fail(where: str, message: str) -> ReplayError:
    return ReplayError(f"{where}: {message}")


def _instant(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(where, f'"at" must be an ISO 8601 time with offset, got {value!r}')
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f'"at" is not an ISO 8601 time: {value!r}') from None
    if instant.tzinfo is None:
        raise _fail(where, f'"at" needs a UTC offset, e.g. 2026-12-01T09:00:00+08:00: {value!r}')
    return instant


def _text_field(raw: dict[str, object], key: str, where: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(where, f'"{key}" must be a non-empty string, got {value!r}')
    return value


def parse_step(line: str, where: str, settings: Settings) -> Step | None:
    """One scenario line as a step (None for a blank line); raises ReplayError when bad."""
    if not line.strip():
        return None
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise _fail(where, f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(raw, dict):
        raise _fail(where, "each line must be one JSON object")
    at = _instant(raw.get("at"), where)
    if raw.get("tick") is True or raw.get("restart") is True:
        kind = "tick" if raw.get("tick") is True else "restart"
        extra = set(raw) - {"at", kind}
        if extra:
            raise _fail(where, f"unexpected keys in a {kind} line: {', '.join(sorted(extra))}")
        return TickStep(at) if kind == "tick" else RestartStep(at)
    unknown = set(raw) - MESSAGE_KEYS
    if unknown:
        raise _fail(
            where,
            f"unknown keys: {', '.join(sorted(unknown))} (a message has "
            "id, at, chat, user, name, text, image; or use tick/restart)",
        )
    chat = raw.get("chat")
    if chat is not None and (
        not isinstance(chat, str) or not any(g.id == chat for g in settings.groups)
    ):
        raise _fail(where, f'"chat" must be a group id of the config or null, got {chat!r}')
    text = _text_field(raw, "text", where, required=False)
    image = _text_field(raw, "image", where, required=False)
    if text is None and image is None:
        raise _fail(where, 'a message needs "text" or "image"')
    return MessageStep(
        at=at,
        id=_text_field(raw, "id", where, required=True) or "",
        chat=chat,
        user=_text_field(raw, "user", where, required=True) or "",
        name=_text_field(raw, "name", where, required=False) or "",
        text=text or "",
        image=image,
    )


class ReplayAdapter:
    """Collects what Linli sends and writes it as JSON lines with the virtual time."""

    platform = Platform.CONSOLE

    def __init__(self, out: TextIO, settings: Settings, clock: FakeClock) -> None:
        self._out, self._settings, self._clock = out, settings, clock
        self.sent: list[dict[str, str | None]] = []

    async def run(self, sink: object) -> None:
        """Replays push messages themselves; nothing to listen to."""
        del sink

    async def send(self, message: OutgoingMessage) -> None:
        """Write one output line."""
        # Buttons become the numbered replies a resident would type, as on WeChat.
        text = with_numbered_choices(message.text, [b.label for b in message.buttons])
        record = {
            "at": self._clock.now().astimezone(self._settings.timezone).isoformat(),
            "chat": message.chat.chat_id if message.chat.is_group else None,
            "to": None if message.chat.is_group else message.chat.chat_id,
            "text": text,
            "reply_to": message.reply_to_id,
        }
        if message.image is not None:
            record["image"] = message.image
        self.sent.append(record)
        self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._out.flush()


def _incoming(step: MessageStep) -> IncomingMessage:
    sender = UserRef(Platform.CONSOLE, step.user, step.name)
    chat = (
        ChatRef(Platform.CONSOLE, step.chat)
        if step.chat is not None
        else ChatRef(Platform.CONSOLE, step.user, is_group=False)
    )
    return IncomingMessage(
        message_id=step.id,
        chat=chat,
        sender=sender,
        text=step.text,
        sent_at=step.at,
        image=step.image,
    )


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines of the scenario file."""
    with path.open(encoding="utf-8-sig") as handle:
        yield from enumerate(handle, start=1)


async def run_replay(settings: Settings, scenario: Path, database_url: str, out: TextIO) -> None:
    """Run every line of `scenario` in order; raises ReplayError at the first bad line."""
    replay = Replay(settings, database_url, out)
    last_at: datetime | None = None
    try:
        for number, line in read_lines(scenario):
            where = f"{scenario}:{number}"
            step = parse_step(line, where, settings)
            if step is None:
                continue
            if last_at is not None and step.at < last_at:
                raise _fail(
                    where,
                    f'"at" goes back in time ({step.at.isoformat()} is before '
                    f"{last_at.isoformat()})",
                )
            last_at = step.at
            await replay.step(step)
    finally:
        await replay.close()


class Replay:
    """Drives one scenario through a real app on a virtual clock."""

    def __init__(self, settings: Settings, database_url: str, out: TextIO) -> None:
        # A script on a virtual clock gains nothing from classifier workers, and each restart
        # would spawn them again: it classifies on the event loop.
        inline = replace(settings.classifier, worker_processes=0)
        self._settings = replace(settings, classifier=inline)
        self._database_url, self._out = database_url, out
        self._clock: FakeClock | None = None
        self._app: App | None = None
        self._adapter: ReplayAdapter | None = None

    async def _boot(self, at: datetime) -> App:
        self._clock = FakeClock(at)
        self._adapter = ReplayAdapter(self._out, self._settings, self._clock)
        app = build_app(
            self._settings,
            Secrets(),
            clock=self._clock,
            adapters=[self._adapter],
            database_url=self._database_url,
        )
        await app.start()
        await app.deliver()
        self._app = app
        return app

    async def step(self, step: Step) -> None:
        """Apply one step, then deliver everything that is due."""
        app = self._app
        if app is None:
            app = await self._boot(step.at)
        elif isinstance(step, RestartStep):
            await app.stop()
            app = await self._boot(step.at)
            return
        if self._clock is not None:
            self._clock.set(step.at)
        if isinstance(step, MessageStep):
            await app.pipeline.handle(_incoming(step))
        await app.run_due()
        await app.deliver()

    async def close(self) -> None:
        """Stop the app (the database stays)."""
        if self._app is not None:
            await self._app.stop()
