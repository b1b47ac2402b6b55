"""Group commit: messages handed over concurrently are committed in batches, once each, in order."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from bot.events import ChatRef, IncomingMessage, Platform, UserRef
from handlers.texts import common
from tests.fakes import AppHarness

LIGHT = "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的"


def _message(app: AppHarness, message_id: str, text: str, user: str, chat: str) -> IncomingMessage:
    return IncomingMessage(
        message_id=message_id,
        chat=ChatRef(Platform.CONSOLE, chat),
        sender=UserRef(Platform.CONSOLE, user),
        text=text,
        sent_at=app.clock.now(),
    )


async def _two_good_and_a_bad(app: AppHarness) -> dict[str, str]:
    """Three requests in one batch; the middle one ("bad") is the one that fails. Replies."""
    burst = [
        _message(app, "ok1", LIGHT, "u1", "g-ty51"),
        _message(app, "bad", "5幢2单元楼道的水管爆了，水一直往外冒", "u2", "g-ty52"),
        _message(app, "ok2", LIGHT, "u3", "g-my21"),
    ]
    await asyncio.gather(*(app.app.pipeline.handle(m) for m in burst))
    await app.app.deliver()
    return {m.reply_to_id: m.text for m in app.adapter.sent if m.reply_to_id}


async def test_a_burst_with_repeats_is_handled_once_per_message(app: AppHarness) -> None:
    chats = ["g-ty51", "g-ty52", "g-my21", "g-my31"]
    burst = [
        _message(app, f"m{i}", LIGHT if i % 4 == 0 else "早上好", f"u{i}", chats[i % 4])
        for i in range(40)
    ]
    # Every message twice, each copy right behind its original.
    doubled = [m for original in burst for m in (original, original)]
    await asyncio.gather(*(app.app.pipeline.handle(m) for m in doubled))
    await app.app.deliver()
    answered = [m.reply_to_id for m in app.adapter.sent]
    assert sorted(answered) == sorted(f"m{i}" for i in range(0, 40, 4))
    assert all("工单" in m.text for m in app.adapter.sent)


async def test_a_sender_s_messages_keep_their_order_across_batches(app: AppHarness) -> None:
    # A low-confidence request asks a question; the same sender's "1" right behind it must
    # see that question, so the two can never share a batch.
    first = _message(app, "q1", LIGHT, "u1", "g-ty51")
    handled = asyncio.gather(
        app.app.pipeline.handle(first),
        app.app.pipeline.handle(_message(app, "q2", "/工单", "p-sec", "g-ty51")),
        app.app.pipeline.handle(_message(app, "q3", "/工单", "u1", "g-ty51")),
    )
    await handled
    await app.app.deliver()
    replies = {m.reply_to_id: m.text for m in app.adapter.sent}
    assert "工单号 1001" in replies["q1"]
    # u1's list, handled after u1's request, already shows the new ticket.
    assert "1001" in replies["q3"]


async def test_a_failing_handler_undoes_only_its_own_writes(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = app.app.services.tickets
    real_open = tickets.open

    async def open_then_fail(*args: Any, **kwargs: Any) -> Any:
        opened = await real_open(*args, **kwargs)
        if "爆了" in opened.ticket.text:
            raise RuntimeError("failed after writing the ticket")
        return opened

    monkeypatch.setattr(tickets, "open", open_then_fail)
    replies = await _two_good_and_a_bad(app)
    assert replies["bad"] == common.SORRY
    assert "工单号" in replies["ok1"] and "工单号" in replies["ok2"]
    listed = (await app.say("/工单", user="p-sec", chat=None))[0].text
    assert "待办工单 2 件" in listed
    assert "爆了" not in listed


async def test_an_answer_that_cannot_be_stored_costs_only_its_own_message(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    repository = app.app.outbox._repository  # type: ignore[attr-defined]
    real_add = repository.add

    async def add(entry: Any, created_at: Any, not_before_at: Any) -> None:
        # A row the database refuses (text NOT NULL), found only when the batch is written.
        broken = replace(entry, text=None) if entry.reply_to_id == "bad" else entry
        await real_add(broken, created_at, not_before_at)

    monkeypatch.setattr(repository, "add", add)
    replies = await _two_good_and_a_bad(app)
    assert "bad" not in replies
    assert "工单号" in replies["ok1"] and "工单号" in replies["ok2"]
    assert "storing the answer to message bad failed" in caplog.text


async def test_a_cancelled_sender_does_not_stall_the_others(app: AppHarness) -> None:
    first = asyncio.ensure_future(
        app.app.pipeline.handle(_message(app, "c1", LIGHT, "u1", "g-ty51"))
    )
    second = asyncio.ensure_future(
        app.app.pipeline.handle(_message(app, "c2", "早上好", "u2", "g-ty52"))
    )
    await asyncio.sleep(0)  # both are queued for the writer
    first.cancel()
    await asyncio.wait_for(second, timeout=30)
    later = await app.say("/工单", user="p-sec", chat=None)
    # The cancelled sender's message still committed: its answer and its ticket are there.
    assert any("工单号 1001" in m.text for m in later)
    assert any("待办工单 1 件" in m.text for m in later)
