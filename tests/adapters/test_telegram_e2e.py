"""Linli end to end on Telegram: the real app, the real adapter, the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.app import App, build_app
from bot.domain.community import Person
from bot.events import ChatRef, Platform
from config.environment import Secrets
from config.settings import Settings

from .fake_telegram import FakeTelegram, SentMessage

# From config/demo.toml: the 桃源5幢1单元 stairwell group and two people with Telegram ids.
STAIRWELL = -1001873204451
SECRETARY = 510000001
LEADER = 510000011  # 周楼长, building leader of 桃源5幢1单元
PROPERTY = 510000031  # 物业王经理, handles repairs in 桃源小区
RESIDENT = 777001  # not in the config: a resident of the group they write in
NEIGHBOUR = 777002
ADMIN = 777003  # a group admin who posts anonymously
NEW_GROUP = -4242
REPAIR = "5幢1单元楼道灯坏了，晚上很黑"


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods: 22.8 warns inside `RetryAfter()` otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_group(STAIRWELL, "桃源5幢1单元楼道群", supergroup=True)
        server.add_group(NEW_GROUP, "梅园3幢1单元新群", admins=(SECRETARY,))
        server.add_user(SECRETARY, "陈书记", "chen_shuji")
        server.add_user(LEADER, "周楼长")
        server.add_user(PROPERTY, "物业王经理")
        server.add_user(RESIDENT, "王阿姨")
        server.add_user(NEIGHBOUR, "赵大爷")
        server.add_user(ADMIN, "群管理员")
        yield server


@asynccontextmanager
async def linli(
    fake: FakeTelegram, settings: Settings, database: Path, secrets: Secrets | None = None
) -> AsyncIterator[App]:
    """Linli with the Telegram adapter, polling the fake, on a SQLite file that outlives it."""
    adapters = None
    if secrets is None:
        adapters = [TelegramAdapter(fake.token, TelegramOptions(), api_base=fake.base_url)]
    app = build_app(
        settings,
        secrets or Secrets(),
        adapters=adapters,
        database_url=f"sqlite+aiosqlite:///{database}",
    )
    polls_before = fake.received.count("getUpdates")
    async with app.lifespan():
        await fake.wait_for(
            lambda: fake.received.count("getUpdates") > polls_before, what="Linli polling"
        )
        yield app


async def answer_to(fake: FakeTelegram, chat_id: int, message_id: int) -> SentMessage:
    """Wait for Linli's reply to one message."""

    def replies() -> list[SentMessage]:
        return [m for m in fake.sent_to(chat_id) if m.reply_to_message_id == message_id]

    await fake.wait_for(lambda: bool(replies()), within=10, what=f"a reply to {message_id}")
    (reply,) = replies()
    return reply


def secretary(app: App) -> Person:
    person = app.directory.person("p-sec")
    assert person is not None
    return person


