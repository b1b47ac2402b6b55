"""Telegram adapter against the in-repo fake Bot API: translation, sending, pacing, token safety."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession
from telegram import Bot, TelegramObject, Update

from bot.adapters.base import DeliveryError
from bot.adapters.pacing import Pacer, SendSchedule, SendTicket
from bot.adapters.telegram import MAX_UPDATE_FAILURES, TelegramAdapter, TelegramOptions
from bot.adapters.telegram_sending import split_text, utf16_length
from bot.adapters.telegram_updates import BotIdentity, normalise_text, translate_update
from bot.events import (
    BotRemoved,
    Button,
    ChatMigrated,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    OutgoingMessage,
    Platform,
    PlatformDown,
    PlatformEvent,
    UserRef,
)

from .fake_telegram import CHANNEL_BOT_ID, ApiError, FakeTelegram

GROUP = -4001
SUPERGROUP = -1002000000001
CHANNEL = -1003000000001
RESIDENT = 20001
SECRETARY = 20002
NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
ME = BotIdentity(123456789, "LinliTestBot")


class RecordingSink:
    """Collects what the adapter hands to the pipeline."""

    def __init__(self) -> None:
        self.events: list[IncomingMessage | PlatformEvent] = []
        self._changed = asyncio.Event()
        self.answer: str | None = None  # what the pipeline would show the sender alone

    async def __call__(self, event: IncomingMessage | PlatformEvent) -> str | None:
        self.events.append(event)
        self._changed.set()
        return self.answer

    async def wait_for(self, count: int) -> list[IncomingMessage | PlatformEvent]:
        """Wait until `count` events arrived in total."""
        async with asyncio.timeout(5):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events

    @property
    def messages(self) -> list[IncomingMessage]:
        """Only the messages, in order."""
        return [event for event in self.events if isinstance(event, IncomingMessage)]


def _webhook_options() -> TelegramOptions:
    port = free_port()
    return TelegramOptions(
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-for-tests",
    )


class FailsOnce(RecordingSink):
    """The first commit fails (say the database was locked); the next ones work."""

    calls = 0

    async def __call__(self, event: IncomingMessage | PlatformEvent) -> str | None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database is locked")
        return await super().__call__(event)


def populate(fake: FakeTelegram) -> None:
    """A small community: two residents, a basic group, a supergroup and a channel."""
    fake.add_user(RESIDENT, "王阿姨", "wang_ayi")
    fake.add_user(SECRETARY, "李书记", "li_shuji")
    fake.add_group(GROUP, "幸福里3栋2单元", admins=(SECRETARY,))
    fake.add_group(SUPERGROUP, "幸福里业主群", supergroup=True)
    fake.add_channel(CHANNEL, "幸福里社区通知", "xingfuli_notice")


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods: 22.8 warns inside `RetryAfter()` otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        populate(server)
        yield server


@asynccontextmanager
async def running(
    fake: FakeTelegram, options: TelegramOptions | None = None, token: str | None = None
) -> AsyncIterator[tuple[TelegramAdapter, RecordingSink]]:
    """Run the adapter against the fake until the block ends."""
    sink = RecordingSink()
    adapter = TelegramAdapter(
        token or fake.token, options or TelegramOptions(), api_base=fake.base_url
    )
    task = asyncio.create_task(adapter.run(sink))

    def started() -> bool:
        rejected = any(call.status == 401 for call in fake.calls_of("getMe"))
        return "getUpdates" in fake.received or bool(fake.webhook_url) or rejected

    try:
        await fake.wait_for(started, what="the adapter to start")
        yield adapter, sink
    finally:
        if task.done():
            await task  # run() returned by itself (rejected token): it must not have raised
        else:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


def outgoing(text: str, chat: ChatRef | None = None, **fields: object) -> OutgoingMessage:
    """An outbox message into the basic group unless told otherwise."""
    target = chat or ChatRef(Platform.TELEGRAM, str(GROUP))
    return OutgoingMessage(1, target, text, **fields)  # type: ignore[arg-type]


def updates_of(fake: FakeTelegram) -> Iterator[Update]:
    """Parse the fake's queued updates with PTB, as the adapter would."""
    for raw in fake.pending_updates:
        update = Update.de_json(raw, None)
        assert update is not None
        yield update


