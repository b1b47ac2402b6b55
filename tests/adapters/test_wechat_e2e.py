"""Linli end to end on WeChat: the real app, the real adapter, the fake puppet service."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.adapters.base import Adapter
from bot.adapters.wechat import WechatAdapter
from bot.app import App, build_app
from bot.domain.community import Person
from bot.domain.ticket_rules import Rating
from bot.events import OutgoingMessage, Platform
from config.environment import Secrets
from config.settings import Settings
from tests.fakes import RecordingAdapter

from .fake_puppet import FakePuppetService, SentText
from .test_wechat import FakePacingClock, fast_options

# From config/demo.toml: two stairwell groups and people with WeChat ids.
STAIRWELL = "34512098761@chatroom"  # 桃源5幢1单元楼道群
NEIGHBOURS = "34512098762@chatroom"  # 桃源5幢2单元楼道群
PROPERTY = "wxid_wang_wuye"  # 物业王经理 (taoyuan)
LEADER = "wxid_zhou_ty51"  # 周楼长, building leader of 桃源5幢1单元
LIU = "wxid_liu_ty51"  # 刘阿姨, a resident of 桃源5幢1单元 the config knows
BOT = "wxid_linli_bot"
RESIDENT = "wxid_wang_ayi"  # not in the config: a resident of the group they write in
NEWCOMER = "wxid_li_new"
REPAIR = "5幢1单元楼道灯坏了，晚上很黑"


@pytest.fixture
async def fake() -> AsyncIterator[FakePuppetService]:
    async with FakePuppetService(
        self_id=BOT, self_name="邻里小助手", heartbeat_seconds=0.5
    ) as service:
        service.add_contact(RESIDENT, "王阿姨")
        service.add_contact(NEWCOMER, "李新")
        service.add_contact(PROPERTY, "物业王经理")
        service.add_contact(LEADER, "周楼长")
        service.add_contact(LIU, "刘阿姨")
        service.add_room(STAIRWELL, "桃源5幢1单元楼道群", [RESIDENT, PROPERTY, LEADER, LIU])
        service.add_room(NEIGHBOURS, "桃源5幢2单元楼道群", [RESIDENT])
        await service.login()
        yield service


@asynccontextmanager
async def linli(
    fake: FakePuppetService,
    settings: Settings,
    database: Path,
    *adapters: Adapter,
    secrets: Secrets | None = None,
) -> AsyncIterator[App]:
    """Linli with the given adapters (else the ones `secrets` choose), logged in to the fake."""
    app = build_app(
        settings,
        secrets or Secrets(),
        adapters=list(adapters) if adapters else None,
        database_url=f"sqlite+aiosqlite:///{database}",
    )
    room_lists = fake.calls.count("RoomList")
    async with app.lifespan():
        await fake.wait_until(lambda: fake.calls.count("RoomList") > room_lists, within=10)
        yield app


class WaitingConsole(RecordingAdapter):
    """The console chat of the tests, with a way to wait for its first message."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> None:
        await super().send(message)
        self.delivered.set()


def wechat(fake: FakePuppetService, data_dir: Path, **changes: object) -> WechatAdapter:
    return WechatAdapter(fast_options(fake, data_dir, **changes))


async def answers(fake: FakePuppetService, chat_id: str, count: int) -> list[str]:
    """Wait until Linli has sent `count` texts to a room or person; return them."""
    await fake.wait_until(lambda: len(fake.texts_to(chat_id)) >= count, within=15)
    return fake.texts_to(chat_id)


def secretary(app: App) -> Person:
    person = app.directory.person("p-sec")
    assert person is not None
    return person