async def test_a_repair_message_gets_its_ticket_number(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db"):
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        answer = await answer_to(fake, STAIRWELL, asked)
    assert "工单号 1001" in answer.body
    assert "公共维修" in answer.body


async def test_a_photo_report_files_a_ticket_with_the_photo(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        photo = fake.send_photo_from(STAIRWELL, RESIDENT, "随手拍：5幢门口垃圾堆了三天没人清")
        answer = await answer_to(fake, STAIRWELL, 1)
        tickets = await app.services.tickets.list_active(secretary(app))
    assert "工单号 1001" in answer.body
    assert [(t.number, t.image) for t in tickets] == [(1001, f"telegram:{photo}")]


async def test_a_voice_message_gets_a_hint_privately_and_nothing_in_a_group(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db"):
        fake.send_voice_from(STAIRWELL, RESIDENT)
        private = fake.send_voice_from(RESIDENT, RESIDENT)
        hint = await answer_to(fake, RESIDENT, private)
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        answer = await answer_to(fake, STAIRWELL, asked)
    assert hint.body.startswith("抱歉，我还听不懂语音。请用文字说一下是什么事")
    assert "工单号 1001" in answer.body
    assert len(fake.sent_to(STAIRWELL)) == 1  # nothing for the voice message in the group


async def test_an_edit_updates_the_ticket_and_opens_no_second_one(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answer_to(fake, STAIRWELL, asked)
        fake.edit(STAIRWELL, asked, "5幢1单元3楼楼道灯坏了，晚上很黑")
        fake.say(STAIRWELL, SECRETARY, "/工单@LinliTestBot")
        # The list names what neighbours reported: it goes to the secretary privately.
        await fake.wait_for(
            lambda: any("待办工单" in m.body for m in fake.sent_to(SECRETARY)),
            within=10,
            what="the private listing",
        )
        listed = next(m for m in fake.sent_to(SECRETARY) if "待办工单" in m.body)
        tickets = await app.services.tickets.list_active(secretary(app))
    assert [(t.number, t.text) for t in tickets] == [(1001, "5幢1单元3楼楼道灯坏了，晚上很黑")]
    assert "3楼" in listed.body
    assert len(fake.sent) == 2  # the answer and the listing: the edit itself got no reply


async def test_a_restart_that_redelivers_updates_answers_none_of_them_twice(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    database = tmp_path / "linli.db"
    async with linli(fake, settings, database):
        first = fake.say(STAIRWELL, RESIDENT, REPAIR)
        second = fake.say(STAIRWELL, RESIDENT, "5幢1单元电梯按钮失灵了，按了没反应")
        await answer_to(fake, STAIRWELL, first)
        await answer_to(fake, STAIRWELL, second)
    fake.redeliver_last(2)  # as if Linli had crashed before confirming them
    async with linli(fake, settings, database):
        third = fake.say(STAIRWELL, RESIDENT, "5幢1单元楼道窗户玻璃碎了")
        # Updates are handled in order: once the third is answered, the replays were handled.
        answer = await answer_to(fake, STAIRWELL, third)
    assert len(fake.sent) == 3, [(m.chat_id, m.reply_to_message_id, m.body[:40]) for m in fake.sent]
    assert "工单号 1003" in answer.body
    assert fake.pending_updates == []


async def test_a_group_bound_with_bind_keeps_its_binding_when_it_becomes_a_supergroup(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    supergroup = -1002000004242
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        unbound = fake.say(NEW_GROUP, RESIDENT, REPAIR)
        hint = await answer_to(fake, NEW_GROUP, unbound)
        fake.say(NEW_GROUP, RESIDENT, "有人吗？")
        bind = fake.say(NEW_GROUP, SECRETARY, "/bind@LinliTestBot g-my31")
        bound = await answer_to(fake, NEW_GROUP, bind)
        fake.migrate(NEW_GROUP, supergroup, SECRETARY)
        fake.add_user(RESIDENT + 1, "赵大爷")
        asked = fake.say(supergroup, RESIDENT + 1, "3幢1单元楼道灯坏了，晚上很黑")
        answer = await answer_to(fake, supergroup, asked)
        now_bound = app.directory.group_for_chat(ChatRef(Platform.TELEGRAM, str(supergroup)))
        old_bound = app.directory.group_for_chat(ChatRef(Platform.TELEGRAM, str(NEW_GROUP)))
    assert "绑定" in hint.body
    assert len(fake.sent_to(NEW_GROUP)) == 2  # the hint is given once, then the confirmation
    assert "梅园3幢1单元楼道群" in bound.body
    assert "工单号 1001" in answer.body  # nothing was filed before the group was bound
    assert now_bound is not None
    assert (now_bound.id, old_bound) == ("g-my31", None)


async def test_a_kicked_bot_sends_nothing_more_to_that_group(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        await answer_to(fake, STAIRWELL, asked)
        fake.kick_bot(STAIRWELL, SECRETARY)
        # Updates are handled in order: once this private question is answered, so was the kick.
        question = fake.say(SECRETARY, SECRETARY, "/工单")
        await answer_to(fake, SECRETARY, question)
        group = app.directory.group("g-ty51")
        assert group is not None
        posted = await app.outbox.to_group(group, "明天上午9点停水")
        chat = app.directory.chat_of_group(group, Platform.TELEGRAM)
    assert (posted, chat) == (False, None)
    assert len(fake.sent_to(STAIRWELL)) == 1


async def test_a_429_with_retry_after_is_honoured(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db"):
        fake.inject_flood("sendMessage", retry_after=1)
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        answer = await answer_to(fake, STAIRWELL, asked)
    assert "工单号 1001" in answer.body
    assert fake.too_many_requests == 1
    assert fake.premature_retries == 0


async def test_linli_starts_telegram_when_the_token_is_set(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    secrets = Secrets(telegram_bot_token=fake.token, telegram_api_base=fake.base_url)
    async with linli(fake, settings, tmp_path / "linli.db", secrets):
        asked = fake.say(STAIRWELL, RESIDENT, REPAIR)
        answer = await answer_to(fake, STAIRWELL, asked)
    assert "工单号 1001" in answer.body


async def test_a_vote_through_buttons(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    poll = "/vote@LinliTestBot 楼道里装不装感应灯 | 装 | 不装 | 无所谓"
    async with linli(fake, settings, tmp_path / "linli.db"):
        opened = await answer_to(fake, STAIRWELL, fake.say(STAIRWELL, LEADER, poll))
        presses = [
            fake.press_button(opened, RESIDENT, "2 不装"),
            fake.press_button(opened, NEIGHBOUR, "1 装"),
            fake.press_button(opened, ADMIN, "3 无所谓"),
            fake.press_button(opened, RESIDENT, "1 装"),  # changes their vote
        ]
        # Posting anonymously, an admin writes as the group (`sender_chat`): Telegram hides who
        # it is (and the same admin's button presses carry their own id), so that ballot is
        # answered but not counted.
        fake.say_as_anonymous_admin(STAIRWELL, "不装")
        # A button ballot is answered by a pop-up to the presser, not in the group: the group
        # sees the poll and the answer to the typed ballot only.
        poll_and_typed = list(await fake.wait_for_sent(2, within=10))[:2]
        await fake.wait_for(
            lambda: len(fake.answered_callbacks) == len(presses), within=10, what="pop-ups"
        )
        closing = fake.say(STAIRWELL, LEADER, "/close 1")
        await fake.wait_for(
            lambda: any("第1号投票结果" in m.body for m in fake.sent_to(STAIRWELL)),
            within=10,
            what="the result in the group",
        )
    assert "第1号投票：楼道里装不装感应灯" in opened.body
    assert opened.buttons == (
        ("1 装", "vote:1:1"),
        ("2 不装", "vote:1:2"),
        ("3 无所谓", "vote:1:3"),
    )
    assert sorted(fake.answered_callbacks) == sorted(presses)  # every button stopped spinning
    popups = [fake.callback_answers[query] for query in presses]
    assert sum("已记下您的选择" in text for text in popups) == 3
    assert sum("已改为「装」" in text for text in popups) == 1
    assert "没有计入" in poll_and_typed[1].body
    ballots_in_group = [m for m in fake.sent_to(STAIRWELL) if "已记下您的选择" in m.body]
    assert ballots_in_group == []
    (result,) = [m for m in fake.sent_to(STAIRWELL) if "第1号投票结果" in m.body]
    assert result.reply_to_message_id != closing  # a post of its own, not an answer
    assert "1 装：2票" in result.body
    assert "2 不装：0票" in result.body
    assert "3 无所谓：1票" in result.body
    assert "共 3 人投票" in result.body
    assert fake.pending_updates == []


async def test_a_rating_through_buttons_closes_the_ticket(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        await answer_to(fake, STAIRWELL, fake.say(STAIRWELL, RESIDENT, REPAIR))
        done = fake.say(PROPERTY, PROPERTY, "/办结 1001 已更换灯泡")
        await answer_to(fake, PROPERTY, done)
        await fake.wait_for(lambda: bool(fake.sent_to(RESIDENT)), within=10, what="the question")
        (question,) = fake.sent_to(RESIDENT)
        fake.press_button(question, RESIDENT, "满意")
        await fake.wait_for(lambda: len(fake.sent_to(RESIDENT)) == 2, within=10, what="thanks")
        view = await app.services.tickets.get(1001, secretary(app))
    assert "工单 1001" in question.body
    assert [label for label, _ in question.buttons] == ["满意", "基本满意", "不满意"]
    assert "已关闭" in fake.sent_to(RESIDENT)[1].body
    assert len(fake.answered_callbacks) == 1
    assert view.ticket.state == "closed"
    assert [e.note for e in view.history if e.kind == "rated"] == ["satisfied"]


async def test_a_dissatisfied_rating_through_buttons_reopens_the_ticket(
    fake: FakeTelegram, settings: Settings, tmp_path: Path
) -> None:
    async with linli(fake, settings, tmp_path / "linli.db") as app:
        await answer_to(fake, STAIRWELL, fake.say(STAIRWELL, RESIDENT, REPAIR))
        await answer_to(fake, PROPERTY, fake.say(PROPERTY, PROPERTY, "/办结 1001 已更换灯泡"))
        await fake.wait_for(lambda: bool(fake.sent_to(RESIDENT)), within=10, what="the question")
        fake.press_button(fake.sent_to(RESIDENT)[0], RESIDENT, "不满意")
        await fake.wait_for(lambda: len(fake.sent_to(RESIDENT)) == 2, within=10, what="answer")
        view = await app.services.tickets.get(1001, secretary(app))
    assert "重新办理" in fake.sent_to(RESIDENT)[1].body
    assert view.ticket.state not in ("closed", "resolved")
    assert [e.note for e in view.history if e.kind == "rated"] == ["dissatisfied"]