def unknown_fields(obj: object, path: str = "") -> list[str]:
    """Fields PTB did not recognise (it parks them in `api_kwargs`): the fake must send none."""
    found: list[str] = []
    if isinstance(obj, TelegramObject):
        found.extend(f"{path}.{key}" for key in obj.api_kwargs)
        for key, value in obj.to_dict(recursive=False).items():
            found.extend(unknown_fields(value, f"{path}.{key}"))
    elif isinstance(obj, tuple | list):
        for index, item in enumerate(obj):
            found.extend(unknown_fields(item, f"{path}[{index}]"))
    return found


# ------------------------------------------------------------------ pure translation


@pytest.mark.parametrize(
    ("raw", "text", "mentions_bot"),
    [
        ("/help@LinliTestBot", "/help", True),
        ("/bind@linlitestbot -1002000000001", "/bind -1002000000001", True),
        ("/工单@LinliTestBot 1024", "/工单 1024", True),
        ("/工单 1024", "/工单 1024", False),
        ("工单 1024", "工单 1024", False),
        ("@LinliTestBot 5栋电梯坏了", "5栋电梯坏了", True),
        ("@LinliTestBot，楼道灯不亮", "楼道灯不亮", True),
        ("楼道灯不亮了 @LinliTestBot 麻烦看看", "楼道灯不亮了 麻烦看看", True),
        ("@LinliTestBot2 你好", "@LinliTestBot2 你好", False),
        ("写信到 mail@LinliTestBot", "写信到 mail@LinliTestBot", False),
    ],
)
def test_normalise_text(raw: str, text: str, mentions_bot: bool) -> None:
    normalised = normalise_text(raw, "LinliTestBot")
    assert normalised is not None
    assert (normalised.text, normalised.mentions_bot) == (text, mentions_bot)


def test_command_for_another_bot_is_not_ours() -> None:
    assert normalise_text("/start@OtherHelperBot", "LinliTestBot") is None


def _group_message(sender: int, **content: object) -> Update:
    """A raw message update in GROUP, as the Bot API sends it."""
    update = Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 9,
                "date": 1772700000,
                "chat": {"id": GROUP, "type": "group", "title": "g"},
                "from": {"id": sender, "is_bot": sender == ME.user_id, "first_name": "某人"},
                **content,
            },
        },
        None,
    )
    assert update is not None
    return update


def test_own_messages_and_stickers_never_reach_the_sink() -> None:
    own = _group_message(ME.user_id, text="已受理")
    sticker = _group_message(
        RESIDENT,
        sticker={
            "file_id": "s", "file_unique_id": "su", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False,
        },
    )  # fmt: skip
    assert translate_update(own, ME, NOW) == translate_update(sticker, ME, NOW) == ()


def test_a_voice_message_reaches_the_sink_marked_as_voice() -> None:
    update = _group_message(RESIDENT, voice={"file_id": "v", "file_unique_id": "vu", "duration": 3})
    (voice,) = translate_update(update, ME, NOW)
    assert isinstance(voice, IncomingMessage) and voice.is_voice and voice.text == ""


def test_every_update_the_fake_makes_parses_cleanly_in_ptb() -> None:
    fake = FakeTelegram()
    populate(fake)
    first = fake.say(GROUP, RESIDENT, "/help@LinliTestBot")
    fake.say(GROUP, SECRETARY, "收到 @wang_ayi", reply_to=first)
    fake.say_as_anonymous_admin(SUPERGROUP, "明早停水")
    fake.say_as_channel(SUPERGROUP, CHANNEL, "通知")
    fake.post_in_channel(CHANNEL, "社区通知")
    fake.send_photo_from(GROUP, RESIDENT, "随手拍：垃圾没清")
    fake.edit(GROUP, first, "/help")
    fake.join(GROUP, SECRETARY)
    fake.migrate(GROUP, -1002999, SECRETARY)
    fake.kick_bot(SUPERGROUP, SECRETARY)
    updates = list(updates_of(fake))
    assert len(updates) == 11
    for update in updates:
        assert unknown_fields(update) == [], update.to_dict()


