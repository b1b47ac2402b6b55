"""Votes as a chat transcript: polls and owners' decisions, ballots, buttons, closing, reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.owners import parse_register
from bot.events import ChatRef, IncomingMessage, OutgoingMessage, Platform, UserRef
from tests.fakes import AppHarness

SHANGHAI = ZoneInfo("Asia/Shanghai")
REGISTER = Path(__file__).parent.parent / "replay" / "scenarios" / "owners_taoyuan.csv"
POLL = "/投票 楼道里装不装感应灯 | 装 | 不装 | 无所谓 截止 明天18点"
DECISION = "/表决 使用维修资金 更换5幢电梯 截止 12月3日18:00"


def group_texts(sent: list[OutgoingMessage], chat: str) -> list[str]:
    return [m.text for m in sent if m.chat.is_group and m.chat.chat_id == chat]


def private_to(sent: list[OutgoingMessage], person: str) -> list[OutgoingMessage]:
    return [m for m in sent if not m.chat.is_group and m.chat.chat_id == person]


async def press(app: AppHarness, payload: str, *, user: str, chat: str | None) -> list[str]:
    """A button press: it arrives as a message whose text is the payload."""
    app.clock.set(app.clock.now() + timedelta(minutes=1))
    before = len(app.adapter.sent)
    await app.app.pipeline.handle(
        IncomingMessage(
            message_id=f"press-{user}-{app.clock.now().timestamp()}",
            chat=ChatRef(Platform.CONSOLE, chat or user, is_group=chat is not None),
            sender=UserRef(Platform.CONSOLE, user),
            text=payload,
            sent_at=app.clock.now(),
            is_button=True,
        )
    )
    await app.app.deliver()
    return [m.text for m in app.adapter.sent[before:]]


async def import_register(app: AppHarness) -> None:
    register = parse_register(REGISTER.read_text(encoding="utf-8"), str(REGISTER))
    await app.app.services.votes.import_register("taoyuan", register)


async def test_leader_polls_residents_vote_change_and_close(app: AppHarness) -> None:
    opened = await app.say(POLL, user="p-lead")
    assert "第1号投票：楼道里装不装感应灯" in opened[0].text
    assert [b.payload for b in opened[0].buttons] == ["vote:1:1", "vote:1:2", "vote:1:3"]
    assert "已记下您的选择「装」" in (await app.say("1", user="p-res1"))[0].text
    assert "已记下您的选择「不装」" in (await app.say("不装", user="u-wang"))[0].text
    assert "已改为「装」" in (await app.say("我选1", user="u-wang"))[0].text
    assert "没有第 5 号选项" in (await app.say("选5", user="u-li"))[0].text
    assert await app.say("今天天气不错", user="u-li") == []
    closed = await app.say("/结束投票 1", user="p-lead")
    result = group_texts(closed, "g-ty51")
    assert len(result) == 1
    assert "1 装：2票" in result[0] and "2 不装：0票" in result[0] and "共 2 人投票" in result[0]
    assert private_to(closed, "p-sec") and "第1号投票结果" in private_to(closed, "p-sec")[0].text
    assert "已经截止" in (await app.say("2", user="u-li"))[0].text


async def test_residents_and_leaders_elsewhere_may_not_start_votes(app: AppHarness) -> None:
    assert "楼道长、小区书记或社区书记" in (await app.say(POLL, user="p-res1"))[0].text
    refused = await app.say(POLL, user="p-lead", chat="g-ty52")
    assert "楼道长、小区书记或社区书记" in refused[0].text
    decision = await app.say(DECISION, user="p-lead")
    assert "小区书记或社区书记" in decision[0].text
    assert "请在要投票的群里" in (await app.say(POLL, user="p-lead", chat=None))[0].text


async def test_a_decision_needs_a_register(app: AppHarness) -> None:
    sent = await app.say(DECISION, user="p-sec-ty", chat="g-taoyuan")
    assert "还没有导入业主名册" in sent[0].text


async def test_owners_decision_end_to_end(app: AppHarness) -> None:
    await import_register(app)
    opened = await app.say(DECISION, user="p-sec-ty", chat="g-taoyuan")
    assert "第1号业主表决【使用维修资金】更换5幢电梯" in opened[0].text
    assert "名册业主 6 人，专有面积共 725.50㎡" in opened[0].text
    say = app.say
    assert "「反对」" in (await say("反对", user="p-res1", chat="g-taoyuan"))[0].text
    assert "已改为「同意」" in (await say("同意", user="p-res1", chat="g-taoyuan"))[0].text
    assert "「同意」" in (await say("1", user="p-lead", chat="g-taoyuan"))[0].text
    assert "「反对」" in (await say("2", user="p-res2", chat=None))[0].text  # privately
    assert "「弃权」" in (await press(app, "vote:1:3", user="p-lead-ty52", chat="g-taoyuan"))[0]
    refused = await say("同意", user="p-grid", chat="g-taoyuan")
    assert "只限业主名册里的业主" in refused[0].text
    assert "1 同意，2 反对，3 弃权" in (await say("选5", user="p-res2", chat="g-taoyuan"))[0].text
    paper = await say("/纸质票 1 5-2-202 同意", user="p-grid", chat=None)
    assert "已录入 5-2-202 室的纸质票「同意」" in paper[0].text
    closed = await say("/结束投票 1", user="p-sec-ty", chat=None)
    result = group_texts(closed, "g-taoyuan")[0]
    # 刘阿姨 150 + 周楼长 120 + 陈大爷 95 agree; 张先生 100 against; 孙楼长 80.5 abstains.
    assert "参与表决：5 人，人数占比 83.33%；545.50㎡，参与表决面积占比 75.19%" in result
    assert "同意：3 人 365.00㎡，同意占比 人数 60.00%、面积 66.91%" in result
    assert "是否通过：通过。" in result and "第（五）项" in result
    assert "第1号投票已结束" in private_to(closed, "p-sec-ty")[-1].text


async def test_anonymous_votes_keep_choices_out_of_every_message(app: AppHarness) -> None:
    await app.say("/投票 周末大扫除时间 | 周六上午 | 周日上午 匿名", user="p-lead")
    ack = (await app.say("周日上午", user="p-res1"))[0].text
    assert "匿名" in ack and "周日" not in ack and "周六" not in ack
    changed = (await press(app, "vote:1:1", user="p-res1", chat="g-ty51"))[0]
    assert "已更新" in changed and "周六" not in changed
    closed = await app.say("/close 1", user="p-lead")
    assert "1 周六上午：1票" in group_texts(closed, "g-ty51")[0]
    _, rows = await app.app.services.votes.export(1)
    assert [row.choice for row in rows] == [None]


async def test_deadline_closes_the_vote_and_late_ballots_are_refused(app: AppHarness) -> None:
    await app.say(POLL, user="p-lead")  # 截止 明天18点 = 2 Dec 18:00
    await app.say("2", user="p-res1")
    before = await app.tick(datetime(2026, 12, 2, 17, 59, tzinfo=SHANGHAI))
    assert group_texts(before, "g-ty51") == []
    at_deadline = await app.tick(datetime(2026, 12, 2, 18, 0, tzinfo=SHANGHAI))
    assert "2 不装：1票" in group_texts(at_deadline, "g-ty51")[0]
    assert await app.tick(datetime(2026, 12, 2, 19, 0, tzinfo=SHANGHAI)) == []
    assert "已经截止" in (await app.say("1", user="p-res1"))[0].text
    assert "已经截止" in (await press(app, "vote:1:1", user="p-res1", chat="g-ty51"))[0]


async def test_requests_still_become_tickets_while_a_vote_is_open(app: AppHarness) -> None:
    await app.say(POLL, user="p-lead")
    sent = await app.say("5幢1单元的电梯又坏了，停在三楼不动，老人上下楼太难了", user="p-res2")
    assert "工单号" in sent[0].text


async def test_typed_command_word_with_a_number_is_a_ballot(app: AppHarness) -> None:
    await app.say(POLL, user="p-lead")
    assert "「不装」" in (await app.say("投票 2", user="p-res1"))[0].text
    assert "「无所谓」" in (await app.say("投票3", user="p-res1"))[0].text


async def test_two_open_votes_need_the_number(app: AppHarness) -> None:
    await app.say(POLL, user="p-lead")
    await app.say("/投票 周末大扫除时间 | 周六上午 | 周日上午", user="p-lead")
    assert "请写上编号" in (await app.say("1", user="p-res1"))[0].text
    assert "「周日上午」" in (await app.say("2号 2", user="p-res1"))[0].text
    assert "「装」" in (await app.say("#1 1", user="p-res1"))[0].text
    assert "「周六上午」" in (await app.say("周六上午", user="p-res2"))[0].text


async def test_private_ballots_only_for_eligible_voters(app: AppHarness) -> None:
    await app.say(POLL, user="p-lead")
    # 张先生 lives in 5幢2单元: the 5幢1单元 poll is not his, so "1" privately is just chat.
    assert await app.say("1", user="p-res2", chat=None) == []
    refused = await app.say("1号 1", user="p-res2", chat=None)
    assert "只限本群居民" in refused[0].text
    assert "「装」" in (await app.say("1", user="p-res1", chat=None))[0].text


async def test_reminders_once_a_day_privately_with_buttons(app: AppHarness) -> None:
    await import_register(app)
    await app.say(DECISION, user="p-sec-ty", chat="g-taoyuan")
    await app.say("同意", user="p-res1", chat="g-taoyuan")
    same_day = await app.tick(datetime(2026, 12, 1, 11, 0, tzinfo=SHANGHAI))
    assert same_day == []
    morning = await app.tick(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    later = await app.tick(datetime(2026, 12, 2, 10, 5, tzinfo=SHANGHAI))
    sent = [m for m in morning + later if "第1号业主表决" in m.text]  # not the morning digests
    reminded = {m.chat.chat_id for m in sent if not m.chat.is_group}
    assert reminded == {"p-lead", "p-res2", "p-lead-ty52"}  # 刘阿姨 voted already
    assert all(
        m.buttons and m.buttons[0].payload == "vote:1:1" for m in sent if not m.chat.is_group
    )
    # 陈大爷 and the developer have no account: one count in the group, no names.
    assert group_texts(sent, "g-taoyuan") == [
        "第1号业主表决还有 2 户业主未表决，截止 12月3日 18:00。"
        "业主可在群里回复 1 同意、2 反对、3 弃权，也可以私聊我投票。"
    ]
    evening = await app.tick(datetime(2026, 12, 2, 20, 0, tzinfo=SHANGHAI))
    assert [m for m in evening if "第1号业主表决" in m.text] == []
    first = await app.tick(datetime(2026, 12, 3, 10, 1, tzinfo=SHANGHAI))
    # Paced: one now, the others a few seconds apart.
    assert len([m for m in first if "还没有收到您" in m.text]) == 1
    rest = await app.tick(datetime(2026, 12, 3, 10, 2, tzinfo=SHANGHAI))
    assert len([m for m in rest if "还没有收到您" in m.text]) == 2


@pytest.mark.parametrize("tamper", ["ballot", "audit"])
async def test_verify_finds_a_changed_row(app: AppHarness, tamper: str) -> None:
    from sqlalchemy import text

    await import_register(app)
    await app.say(DECISION, user="p-sec-ty", chat="g-taoyuan")
    await app.say("同意", user="p-res1", chat="g-taoyuan")
    await app.say("反对", user="p-lead", chat="g-taoyuan")
    votes = app.app.services.votes
    assert (await votes.verify(1)).intact
    statement = {
        "ballot": "UPDATE vote_ballots SET choice = 1 WHERE choice = 2",
        "audit": "UPDATE vote_audit SET choice = 1 WHERE choice = 2",
    }[tamper]
    async with app.app.database.transaction() as connection:
        await connection.execute(text(statement))
    report = await votes.verify(1)
    assert not report.intact
    assert any("audit chain says 2" in p or "altered" in p for p in report.problems)


async def test_a_button_ballot_the_platform_answers_alone_stays_out_of_the_group(
    app: AppHarness,
) -> None:
    await app.say(POLL, user="p-lead")
    before = len(app.adapter.sent)
    answer = await app.app.pipeline.handle(
        IncomingMessage(
            message_id="cb:1",
            chat=ChatRef(Platform.CONSOLE, "g-ty51"),
            sender=UserRef(Platform.CONSOLE, "p-res1"),
            text="vote:1:2",
            sent_at=app.clock.now(),
            is_button=True,
            answer_inline=True,  # as a Telegram button press
        )
    )
    await app.app.deliver()
    assert answer is not None and "已记下您的选择「不装」" in answer
    assert app.adapter.sent[before:] == []  # nothing posted to the group
    closed = await app.say("/结束投票 1", user="p-lead")
    assert "2 不装：1票" in group_texts(closed, "g-ty51")[0]
