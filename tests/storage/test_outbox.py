"""The outbox: a crash between "ticket stored" and "reply sent" still sends the reply once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.base import DeliveryError
from bot.app import build_app
from bot.clock import FakeClock
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from config.environment import Secrets
from config.settings import Settings
from tests.fakes import RecordingAdapter

START = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _message(message_id: str) -> IncomingMessage:
    return IncomingMessage(
        message_id=message_id,
        chat=ChatRef(Platform.CONSOLE, "g-ty51"),
        sender=UserRef(Platform.CONSOLE, "p-res1"),
        text="5幢1单元楼道灯坏了好几天了，晚上黑漆漆的",
        sent_at=START,
    )


async def test_reply_stored_before_crash_is_sent_once_after_restart(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"
    first = build_app(settings, Secrets(), clock=FakeClock(START), adapters=[RecordingAdapter()],
                      database_url=url)  # fmt: skip
    await first.start()
    await first.pipeline.handle(_message("m1"))
    await first.stop()  # "killed" before the dispatcher ran: nothing was sent

    adapter = RecordingAdapter()
    second = build_app(settings, Secrets(), clock=FakeClock(START), adapters=[adapter],
                       database_url=url)  # fmt: skip
    await second.start()
    await second.pipeline.handle(_message("m1"))  # the platform redelivers it too
    await second.deliver()
    await second.deliver()
    await second.stop()
    assert [m.reply_to_id for m in adapter.sent] == ["m1"]
    assert "工单号 1001" in adapter.sent[0].text


class FlakyAdapter(RecordingAdapter):
    """Fails the first send transiently, after delivering `delivered` of its parts."""

    def __init__(self, delivered: int = 0) -> None:
        super().__init__()
        self.calls, self.delivered = 0, delivered

    async def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        if self.calls == 1:
            raise DeliveryError("network down", permanent=False, parts_sent=self.delivered)
        await super().send(message)


async def _first_send_fails(
    settings: Settings, tmp_path: Path, adapter: FlakyAdapter
) -> list[OutgoingMessage]:
    """A reply whose first send fails, delivered again a minute later: what was sent."""
    from datetime import timedelta

    clock = FakeClock(START)
    app = build_app(settings, Secrets(), clock=clock, adapters=[adapter],
                    database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")  # fmt: skip
    await app.start()
    try:
        await app.pipeline.handle(_message("m1"))
        await app.deliver()
        assert adapter.sent == []
        clock.set(START + timedelta(minutes=1))
        await app.deliver()
    finally:
        await app.stop()
    return adapter.sent


async def test_transient_failure_is_retried_later(settings: Settings, tmp_path: Path) -> None:
    [retried] = await _first_send_fails(settings, tmp_path, FlakyAdapter())
    assert retried.parts_sent == 0


async def test_a_retry_knows_which_parts_already_went_out(
    settings: Settings, tmp_path: Path
) -> None:
    [retried] = await _first_send_fails(settings, tmp_path, FlakyAdapter(delivered=2))
    assert retried.parts_sent == 2