def test_translation_of_the_fakes_updates() -> None:
    fake = FakeTelegram()
    populate(fake)
    fake.say(RESIDENT, RESIDENT, "我家水管漏了")
    photo_id = fake.send_photo_from(GROUP, RESIDENT, "随手拍：垃圾没清")
    fake.say_as_anonymous_admin(SUPERGROUP, "明早停水")
    fake.say_as_channel(SUPERGROUP, CHANNEL, "通知")
    fake.post_in_channel(CHANNEL, "社区通知")
    fake.join(GROUP, SECRETARY)
    fake.migrate(GROUP, -1002999, SECRETARY)
    fake.kick_bot(SUPERGROUP, SECRETARY)
    updates = list(updates_of(fake))
    events = [event for u in updates for event in translate_update(u, ME, NOW)]
    private, photo, anonymous, on_behalf, post, joined, migrated, removed = events
    assert isinstance(private, IncomingMessage)
    assert private.chat == ChatRef(Platform.TELEGRAM, str(RESIDENT), is_group=False)
    assert private.sender.user_id == str(RESIDENT)
    assert isinstance(photo, IncomingMessage)
    assert (photo.text, photo.image) == ("随手拍：垃圾没清", f"telegram:{photo_id}")
    assert isinstance(anonymous, IncomingMessage)
    assert anonymous.sender == UserRef(Platform.TELEGRAM, str(SUPERGROUP), "幸福里业主群")
    assert isinstance(on_behalf, IncomingMessage)
    assert on_behalf.sender.user_id == str(CHANNEL) != str(CHANNEL_BOT_ID)
    assert isinstance(post, IncomingMessage)
    assert post.chat == ChatRef(Platform.TELEGRAM, str(CHANNEL))
    assert post.sender.user_id == str(CHANNEL)
    join_message = next(u.message for u in updates if u.message and u.message.new_chat_members)
    assert joined == MemberJoined(
        ChatRef(Platform.TELEGRAM, str(GROUP)),
        UserRef(Platform.TELEGRAM, str(SECRETARY), "李书记"),
        event_id=f"join:{GROUP}:2:{SECRETARY}",
        at=join_message.date,
    )
    assert join_message.date.tzinfo is not None
    assert migrated == ChatMigrated(Platform.TELEGRAM, str(GROUP), "-1002999")
    assert removed == BotRemoved(ChatRef(Platform.TELEGRAM, str(SUPERGROUP)))


# ------------------------------------------------------------------ pure sending helpers


def test_split_text_keeps_lines_whole_and_respects_the_limit() -> None:
    lines = [f"{n:03d} 号楼 电梯年检通知：请各位居民配合。" for n in range(400)]
    text = "\n".join(lines)
    chunks = split_text(text, 4096)
    assert len(chunks) > 1
    assert all(utf16_length(chunk) <= 4096 for chunk in chunks)
    assert "\n".join(chunks) == text
    assert all(chunk.splitlines()[0] in lines for chunk in chunks)


def test_split_text_wraps_an_overlong_line_counting_emoji_as_two_units() -> None:
    text = "👍" * 3000
    chunks = split_text(text, 4096)
    assert [utf16_length(chunk) for chunk in chunks] == [4096, 1904]
    assert "".join(chunks) == text
    assert split_text(" \n\n ") == []


def ticket(seq: int, chat: str, *, urgent: bool = False, group: bool = True) -> SendTicket:
    return SendTicket(0 if urgent else 1, seq, chat, group)


def drain(schedule: SendSchedule, now: float) -> tuple[list[int], float | None]:
    """Release everything allowed at `now`; the seqs released and the next wake-up time."""
    released: list[int] = []
    while True:
        granted, wake_at = schedule.release(now)
        if granted is None:
            return released, wake_at
        released.append(granted.seq)


