"""The WeChat adapter against the fake puppet service, and its pure parts on their own."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from bot.adapters.base import DeliveryError
from bot.adapters.wechat import WechatAdapter
from bot.adapters.wechat_messages import (
    MessageKind,
    RawMessage,
    RecentMessages,
    parse_quote,
    strip_mentions,
    to_incoming,
)
from bot.adapters.wechat_options import WechatOptions
from bot.adapters.wechat_pacing import (
    DailyCapReached,
    PacingPolicy,
    SendPacer,
    split_text,
    with_numbered_choices,
)
from bot.events import (
    BotRemoved,
    Button,
    ChatRef,
    IncomingMessage,
    MemberJoined,
    OutgoingMessage,
    Platform,
    PlatformDown,
    UserRef,
)

from .fake_puppet import FakePuppetService, SentFile, SentText

ROOM = "20873104526@chatroom"
OTHER_ROOM = "20873104527@chatroom"
BOT = "wxid_linli_bot"
BOT_NAME = "邻里小助手"
RESIDENT = "wxid_wang_ayi"
NEWCOMER = "wxid_li_new"
Event = IncomingMessage | BotRemoved | MemberJoined | PlatformDown


class RecordingSink:
    """Keeps what the adapter passes on, and lets a test wait for it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: object) -> None:
        assert isinstance(event, IncomingMessage | BotRemoved | MemberJoined | PlatformDown)
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    @property
    def messages(self) -> list[IncomingMessage]:
        return [e for e in self.events if isinstance(e, IncomingMessage)]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)

    async def next_message(self, count: int, within: float = 5.0) -> IncomingMessage:
        """Wait for the `count`-th message and return it."""
        await self.wait_for(lambda: len(self.messages) >= count, within)
        return self.messages[count - 1]