async def test_a_repair_message_in_a_room_gets_its_ticket_number(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        (answer,) = await answers(fake, STAIRWELL, 1)
    assert "工单号 1001" in answer
    assert "公共维修" in answer


async def test_a_reply_in_a_room_mentions_whom_it_answers_by_their_group_nickname(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    fake.rooms[STAIRWELL].aliases[LIU] = "5-302刘"
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answers(fake, STAIRWELL, 1)
        await fake.say(STAIRWELL, LIU, "5幢2单元门口的路灯坏了，晚上黑乎乎的")
        await answers(fake, STAIRWELL, 2)
    first, second = [
        s for s in fake.sent if isinstance(s, SentText) and s.conversation_id == STAIRWELL
    ]
    assert first.text.startswith("@王阿姨\u2005已收到您反映的【公共维修】问题，工单号 1001")
    assert first.mention_ids == (RESIDENT,)
    assert second.text.startswith("@5-302刘\u2005") and second.mention_ids == (LIU,)


async def test_a_voice_message_gets_a_hint_privately_and_nothing_in_a_room(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        await fake.send_voice(STAIRWELL, RESIDENT)
        await fake.send_voice("", RESIDENT)
        (hint,) = await answers(fake, RESIDENT, 1)
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        (answer,) = await answers(fake, STAIRWELL, 1)  # the first answer in the room
    assert hint.startswith("抱歉，我还听不懂语音。请用文字说一下是什么事")
    assert "工单号 1001" in answer


async def test_a_replayed_message_gets_nothing(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        first = await fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answers(fake, STAIRWELL, 1)
        await fake.replay(first)
        # Events are handled in order: once this one is answered, the replay was handled.
        await fake.say(NEIGHBOURS, NEWCOMER, "5幢2单元水管漏水了，地上全是水")
        (neighbours,) = await answers(fake, NEIGHBOURS, 1)
    assert len(fake.texts_to(STAIRWELL)) == 1
    assert "工单号 1002" in neighbours


async def test_a_rating_by_number_closes_the_loop(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)) as app:
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answers(fake, STAIRWELL, 1)
        await fake.say("", PROPERTY, "/办结 1001 已更换灯泡")
        question = (await answers(fake, RESIDENT, 1))[0]
        await fake.say("", RESIDENT, "1")
        thanks = (await answers(fake, RESIDENT, 2))[1]
        view = await app.services.tickets.get(1001, secretary(app))
    assert "工单 1001" in question
    assert "回复 1 满意" in question
    assert "1001" in thanks
    assert [e.note for e in view.history if e.kind == "rated"] == [Rating.SATISFIED.value]


async def test_a_ballot_by_number_in_a_room_and_privately(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    poll = "/投票 楼道里装不装感应灯 | 装 | 不装 | 无所谓"
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        await fake.say(STAIRWELL, LEADER, poll)
        (opened,) = await answers(fake, STAIRWELL, 1)
        await fake.say(STAIRWELL, RESIDENT, "2")
        await fake.say(STAIRWELL, NEWCOMER, "装")
        await fake.say(STAIRWELL, RESIDENT, "我选1")  # changes their vote
        await fake.say("", LIU, "3")  # privately to the bot
        private = await answers(fake, LIU, 1)
        in_room = await answers(fake, STAIRWELL, 4)
        await fake.say(STAIRWELL, LEADER, "/结束投票 1")
        result = (await answers(fake, STAIRWELL, 5))[4]
    assert "第1号投票：楼道里装不装感应灯" in opened
    assert "请回复选项数字投票" in opened and "3 无所谓" in opened  # listed once, by the vote
    assert "已记下您的选择「不装」" in in_room[1]
    assert "已记下您的选择「装」" in in_room[2]
    assert "已改为「装」" in in_room[3]
    assert "已记下您的选择「无所谓」" in private[0]
    assert "第1号投票结果" in result
    assert "1 装：2票" in result and "2 不装：0票" in result and "3 无所谓：1票" in result
    assert "共 3 人投票" in result


async def test_a_photo_in_a_room_files_a_ticket_with_the_saved_picture(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    photo = b"\xff\xd8\xff\xe0 rubbish by the door of building 5"
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)) as app:
        await fake.send_image(STAIRWELL, RESIDENT, photo)
        (answer,) = await answers(fake, STAIRWELL, 1)
        ticket = (await app.services.tickets.get(1001, secretary(app))).ticket
    assert "工单号 1001" in answer
    assert ticket.image is not None
    saved = Path(ticket.image)
    assert saved.is_relative_to(tmp_path / "images")
    assert await asyncio.to_thread(saved.read_bytes) == photo


async def test_a_dropped_stream_is_reconnected_and_nothing_is_lost_or_doubled(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        first = await fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answers(fake, STAIRWELL, 1)
        await fake.drop_stream()
        await fake.say(NEIGHBOURS, RESIDENT, "5幢2单元水管漏水了，地上全是水")
        # After a reconnect the service delivers the earlier message again.
        await fake.replay(first)
        await fake.say(STAIRWELL, NEWCOMER, "5幢门口垃圾堆了三天没人清，味道很大")
        neighbours = await answers(fake, NEIGHBOURS, 1)
        stairwell = await answers(fake, STAIRWELL, 2)
    assert fake.event_streams_opened == 2
    assert "工单号 1002" in neighbours[0]
    assert len(stairwell) == 2
    assert "工单号 1003" in stairwell[1]


async def test_pacing_holds_under_a_burst_of_answers(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    adapter = WechatAdapter(
        fast_options(
            fake,
            tmp_path,
            min_interval_per_room_seconds=3.0,
            min_interval_overall_seconds=1.5,
            jitter_seconds=2.0,
        ),
        clock=FakePacingClock(),
    )
    rooms = itertools.cycle([STAIRWELL, NEIGHBOURS])
    requests = [
        "楼道灯坏了，晚上很黑",
        "电梯按钮失灵了，按了没反应",
        "楼道窗户玻璃碎了",
        "水管漏水了，地上全是水",
        "单元门禁坏了，门关不上",
        "楼顶漏水，家里墙上都湿了",
    ]
    async with linli(fake, settings, tmp_path / "linli.db", adapter):
        for text in requests:
            await fake.say(next(rooms), RESIDENT, text)
        await fake.wait_until(lambda: len(fake.sent) >= len(requests), within=15)
    grants = list(adapter.pacer.history)
    assert len(grants) == len(requests)
    assert min(b.at - a.at for a, b in itertools.pairwise(grants)) >= 1.5
    for room in (STAIRWELL, NEIGHBOURS):
        times = [g.at for g in grants if g.room_id == room]
        assert min(b - a for a, b in itertools.pairwise(times)) >= 3.0


async def test_a_new_member_gets_a_welcome(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        await fake.join(STAIRWELL, [NEWCOMER], RESIDENT)
        (welcome,) = await answers(fake, STAIRWELL, 1)
    assert "桃源5幢1单元楼道群" in welcome


async def test_a_join_replayed_from_long_ago_gets_no_welcome(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path)):
        fake.rewind((settings.storage.keep_message_log_days + 1) * 86_400)
        await fake.join(STAIRWELL, [NEWCOMER], RESIDENT)
        fake.rewind(-(settings.storage.keep_message_log_days + 1) * 86_400)
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        (answer,) = await answers(fake, STAIRWELL, 1)  # the only text: no welcome before it
    assert "工单号 1001" in answer


async def test_a_logout_alerts_the_secretary_on_another_platform(
    fake: FakePuppetService, settings: Settings, tmp_path: Path
) -> None:
    console = WaitingConsole()
    async with linli(fake, settings, tmp_path / "linli.db", wechat(fake, tmp_path), console):
        await fake.logout("在手机上退出了登录")
        async with asyncio.timeout(10):
            await console.delivered.wait()
    (alert,) = console.sent
    assert alert.chat.chat_id == "p-sec"
    assert alert.urgent
    assert "微信" in alert.text


async def test_linli_starts_wechat_when_the_puppet_secrets_are_set(
    fake: FakePuppetService,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo config keeps its data folder in the working directory
    secrets = Secrets(
        wechaty_puppet_service_token=fake.token,
        wechaty_puppet_service_endpoint=fake.endpoint,
    )
    async with linli(fake, settings, tmp_path / "linli.db", secrets=secrets) as app:
        await fake.say(STAIRWELL, RESIDENT, REPAIR)
        (answer,) = await answers(fake, STAIRWELL, 1)
    assert [a.platform for a in app.adapters] == [Platform.WECHAT]
    assert "工单号 1001" in answer