def test_schedule_allows_twenty_per_group_per_minute_and_serves_other_groups_meanwhile() -> None:
    schedule = SendSchedule(per_group_per_minute=20, overall_per_second=1000)
    for seq in range(21):
        schedule.add(ticket(seq, "g1"))
    schedule.add(ticket(99, "g2"))
    released: list[int] = []
    now: float | None = 0.0
    while len(released) < 21 and now is not None:
        got, now = drain(schedule, now)
        released += got
    assert released == [*range(20), 99]
    assert now is not None
    got, window_slid_at = drain(schedule, now)
    assert got == []
    assert window_slid_at is not None
    assert window_slid_at >= 60.0  # the 21st send to g1 waits for the minute to pass
    assert drain(schedule, window_slid_at) == ([20], None)


def test_schedule_spaces_sends_overall_and_serves_urgent_first() -> None:
    schedule = SendSchedule(per_group_per_minute=20, overall_per_second=25)
    schedule.add(ticket(1, "a"))
    schedule.add(ticket(2, "b"))
    schedule.add(ticket(3, "c", urgent=True))
    assert drain(schedule, 0.0) == ([3], 0.04)
    assert drain(schedule, 0.02) == ([], 0.04)
    assert drain(schedule, 0.04)[0] == [1]
    assert drain(schedule, 0.08)[0] == [2]


def test_schedule_keeps_one_second_between_messages_in_a_private_chat() -> None:
    schedule = SendSchedule(per_group_per_minute=20, overall_per_second=25)
    schedule.add(ticket(1, "u1", group=False))
    schedule.add(ticket(2, "u1", group=False))
    assert drain(schedule, 0.0) == ([1], 0.04)
    assert drain(schedule, 0.5) == ([], 1.0)
    assert drain(schedule, 1.0) == ([2], None)


async def test_pacer_lets_an_urgent_send_jump_the_queue() -> None:
    pacer = Pacer(SendSchedule(per_group_per_minute=20, overall_per_second=50))
    order: list[str] = []

    async def send(name: str, *, urgent: bool) -> None:
        await pacer.turn(name, is_group=True, urgent=urgent)
        order.append(name)

    async with asyncio.TaskGroup() as tasks:
        for name in ("first", "second", "third"):
            tasks.create_task(send(name, urgent=False))
        await asyncio.sleep(0)  # all three queued; "first" already has its turn
        tasks.create_task(send("alarm", urgent=True))
    assert order == ["first", "alarm", "second", "third"]


# ------------------------------------------------------------------ fake Bot API fidelity


async def test_method_results_of_the_fake_parse_cleanly_in_ptb(fake: FakeTelegram) -> None:
    bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:
        photo_id = fake.send_photo_from(GROUP, RESIDENT, "随手拍")
        sent = await bot.send_message(GROUP, "已受理", reply_markup=None)
        edited = await bot.edit_message_text("已受理 #1024", chat_id=GROUP, message_id=sent.id)
        results: list[object] = [
            await bot.get_me(),
            await bot.get_chat(GROUP),
            await bot.get_chat(RESIDENT),
            await bot.get_chat_member(GROUP, SECRETARY),
            await bot.get_chat_member(GROUP, RESIDENT),
            await bot.get_chat_member(GROUP, ME.user_id),
            await bot.get_file(photo_id),
            await bot.get_webhook_info(),
            await bot.send_photo(GROUP, photo_id, caption="照片"),
            sent,
            edited,
        ]
        file = await bot.get_file(photo_id)
        content = await file.download_as_bytearray()
    for result in results:
        assert unknown_fields(result) == [], result
    assert content.startswith(b"\xff\xd8")
    assert [call.status for call in fake.calls] == [200] * len(fake.calls)


# ------------------------------------------------------------------ adapter: incoming


async def test_group_messages_reach_the_sink_normalised(fake: FakeTelegram) -> None:
    async with running(fake) as (_, sink):
        fake.say(GROUP, RESIDENT, "/help@LinliTestBot")
        fake.say(GROUP, RESIDENT, "@LinliTestBot 5栋电梯坏了")
        fake.say(GROUP, RESIDENT, "/start@OtherHelperBot")
        fake.say(GROUP, RESIDENT, "工单 1024")
        await sink.wait_for(3)
        await fake.wait_until_confirmed()
    help_, repair, alias = sink.messages
    assert (help_.text, help_.mentions_bot, help_.message_id) == ("/help", True, "1")
    assert (repair.text, repair.mentions_bot) == ("5栋电梯坏了", True)
    assert (alias.text, alias.mentions_bot, alias.message_id) == ("工单 1024", False, "4")
    assert repair.chat == ChatRef(Platform.TELEGRAM, str(GROUP), is_group=True)
    assert repair.sender == UserRef(Platform.TELEGRAM, str(RESIDENT), "王阿姨")
    assert repair.sent_at.tzinfo is not None