class LogWaiter(logging.Handler):
    """Counts log records that contain a fragment, and lets a test wait for them."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment, self.count = fragment, 0
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.fragment in record.getMessage():
            self.count += 1
            self._changed.set()

    async def wait_for(self, count: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self.count < count:
                self._changed.clear()
                await self._changed.wait()


class FakePacingClock:
    """Virtual time for the pacer: sleeping moves the clock instead of waiting."""

    def __init__(self, start: datetime = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)) -> None:
        self._start, self.elapsed = start, 0.0

    def monotonic(self) -> float:
        return self.elapsed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.elapsed += max(seconds, 0.0)


def fast_options(fake: FakePuppetService, data_dir: Path, **changes: object) -> WechatOptions:
    """Options with timings small enough for tests; no pacing unless a test asks for it."""
    options = WechatOptions(
        endpoint=fake.endpoint,
        token=fake.token,
        data_dir=data_dir,
        min_interval_per_room_seconds=0.001,
        min_interval_overall_seconds=0.001,
        jitter_seconds=0.0,
        watchdog_seconds=5.0,
        reconnect_initial_backoff_seconds=0.02,
        reconnect_max_backoff_seconds=0.2,
        shutdown_timeout_seconds=1.0,
        random_seed=7,
    )
    return replace(options, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakePuppetService]:
    async with FakePuppetService(self_id=BOT, self_name=BOT_NAME) as service:
        service.add_contact(RESIDENT, "王阿姨")
        service.add_contact(NEWCOMER, "李新")
        service.add_room(ROOM, "桃源5幢1单元楼道群", [RESIDENT], aliases={RESIDENT: "5-1-302 王"})
        service.add_room(OTHER_ROOM, "桃源5幢2单元楼道群", [RESIDENT])
        await service.login()
        yield service


@asynccontextmanager
async def running(adapter: WechatAdapter, fake: FakePuppetService) -> AsyncIterator[RecordingSink]:
    """Run the adapter until it is logged in; stop it (and check it stops quickly) on exit."""
    sink = RecordingSink()
    task = asyncio.create_task(adapter.run(sink))
    try:
        await fake.wait_until(lambda: "RoomList" in fake.calls or task.done())
        yield sink
    finally:
        task.cancel()
        async with asyncio.timeout(3):
            await asyncio.gather(task, return_exceptions=True)
    if not task.cancelled() and task.exception() is not None:
        raise AssertionError("the adapter failed") from task.exception()


@asynccontextmanager
async def connected(
    fake: FakePuppetService, data_dir: Path, **changes: object
) -> AsyncIterator[tuple[WechatAdapter, RecordingSink]]:
    adapter = WechatAdapter(fast_options(fake, data_dir, **changes))
    async with running(adapter, fake) as sink:
        yield adapter, sink


def outgoing(text: str, chat_id: str = ROOM, **fields: object) -> OutgoingMessage:
    return OutgoingMessage(1, ChatRef(Platform.WECHAT, chat_id), text, **fields)  # type: ignore[arg-type]


# -- receiving ---------------------------------------------------------------------------------


async def test_a_room_message_arrives_with_its_ids_and_the_group_nickname(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        sent = await fake.say(ROOM, RESIDENT, "5幢1单元楼道灯坏了")
        message = await sink.next_message(1)
    assert message.message_id == sent
    assert message.chat == ChatRef(Platform.WECHAT, ROOM, is_group=True)
    assert message.sender == UserRef(Platform.WECHAT, RESIDENT, "5-1-302 王")
    assert message.text == "5幢1单元楼道灯坏了"
    assert message.sent_at == datetime.fromtimestamp(fake.messages[sent].timestamp, UTC)
    assert not message.mentions_bot


async def test_a_private_message_is_a_private_chat_with_the_sender(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        await fake.say("", RESIDENT, "/工单")
        message = await sink.next_message(1)
    assert message.chat == ChatRef(Platform.WECHAT, RESIDENT, is_group=False)
    assert message.sender.name == "王阿姨"


async def test_a_mention_is_detected_and_stripped(fake: FakePuppetService, tmp_path: Path) -> None:
    fake.rooms[ROOM].aliases[BOT] = "楼道小助手"
    async with connected(fake, tmp_path) as (_, sink):
        await fake.say(ROOM, RESIDENT, f"@{BOT_NAME}\u2005电梯又停了", mention_ids=[BOT])
        # Some puppets leave mention ids out: the group nickname followed by U+2005 is enough.
        await fake.say(ROOM, RESIDENT, "@楼道小助手\u2005/工单 1001")
        await fake.say(ROOM, RESIDENT, "@王阿姨\u2005谢谢", mention_ids=[RESIDENT])
        first, second, third = [await sink.next_message(n) for n in (1, 2, 3)]
    assert (first.text, first.mentions_bot) == ("电梯又停了", True)
    assert (second.text, second.mentions_bot) == ("/工单 1001", True)
    assert (third.text, third.mentions_bot) == ("@王阿姨\u2005谢谢", False)


async def test_a_quoted_reply_names_the_message_it_quotes(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        original = await fake.say(ROOM, RESIDENT, "3楼水管漏水了")
        quote = "「5-1-302 王：3楼水管漏水了」\n- - - - - - - - - - - - - - -\n现在更严重了"
        await fake.say(ROOM, NEWCOMER, quote)
        reply = await sink.next_message(2)
    assert reply.text == "现在更严重了"
    assert reply.reply_to_id == original


async def test_own_messages_never_reach_the_sink(fake: FakePuppetService, tmp_path: Path) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        await fake.say(ROOM, BOT, "已为您登记，工单号 1001")
        last = await fake.say(ROOM, RESIDENT, "谢谢")
        await sink.next_message(1)
        await fake.wait_until(lambda: fake.events_delivered >= 2)
    assert [m.message_id for m in sink.messages] == [last]


async def test_a_picture_arrives_as_a_saved_file(fake: FakePuppetService, tmp_path: Path) -> None:
    photo = b"\xff\xd8\xff\xe0 a photo of rubbish by building 5"
    async with connected(fake, tmp_path) as (_, sink):
        sent = await fake.send_image(ROOM, RESIDENT, photo, filename="IMG_0001.JPG")
        message = await sink.next_message(1)
    assert message.message_id == sent
    assert message.image is not None
    path = Path(message.image)
    assert path.is_relative_to(tmp_path / "images")
    assert path.suffix == ".jpg"
    assert await asyncio.to_thread(path.read_bytes) == photo


async def test_room_join_becomes_member_joined(fake: FakePuppetService, tmp_path: Path) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        await fake.join(ROOM, [NEWCOMER], RESIDENT)
        await sink.wait_for(lambda: any(isinstance(e, MemberJoined) for e in sink.events))
    (joined,) = [e for e in sink.events if isinstance(e, MemberJoined)]
    assert joined.chat == ChatRef(Platform.WECHAT, ROOM)
    assert joined.member == UserRef(Platform.WECHAT, NEWCOMER, "李新")
    assert joined.event_id.startswith(f"room-join:{ROOM}:{NEWCOMER}:")


async def test_a_replayed_message_is_passed_on_with_the_same_id(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        sent = await fake.say(ROOM, RESIDENT, "电梯困人了！")
        await fake.replay(sent)
        await sink.next_message(2)
    # The database deduplicates on (platform, chat, message id): the id must not change.
    assert [m.message_id for m in sink.messages] == [sent, sent]


async def test_removal_from_a_room_is_reported_and_blocks_sending(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (adapter, sink):
        await fake.leave(ROOM, [BOT], RESIDENT)
        await sink.wait_for(lambda: bool(sink.events))
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(outgoing("还在吗"))
    assert sink.events == [BotRemoved(ChatRef(Platform.WECHAT, ROOM))]
    assert raised.value.permanent
    assert fake.sent == []


async def test_logout_reports_platform_down_with_a_clear_log_line(
    fake: FakePuppetService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected(fake, tmp_path) as (adapter, sink):
        await fake.logout("在手机上退出了登录")
        await sink.wait_for(lambda: bool(sink.events))
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(outgoing("通知"))
    assert sink.events == [PlatformDown(Platform.WECHAT, "logged out: 在手机上退出了登录")]
    assert not raised.value.permanent
    assert any(
        r.levelno == logging.ERROR and "logged out" in r.getMessage() for r in caplog.records
    )


# -- staying up --------------------------------------------------------------------------------


async def test_a_dropped_stream_is_reconnected_and_no_message_is_lost(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    async with connected(fake, tmp_path) as (_, sink):
        first = await fake.say(ROOM, RESIDENT, "第一条")
        await sink.next_message(1)
        await fake.drop_stream()
        # Written while the bot is disconnected: the service keeps them for the next stream.
        second = await fake.say(ROOM, RESIDENT, "第二条")
        third = await fake.say(OTHER_ROOM, RESIDENT, "第三条")
        await sink.next_message(3)
    assert [m.message_id for m in sink.messages] == [first, second, third]
    assert fake.event_streams_opened == 2


async def test_the_watchdog_restarts_a_silent_connection(
    fake: FakePuppetService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected(fake, tmp_path, watchdog_seconds=0.3) as (_, sink):
        await fake.heartbeat()
        await fake.wait_until(lambda: fake.events_delivered >= 1)
        await fake.silence_stream()
        sent = await fake.say(ROOM, RESIDENT, "有人吗")
        message = await sink.next_message(1, within=5)
    assert message.message_id == sent
    assert fake.event_streams_opened == 2
    assert "no event for 0.3 s" in caplog.text


async def test_heartbeats_keep_a_quiet_connection_open(tmp_path: Path) -> None:
    async with FakePuppetService(heartbeat_seconds=0.05) as fake:
        await fake.login()
        async with connected(fake, tmp_path, watchdog_seconds=0.4):
            # Ten heartbeats span two watchdog periods; none of them may restart the stream.
            await fake.wait_until(lambda: fake.events_delivered >= 10)
        assert fake.event_streams_opened == 1


async def test_an_unreachable_service_is_retried_until_it_answers(tmp_path: Path) -> None:
    probe = FakePuppetService()
    await probe.start()
    await probe.close()  # nothing listens on its port any more
    retries = LogWaiter("reconnecting in")
    wechat_logger = logging.getLogger("bot.adapters.wechat_connection")
    wechat_logger.addHandler(retries)
    service = FakePuppetService(self_id=BOT, self_name=BOT_NAME)
    sink = RecordingSink()
    task = asyncio.create_task(WechatAdapter(fast_options(probe, tmp_path)).run(sink))
    try:
        await retries.wait_for(3)
        await service.start(port=probe.port)
        service.add_contact(RESIDENT, "王阿姨")
        service.add_room(ROOM, "桃源5幢1单元楼道群", [RESIDENT])
        await service.login()
        sent = await service.say(ROOM, RESIDENT, "终于连上了")
        message = await sink.next_message(1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await service.close()
        wechat_logger.removeHandler(retries)
    assert message.message_id == sent


async def test_shutdown_is_quick_and_tells_the_service(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    adapter = WechatAdapter(fast_options(fake, tmp_path))
    task = asyncio.create_task(adapter.run(RecordingSink()))
    await fake.wait_until(lambda: "RoomList" in fake.calls)
    task.cancel()
    async with asyncio.timeout(2):
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert fake.calls[-1] == "Stop"


async def test_the_cache_lives_under_the_data_folder_and_the_token_stays_out_of_logs(
    fake: FakePuppetService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    working_directory = tmp_path / "cwd"
    working_directory.mkdir()
    monkeypatch.chdir(working_directory)
    caplog.set_level(logging.DEBUG)
    async with connected(fake, tmp_path / "data"):
        pass
    # python-wechaty fixes its scheduler database path when first imported.
    job_store = str(sys.modules["wechaty.schema"].WechatySchedulerOptions.job_store)
    assert job_store.endswith(f"{os.sep}wechaty{os.sep}job.db")
    assert ".wechaty" not in job_store
    assert list(working_directory.iterdir()) == []
    assert fake.token not in caplog.text
    assert "token<***>" in caplog.text


# -- sending -----------------------------------------------------------------------------------


async def test_a_text_reaches_the_service(fake: FakePuppetService, tmp_path: Path) -> None:
    async with connected(fake, tmp_path) as (adapter, _):
        await adapter.send(outgoing("已收到，工单号 1001"))
    assert fake.sent == [SentText(ROOM, "已收到，工单号 1001", (), fake.sent[0].message_id)]


async def test_long_texts_are_split_on_line_boundaries(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    lines = [f"{n}. 5幢1单元楼道灯已修好" for n in range(1, 301)]
    async with connected(fake, tmp_path, text_limit=2000) as (adapter, _):
        await adapter.send(outgoing("\n".join(lines)))
    pieces = fake.texts_to(ROOM)
    assert len(pieces) > 1
    assert all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines


async def test_a_picture_and_text_cut_off_midway_are_resumed_not_repeated(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    picture = tmp_path / "notice.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 a picture")
    lines = [f"{n}. 5幢1单元楼道灯已修好" for n in range(1, 301)]
    message = outgoing("\n".join(lines), image=str(picture))
    async with connected(fake, tmp_path, text_limit=2000) as (adapter, _):
        fake.fail_send(GRPCError(Status.UNAVAILABLE, "busy"), after=2)  # picture, first piece
        with pytest.raises(DeliveryError) as failed:
            await adapter.send(message)
        assert (failed.value.parts_sent, failed.value.permanent) == (2, False)
        await adapter.send(replace(message, parts_sent=failed.value.parts_sent))
    assert [type(sent) for sent in fake.sent[:2]] == [SentFile, SentText]
    assert len([sent for sent in fake.sent if isinstance(sent, SentFile)]) == 1
    assert "\n".join(fake.texts_to(ROOM)).split("\n") == lines


async def test_a_room_reply_mentions_whom_it_answers_and_a_retry_resumes_it_exactly(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    lines = [f"{n}. 5幢1单元楼道灯已修好" for n in range(1, 301)]
    message = outgoing("\n".join(lines), reply_to_user_id=RESIDENT)
    async with connected(fake, tmp_path, text_limit=2000) as (adapter, _):
        fake.fail_send(GRPCError(Status.UNAVAILABLE, "busy"), after=1)  # the first piece only
        with pytest.raises(DeliveryError) as failed:
            await adapter.send(message)
        assert failed.value.parts_sent == 1
        await adapter.send(replace(message, parts_sent=1))
    texts = [sent for sent in fake.sent if isinstance(sent, SentText)]
    mention = "@5-1-302 王\u2005"  # the group nickname, as WeChat writes a mention
    assert texts[0].text.startswith(mention) and texts[0].mention_ids == (RESIDENT,)
    assert [sent.mention_ids for sent in texts[1:]] == [()] * (len(texts) - 1)
    assert all(len(sent.text) <= 2000 for sent in texts)
    body = "\n".join(sent.text for sent in texts).removeprefix(mention)
    assert body.split("\n") == lines


async def test_a_room_reply_while_disconnected_is_a_failure_to_retry(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    adapter = WechatAdapter(fast_options(fake, tmp_path))
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(outgoing("已收到，工单号 1001", reply_to_user_id=RESIDENT))
    assert not failed.value.permanent


async def test_buttons_become_numbered_replies_and_a_number_presses_one(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    buttons = (Button("同意", "vote:7:yes"), Button("反对", "vote:7:no"))
    async with connected(fake, tmp_path) as (adapter, sink):
        await adapter.send(outgoing("是否同意更换电梯？", buttons=buttons))
        pressed = await fake.say(ROOM, RESIDENT, "2")
        other = await fake.say(OTHER_ROOM, RESIDENT, "2")
        await sink.next_message(2)
    assert fake.texts_to(ROOM) == ["是否同意更换电梯？\n回复 1 同意，回复 2 反对"]
    vote, elsewhere = sink.messages
    assert (vote.message_id, vote.text, vote.is_button) == (pressed, "vote:7:no", True)
    assert (elsewhere.message_id, elsewhere.text, elsewhere.is_button) == (other, "2", False)


async def test_a_number_answers_only_the_last_message_sent_to_the_chat(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    buttons = (Button("满意", "/评价 1001 1"), Button("不满意", "/评价 1001 3"))
    async with connected(fake, tmp_path) as (adapter, sink):
        await adapter.send(outgoing("请您评价处理结果：", RESIDENT, buttons=buttons))
        rated = await fake.say("", RESIDENT, "1")
        await sink.next_message(1)
        await adapter.send(
            outgoing("需要登记为【公共维修】吗？回复 1 确认，回复 2 改为其他类型。", RESIDENT)
        )
        confirmed = await fake.say("", RESIDENT, "1")
        await sink.next_message(2)
    rating, confirmation = sink.messages
    assert (rating.message_id, rating.text, rating.is_button) == (rated, "/评价 1001 1", True)
    assert (confirmation.message_id, confirmation.text) == (confirmed, "1")
    assert not confirmation.is_button


async def test_a_picture_is_sent_before_its_caption(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    picture = tmp_path / "chart.png"
    picture.write_bytes(b"\x89PNG a chart")
    async with connected(fake, tmp_path) as (adapter, _):
        await adapter.send(outgoing("本周统计", image=str(picture)))
    file, caption = fake.sent
    assert isinstance(file, SentFile)
    assert (file.name, file.data) == ("chart.png", b"\x89PNG a chart")
    assert isinstance(caption, SentText)
    assert caption.text == "本周统计"


async def test_pacing_holds_its_intervals_under_a_burst(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    clock = FakePacingClock()
    options = fast_options(
        fake,
        tmp_path,
        min_interval_per_room_seconds=3.0,
        min_interval_overall_seconds=1.5,
        jitter_seconds=2.0,
    )
    adapter = WechatAdapter(options, clock=clock)
    async with running(adapter, fake):
        burst = [outgoing(f"通知 {n}", ROOM if n % 2 else OTHER_ROOM) for n in range(1, 9)]
        sends = [asyncio.create_task(adapter.send(m)) for m in burst]
        await asyncio.sleep(0)
        alarm = asyncio.create_task(adapter.send(outgoing("燃气泄漏，请勿用火", urgent=True)))
        await asyncio.gather(*sends, alarm)
    grants = list(adapter.pacer.history)
    assert len(grants) == 9
    gaps = [b.at - a.at for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 1.5
    for room in (ROOM, OTHER_ROOM):
        times = [g.at for g in grants if g.room_id == room]
        assert min(b - a for a, b in itertools.pairwise(times)) >= 3.0
    # Jitter really varies the gaps, and the alarm went out in the very next slot.
    assert len({round(g, 6) for g in gaps}) > 1
    assert [g.urgent for g in grants].index(True) <= 1
    assert len(fake.sent) == 9


async def test_the_daily_cap_defers_ordinary_messages_but_not_alarms(
    fake: FakePuppetService, tmp_path: Path
) -> None:
    adapter = WechatAdapter(fast_options(fake, tmp_path, daily_cap=2), clock=FakePacingClock())
    async with running(adapter, fake):
        await adapter.send(outgoing("一"))
        await adapter.send(outgoing("二"))
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(outgoing("三"))
        await adapter.send(outgoing("燃气泄漏", urgent=True))
    assert not raised.value.permanent
    assert fake.texts_to(ROOM) == ["一", "二", "燃气泄漏"]


# -- pure parts ----------------------------------------------------------------------------------


def raw(text: str, **fields: object) -> RawMessage:
    values: dict[str, object] = {
        "message_id": "m1",
        "kind": MessageKind.TEXT,
        "text": text,
        "sender_id": RESIDENT,
        "sender_name": "王阿姨",
        "room_id": ROOM,
        "mention_ids": (),
        "timestamp": 1_764_550_800,
    }
    values.update(fields)
    return RawMessage(**values)  # type: ignore[arg-type]


NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_voice_message_has_no_text_and_says_it_is_voice() -> None:
    xml = '<msg><voicemsg endflag="1" length="9000" voicelength="6000" /></msg>'
    message = to_incoming(
        raw(xml, kind=MessageKind.VOICE), self_id=BOT, self_names=["邻里小助手"], received_at=NOW
    )
    assert message is not None and message.is_voice and message.text == ""


@pytest.mark.parametrize(
    ("text", "expected", "named"),
    [
        (f"@{BOT_NAME}\u2005电梯坏了", "电梯坏了", True),
        (f"电梯坏了@{BOT_NAME}", "电梯坏了", True),
        (f"@{BOT_NAME} 电梯坏了", "电梯坏了", True),
        (f"@{BOT_NAME}们\u2005你好", f"@{BOT_NAME}们\u2005你好", False),
        ("@王阿姨\u2005电梯坏了", "@王阿姨\u2005电梯坏了", False),
    ],
)
def test_strip_mentions(text: str, expected: str, named: bool) -> None:
    assert strip_mentions(text, [BOT_NAME, ""]) == (expected, named)


def test_parse_quote_reads_wechats_layout() -> None:
    quote = parse_quote("「王阿姨：电梯坏了」\n- - - - - - - - - - - - - - - -\n修好了吗")
    assert quote is not None
    assert (quote.author, quote.quoted, quote.reply) == ("王阿姨", "电梯坏了", "修好了吗")
    assert parse_quote("「这不是引用」") is None


def test_recent_messages_resolve_shortened_quotes() -> None:
    recent = RecentMessages(capacity=2)
    recent.remember(ROOM, "5幢1单元楼道灯坏了，晚上很黑，老人下楼不方便", "m1")
    assert recent.find(ROOM, "5幢1单元楼道灯坏了…") == "m1"
    assert recent.find(OTHER_ROOM, "5幢1单元楼道灯坏了…") is None
    recent.remember(ROOM, "二", "m2")
    recent.remember(ROOM, "三", "m3")
    assert recent.find(ROOM, "5幢1单元楼道灯坏了…") is None


def test_to_incoming_ignores_own_and_unknown_messages() -> None:
    def translate(message: RawMessage) -> IncomingMessage | None:
        return to_incoming(message, self_id=BOT, self_names=[BOT_NAME], received_at=NOW)

    assert translate(raw("hi", sender_id=BOT)) is None
    assert translate(raw("", kind=MessageKind.OTHER)) is None
    assert translate(raw("", kind=MessageKind.IMAGE)) is None
    message = translate(raw("hi", timestamp=0))
    assert message is not None
    assert message.sent_at == NOW
    in_millis = translate(raw("hi", timestamp=1_764_550_800_000))
    assert in_millis is not None
    assert in_millis.sent_at == datetime.fromtimestamp(1_764_550_800, UTC)


@pytest.mark.parametrize(("text", "payload"), [("1", "rate:1:good"), ("２", "rate:1:bad")])
def test_a_number_answers_the_choices_sent_to_the_chat(text: str, payload: str) -> None:
    choices = (Button("满意", "rate:1:good"), Button("不满意", "rate:1:bad"))
    message = to_incoming(
        raw(text), self_id=BOT, self_names=[BOT_NAME], received_at=NOW, choices=choices
    )
    assert message is not None
    assert (message.text, message.is_button) == (payload, True)
    beyond = to_incoming(
        raw("3"), self_id=BOT, self_names=[BOT_NAME], received_at=NOW, choices=choices
    )
    assert beyond is not None
    assert (beyond.text, beyond.is_button) == ("3", False)


def test_split_text() -> None:
    assert split_text("短消息", 2000) == ["短消息"]
    assert split_text("", 10) == [""]
    assert split_text("甲乙\n丙丁\n戊", 5) == ["甲乙\n丙丁", "戊"]
    assert split_text("一二三四五六七", 3) == ["一二三", "四五六", "七"]


def test_numbered_choices() -> None:
    assert with_numbered_choices("请评价", ()) == "请评价"
    text = with_numbered_choices("请评价", (Button("满意", "a"), Button("不满意", "b")))
    assert text == "请评价\n回复 1 满意，回复 2 不满意"
    # A vote lists its options in its own text: no second list under it.
    vote = with_numbered_choices("1 装  2 不装", (Button("1 装", "v:1"), Button("2 不装", "v:2")))
    assert vote == "1 装  2 不装"


def test_options_need_a_token_and_a_host_port_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TOKEN"):
        WechatOptions(endpoint="127.0.0.1:8788", token="", data_dir=tmp_path)
    with pytest.raises(ValueError, match="host:port"):
        WechatOptions(endpoint="127.0.0.1", token="t", data_dir=tmp_path)
    assert "secret-token" not in repr(
        WechatOptions(endpoint="127.0.0.1:8788", token="secret-token", data_dir=tmp_path)
    )


async def test_pacer_waits_per_room_and_overall() -> None:
    clock = FakePacingClock()
    policy = PacingPolicy(
        min_interval_per_room_seconds=3.0, min_interval_overall_seconds=1.0, jitter_seconds=0.0
    )
    pacer = SendPacer(policy, clock, random.Random(1))
    for room in ("a", "a", "b", "a"):
        await pacer.acquire(room, urgent=False)
    assert [(g.room_id, g.at) for g in pacer.history] == [
        ("a", 0.0),
        ("a", 3.0),
        ("b", 4.0),
        ("a", 6.0),
    ]


async def test_pacer_jitter_is_seedable() -> None:
    async def gaps(seed: int) -> list[float]:
        pacer = SendPacer(
            PacingPolicy(1.0, 1.0, jitter_seconds=2.0), FakePacingClock(), random.Random(seed)
        )
        for _ in range(6):
            await pacer.acquire("a", urgent=False)
        times = [g.at for g in pacer.history]
        return [b - a for a, b in itertools.pairwise(times)]

    first, again, other = await gaps(42), await gaps(42), await gaps(43)
    assert first == again
    assert first != other
    assert all(1.0 <= gap <= 3.0 for gap in first)


async def test_pacer_serves_urgent_waiters_first() -> None:
    pacer = SendPacer(PacingPolicy(1.0, 1.0, 0.0), FakePacingClock())
    await pacer.acquire("a", urgent=False)
    normal = [asyncio.create_task(pacer.acquire("a", urgent=False)) for _ in range(3)]
    await asyncio.sleep(0)
    urgent = asyncio.create_task(pacer.acquire("b", urgent=True))
    await asyncio.gather(*normal, urgent)
    assert [g.urgent for g in pacer.history] == [False, True, False, False, False]


async def test_pacer_daily_cap_resets_at_midnight_in_shanghai() -> None:
    # 15:00 UTC is 23:00 in Shanghai: an hour and a bit later it is the next day there.
    clock = FakePacingClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    pacer = SendPacer(PacingPolicy(1.0, 1.0, 0.0, daily_cap=1), clock)
    await pacer.acquire("a", urgent=False)
    with pytest.raises(DailyCapReached):
        await pacer.acquire("a", urgent=False)
    await pacer.acquire("a", urgent=True)
    assert pacer.remaining_today() == 0
    await clock.sleep(3700)
    assert pacer.remaining_today() == 1
    await pacer.acquire("a", urgent=False)