async def test_edit_keeps_the_message_id_and_carries_the_edit_time(fake: FakeTelegram) -> None:
    async with running(fake) as (_, sink):
        first = fake.say(GROUP, RESIDENT, "3栋楼道灯坏了")
        fake.edit(GROUP, first, "3栋2单元楼道灯坏了")
        original, edit = await sink.wait_for(2)
    assert isinstance(original, IncomingMessage)
    assert isinstance(edit, IncomingMessage)
    assert (edit.message_id, edit.is_edit, edit.text) == (str(first), True, "3栋2单元楼道灯坏了")
    assert original.is_edit is False
    assert edit.sent_at == datetime.fromtimestamp(
        int(str(fake.message(GROUP, first)["edit_date"])), UTC
    )


async def test_reply_to_the_bot_counts_as_addressing_it(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, sink):
        await adapter.send(outgoing("请问是哪一栋？"))
        fake.say(GROUP, RESIDENT, "5栋", reply_to=fake.sent[0].message_id)
        (reply,) = await sink.wait_for(1)
    assert isinstance(reply, IncomingMessage)
    assert (reply.mentions_bot, reply.reply_to_id) == (True, str(fake.sent[0].message_id))


async def test_button_press_is_answered_and_becomes_a_button_message(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, sink):
        buttons = (Button("满意", "rate:1024:5"), Button("不满意", "rate:1024:1"))
        await adapter.send(outgoing("工单 #1024 已办结，请评价", buttons=buttons))
        ballot = fake.sent[0]
        assert ballot.buttons == (("满意", "rate:1024:5"), ("不满意", "rate:1024:1"))
        sink.answer = "已收到您的评价"
        query_id = fake.press_button(ballot, SECRETARY, "不满意")
        (press,) = await sink.wait_for(1)
        await fake.wait_for(lambda: bool(fake.answered_callbacks), within=5, what="the answer")
    assert fake.answered_callbacks == [query_id]
    assert fake.callback_answers[query_id] == "已收到您的评价"  # a pop-up for the presser
    assert isinstance(press, IncomingMessage)
    assert press == IncomingMessage(
        message_id=f"cb:{query_id}",
        chat=ChatRef(Platform.TELEGRAM, str(GROUP)),
        sender=UserRef(Platform.TELEGRAM, str(SECRETARY), "李书记"),
        text="rate:1024:1",
        sent_at=press.sent_at,
        reply_to_id=str(ballot.message_id),
        is_button=True,
        answer_inline=True,
    )


async def test_migration_and_kick_become_platform_events(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, sink):
        fake.migrate(GROUP, -1002999, SECRETARY)
        fake.kick_bot(SUPERGROUP, SECRETARY)
        migrated, removed = await sink.wait_for(2)
        await fake.wait_until_confirmed()
        with pytest.raises(DeliveryError) as kicked:
            await adapter.send(outgoing("通知", ChatRef(Platform.TELEGRAM, str(SUPERGROUP))))
        # The kick seen on send is announced once more, in order with the updates.
        await sink.wait_for(3)
    assert migrated == ChatMigrated(Platform.TELEGRAM, str(GROUP), "-1002999")
    assert removed == BotRemoved(ChatRef(Platform.TELEGRAM, str(SUPERGROUP)))
    assert kicked.value.permanent is True
    assert "kicked" in str(kicked.value)
    assert sink.events[2] == removed


async def test_restart_redelivers_with_the_same_message_ids(fake: FakeTelegram) -> None:
    async with running(fake) as (_, sink):
        fake.say(GROUP, RESIDENT, "2栋门禁坏了")
        fake.say(GROUP, RESIDENT, "谢谢")
        before = await sink.wait_for(2)
    fake.redeliver_last(2)
    async with running(fake) as (_, sink_after_restart):
        after = await sink_after_restart.wait_for(2)
    assert after == before


async def test_an_update_not_yet_stored_is_not_confirmed_and_comes_again(
    fake: FakeTelegram,
) -> None:
    stuck = asyncio.Event()

    class StuckSink(RecordingSink):
        """The pipeline never gets to commit (the process is about to die)."""

        async def __call__(self, event: IncomingMessage | PlatformEvent) -> str | None:
            await super().__call__(event)
            stuck.set()
            await asyncio.Event().wait()
            return None

    adapter = TelegramAdapter(fake.token, TelegramOptions(), api_base=fake.base_url)
    task = asyncio.create_task(adapter.run(StuckSink()))
    fake.say(GROUP, RESIDENT, "2栋门禁坏了")
    async with asyncio.timeout(5):
        await stuck.wait()
    calls = len(fake.calls_of("getUpdates"))
    await asyncio.sleep(0.3)  # PTB's Updater would have asked for (and confirmed) more by now
    assert len(fake.calls_of("getUpdates")) == calls
    assert len(fake.pending_updates) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with running(fake) as (_, sink_after_restart):
        (again,) = await sink_after_restart.wait_for(1)
        await fake.wait_until_confirmed()
    assert isinstance(again, IncomingMessage) and again.text == "2栋门禁坏了"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_update_whose_commit_failed_comes_again(fake: FakeTelegram, mode: str) -> None:
    sink = FailsOnce()
    options = _webhook_options() if mode == "webhook" else TelegramOptions()
    adapter = TelegramAdapter(fake.token, options, api_base=fake.base_url)
    task = asyncio.create_task(adapter.run(sink))
    try:
        fake.say(GROUP, RESIDENT, "2栋门禁坏了")
        # Polling fetches it again; the webhook answered 500, so Telegram sent it again.
        (stored,) = await sink.wait_for(1)
        await fake.wait_until_confirmed()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sink.calls == 2
    assert isinstance(stored, IncomingMessage) and stored.text == "2栋门禁坏了"
    assert fake.webhook_failures == (1 if mode == "webhook" else 0)


async def test_polling_survives_a_failed_start_and_reports_a_revoked_token(
    fake: FakeTelegram,
) -> None:
    fake.fail_next("deleteWebhook", ApiError(502, "Bad Gateway"))
    async with running(fake) as (_, sink):
        fake.say(GROUP, RESIDENT, "早上好")
        await sink.wait_for(1)  # polling started after the failed deleteWebhook
        fake.fail_next("getUpdates", ApiError(401, "Unauthorized"))
        (_, down) = await sink.wait_for(2)
    assert down == PlatformDown(Platform.TELEGRAM, "the bot token was rejected")


# ------------------------------------------------------------------ adapter: outgoing


async def test_long_text_is_split_with_reply_first_and_keyboard_last(fake: FakeTelegram) -> None:
    text = "\n".join(f"第{n}条：请居民注意用电安全，不要私拉电线。" for n in range(300))
    async with running(fake) as (adapter, _):
        first = fake.say(GROUP, RESIDENT, "有什么通知？")
        await fake.wait_until_confirmed()
        await adapter.send(
            outgoing(text, reply_to_id=str(first), buttons=(Button("收到", "ack:1"),))
        )
    assert len(fake.sent) > 1
    assert "\n".join(message.body for message in fake.sent) == text
    assert [m.reply_to_message_id for m in fake.sent] == [first] + [None] * (len(fake.sent) - 1)
    assert [bool(m.buttons) for m in fake.sent] == [False] * (len(fake.sent) - 1) + [True]


async def test_a_long_text_cut_off_midway_is_resumed_not_repeated(fake: FakeTelegram) -> None:
    text = "\n".join(f"第{n}条：请居民注意用电安全，不要私拉电线。" for n in range(300))
    async with running(fake) as (adapter, _):
        fake.fail_next("sendMessage", ApiError(502, "Bad Gateway"), after=1)
        with pytest.raises(DeliveryError) as failed:
            await adapter.send(outgoing(text))
        assert (failed.value.parts_sent, failed.value.permanent) == (1, False)
        await adapter.send(replace(outgoing(text), parts_sent=failed.value.parts_sent))
    assert len(fake.sent) == len(split_text(text)) > 1  # each part once
    assert "\n".join(message.body for message in fake.sent) == text


async def test_images_go_as_photos_with_caption(fake: FakeTelegram, tmp_path: Path) -> None:
    picture = tmp_path / "notice.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 a real enough jpeg")
    resident_photo = fake.send_photo_from(GROUP, RESIDENT)
    async with running(fake) as (adapter, _):
        await adapter.send(outgoing("停水通知", image=str(picture)))
        await adapter.send(outgoing("转发", image=f"telegram:{resident_photo}"))
        await adapter.send(outgoing("说明" * 600, image=str(picture)))
    uploaded, forwarded, photo_alone, long_text = fake.sent
    assert (uploaded.method, uploaded.caption) == ("sendPhoto", "停水通知")
    assert uploaded.photo_file_id is not None
    assert (forwarded.photo_file_id, forwarded.caption) == (resident_photo, "转发")
    assert (photo_alone.method, photo_alone.caption) == ("sendPhoto", None)
    assert long_text.text == "说明" * 600


async def test_missing_image_file_is_a_permanent_failure(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, _):
        with pytest.raises(DeliveryError) as missing:
            await adapter.send(outgoing("照片", image="/nonexistent/photo.jpg"))
    assert missing.value.permanent is True
    assert fake.sent == []


async def test_send_to_an_upgraded_group_follows_the_migration(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, sink):
        fake.chats[GROUP].migrated_to = SUPERGROUP
        await adapter.send(outgoing("明天上午停电"))
        (moved,) = await sink.wait_for(1)
    assert moved == ChatMigrated(Platform.TELEGRAM, str(GROUP), str(SUPERGROUP))
    assert [(m.chat_id, m.text) for m in fake.sent] == [(SUPERGROUP, "明天上午停电")]


async def test_retry_after_is_honoured(fake: FakeTelegram) -> None:
    async with running(fake) as (adapter, _):
        fake.inject_flood("sendMessage", retry_after=1)
        await adapter.send(outgoing("电梯已修好"))
    assert [m.text for m in fake.sent] == ["电梯已修好"]
    assert fake.too_many_requests == 1
    assert fake.premature_retries == 0  # nothing was sent again before retry_after passed


async def test_a_blocked_user_and_bad_requests_are_permanent_network_trouble_not(
    fake: FakeTelegram,
) -> None:
    private = ChatRef(Platform.TELEGRAM, str(RESIDENT), is_group=False)
    async with running(fake) as (adapter, sink):
        fake.block_bot(RESIDENT)
        with pytest.raises(DeliveryError) as blocked:
            await adapter.send(outgoing("您的工单已受理", private))
        fake.fail_next("sendMessage", ApiError(502, "Bad Gateway"))
        with pytest.raises(DeliveryError) as gateway:
            await adapter.send(outgoing("通知"))
        with pytest.raises(DeliveryError) as unknown_chat:
            await adapter.send(outgoing("通知", ChatRef(Platform.TELEGRAM, "-777")))
    assert (blocked.value.permanent, gateway.value.permanent) == (True, False)
    assert unknown_chat.value.permanent is True
    assert sink.events == []  # a private block is not a group removal


class LogWatch(logging.Handler):
    """Sets `seen` once a record containing `needle` is logged."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle, self.seen = needle, asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


async def test_a_bot_api_server_that_starts_later_is_waited_for() -> None:
    port = free_port()
    late = FakeTelegram(port=port)
    sink = RecordingSink()
    adapter = TelegramAdapter(late.token, api_base=f"http://127.0.0.1:{port}/bot")
    watch = LogWatch("Bot API not reachable")
    adapter_logger = logging.getLogger("bot.adapters.telegram")
    adapter_logger.addHandler(watch)
    task = asyncio.create_task(adapter.run(sink))
    try:
        async with asyncio.timeout(5):
            await watch.seen.wait()
    finally:
        adapter_logger.removeHandler(watch)
    async with late:
        populate(late)
        late.say(GROUP, RESIDENT, "到了吗")
        try:
            (arrived,) = await sink.wait_for(1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert isinstance(arrived, IncomingMessage)
    assert arrived.text == "到了吗"


async def test_send_before_connecting_is_a_temporary_failure() -> None:
    adapter = TelegramAdapter("1:unused", TelegramOptions(connect_wait_seconds=0.01))
    with pytest.raises(DeliveryError) as early:
        await adapter.send(outgoing("你好"))
    assert early.value.permanent is False


# ------------------------------------------------------------------ token safety


async def test_the_token_never_reaches_a_log_line_or_an_error(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    async with running(fake) as (adapter, sink):
        fake.say(GROUP, RESIDENT, "/help@LinliTestBot")
        await sink.wait_for(1)
        fake.inject_flood("sendMessage", retry_after=1)
        await adapter.send(outgoing("帮助"))
        fake.kick_bot(GROUP, SECRETARY)
        await sink.wait_for(2)
        fake.fail_next("sendMessage", ApiError(401, "Unauthorized"))
        for chat in (GROUP, -777):
            with pytest.raises(DeliveryError) as failed:
                await adapter.send(outgoing("再见", ChatRef(Platform.TELEGRAM, str(chat))))
            errors.append(str(failed.value))
    wrong_token = fake.token.replace("AAF", "XXF")
    async with running(fake, token=wrong_token) as (_, rejected_sink):
        assert await rejected_sink.wait_for(1) == [
            PlatformDown(Platform.TELEGRAM, "the bot token was rejected")
        ]
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert len(caplog.records) > 20
    secret_parts = (fake.token, fake.token.split(":")[1], wrong_token.split(":")[1])
    for record in caplog.records:
        shown = caplog.handler.format(record)
        assert not any(part in shown for part in secret_parts), shown
    assert not any(part in error for error in errors for part in secret_parts)


# ------------------------------------------------------------------ webhook mode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(fake: FakeTelegram) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    options = TelegramOptions(
        mode="webhook",
        webhook_url=url,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-for-tests",
    )
    async with running(fake, options) as (_, sink):
        await fake.wait_for(lambda: bool(fake.webhook_url), what="setWebhook")
        assert (fake.webhook_url, fake.webhook_secret) == (url, "s3cret-for-tests")
        fake.say(GROUP, RESIDENT, "@LinliTestBot 地下车库漏水")
        (delivered,) = await sink.wait_for(1)
        forged = {
            "update_id": 1,
            "message": {**fake.message(GROUP, 1), "message_id": 99, "text": "伪造"},
        }
        statuses = []
        async with ClientSession() as client:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
                async with client.post(url, json=forged, headers=headers) as response:
                    statuses.append(response.status)
        fake.say(GROUP, RESIDENT, "谢谢")
        await sink.wait_for(2)
    assert isinstance(delivered, IncomingMessage)
    assert delivered.text == "地下车库漏水"
    assert statuses == [403, 403]
    assert [m.text for m in sink.messages] == ["地下车库漏水", "谢谢"]
    assert fake.calls_of("getUpdates") == []


@pytest.mark.parametrize("failing", ["the commit", "the adapter"])
async def test_a_webhook_update_that_never_stores_is_given_up_after_some_tries(
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    class AlwaysFails(RecordingSink):
        async def __call__(self, event: IncomingMessage | PlatformEvent) -> str | None:
            raise RuntimeError("database is locked")

    def unreadable(*args: object) -> None:
        raise ValueError("an update no version of Linli understands")

    sink = AlwaysFails() if failing == "the commit" else RecordingSink()
    if failing == "the adapter":
        monkeypatch.setattr("bot.adapters.telegram.translate_update", unreadable)
    adapter = TelegramAdapter(fake.token, _webhook_options(), api_base=fake.base_url)
    task = asyncio.create_task(adapter.run(sink))
    try:
        await fake.wait_for(lambda: bool(fake.webhook_url), what="setWebhook")
        fake.say(GROUP, RESIDENT, "2栋门禁坏了")
        await fake.wait_until_confirmed()  # Telegram stops sending it once answered 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert fake.webhook_failures == MAX_UPDATE_FAILURES - 1
    assert "giving up on update" in caplog.text
