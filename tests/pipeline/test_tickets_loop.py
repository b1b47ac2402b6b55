"""The ticket loop as chat transcripts: routing, assignment, deadlines and escalation,
duplicates, follow-up ratings, visits, merge and split, 随手拍, and /统计."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.tickets import Ticket
from bot.events import OutgoingMessage
from bot.notifier import Notifier
from tests.fakes import AppHarness

TZ = ZoneInfo("Asia/Shanghai")
REPAIR = "5幢1单元的电梯又坏了，停在三楼不动，老人上下楼太难了"
SAME_REPAIR = "5幢1单元电梯又坏了，停在三楼不动了，快来修"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def _private(sent: list[OutgoingMessage], person: str) -> list[str]:
    """What `person` got privately from the ticket loop (digests and other schedules left out)."""
    return [
        m.text
        for m in sent
        if not m.chat.is_group and m.chat.chat_id == person and not m.text.startswith("【日报】")
    ]


def _reply(sent: list[OutgoingMessage]) -> str:
    """The answer to the message just said (other messages it caused are notices)."""
    replies = [m for m in sent if m.reply_to_id is not None]
    assert replies, sent
    return replies[-1].text


async def test_repair_is_routed_to_property_and_grid_worker(app: AppHarness) -> None:
    sent = await app.say(REPAIR)
    assert "物业王经理" in sent[0].text and "吴网格员" in sent[0].text
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "负责人：物业王经理、吴网格员" in detail
    assert "p-prop" not in detail and "p-grid" not in detail


async def test_history_shows_names_not_ids(app: AppHarness) -> None:
    await app.say(REPAIR, name="刘阿姨")
    await app.say("/受理 1001", user="p-grid", chat=None)
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "吴网格员 办理→已受理" in detail and "刘阿姨 登记" in detail


async def test_assign_by_name_tells_the_assignee_privately(app: AppHarness) -> None:
    await app.say(REPAIR)
    sent = await app.say("/指派 1001 @吴网格员", user="p-sec-ty", chat=None)
    assert "已指派给吴网格员" in _reply(sent)
    notice = _private(sent, "p-grid")
    assert len(notice) == 1 and "李书记将工单 1001" in notice[0]
    by_id = await app.say("/assign 1001 p-prop", user="p-sec", chat=None)
    assert _private(by_id, "p-prop")


async def test_only_secretaries_assign(app: AppHarness) -> None:
    await app.say(REPAIR)
    refused = await app.say("/指派 1001 @吴网格员", user="p-grid", chat=None)
    assert "书记" in refused[0].text
    unknown = await app.say("/指派 1001 @张三", user="p-sec", chat=None)
    assert "没有找到工作人员" in unknown[0].text


async def test_reminder_then_escalation_to_compound_then_community(app: AppHarness) -> None:
    await app.say(REPAIR)  # 1 Dec 09:01; respond by 2 Dec 09:01
    assert await app.tick(_at(2, 4)) == []
    # Due at 05:01, inside the quiet hours (21:30-07:30): it waits for the morning.
    assert await app.tick(_at(2, 5, 30)) == []
    reminded = await app.tick(_at(2, 7, 30))
    assert _private(reminded, "p-prop") and _private(reminded, "p-grid")
    assert "提醒：工单 1001" in _private(reminded, "p-grid")[0]
    escalated = await app.tick(_at(2, 9, 30))
    assert "已上报桃源小区" in _private(escalated, "p-sec-ty")[0]
    assert _private(escalated, "p-grid") and not _private(escalated, "p-sec")
    assert await app.tick(_at(2, 12)) == []
    again = await app.tick(_at(3, 9, 30))
    assert "已上报富强社区" in _private(again, "p-sec")[0]
    # At the top already: the missed resolution deadline is a new 督办 notice to the top.
    later = await app.tick(_at(5, 9))
    assert _private(later, "p-grid")
    assert ["未按时办结" in t for t in _private(later, "p-sec")] == [True]
    assert not [t for t in _private(await app.tick(_at(8, 9)), "p-sec") if "督办" in t]


async def test_after_downtime_a_missed_deadline_is_escalated_without_a_stale_reminder(
    app: AppHarness,
) -> None:
    await app.say(REPAIR)  # respond by 2 Dec 09:01; Linli is down from 1 Dec until 2 Dec 10:00
    caught_up = await app.tick(_at(2, 10))
    assert [t for t in _private(caught_up, "p-sec-ty") if "督办" in t]
    assert not [t for t in _private(caught_up, "p-grid") if "提醒" in t]
    # The reminder of the resolution deadline (4 Dec 09:01), still ahead, comes as usual.
    reminded = await app.tick(_at(4, 8))
    assert [t for t in _private(reminded, "p-grid") if "提醒：工单 1001" in t]


async def test_due_actions_happen_once_even_when_run_twice(app: AppHarness) -> None:
    await app.say(REPAIR)
    app.clock.set(_at(2, 9, 30))
    await app.app.run_due()
    await app.app.run_due()
    sent = await app.tick(_at(2, 9, 31))
    assert len([t for t in _private(sent, "p-sec-ty") if "督办" in t]) == 1
    assert await app.app.services.tickets.next_due_at() is not None


async def test_accepting_in_time_stops_the_escalation(app: AppHarness) -> None:
    await app.say(REPAIR)
    accepted = await app.say("/受理 1001", user="p-grid", chat=None)
    assert "已受理" in _private(accepted, "p-res1")[0]
    assert _private(await app.tick(_at(2, 12)), "p-sec-ty") == []


async def test_duplicate_joins_and_follower_gets_updates_and_followup(app: AppHarness) -> None:
    await app.say(REPAIR)
    joined = await app.say(SAME_REPAIR, user="p-res2", chat="g-ty51")
    assert joined[0].text.startswith("已有邻居反映同一问题（工单 1001），已为您加关注")
    again = await app.say(REPAIR + "！", user="p-res1")
    assert "已在处理中（工单 1001）" in again[0].text
    # The follower, too, is told so instead of being added twice.
    follower_again = await app.say(SAME_REPAIR + "！！", user="p-res2", chat="g-ty51")
    assert "已在处理中（工单 1001）" in follower_again[0].text
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert detail.count("加关注（同一问题）") == 1
    listed = (await app.say("/工单", user="p-sec", chat=None))[0].text
    assert "待办工单 1 件" in listed
    accepted = await app.say("/受理 1001", user="p-grid", chat=None)
    assert _private(accepted, "p-res1") and _private(accepted, "p-res2")
    resolved = await app.say("/办结 1001 电梯已修好", user="p-grid", chat=None)
    assert "请您评价" in _private(resolved, "p-res2")[0]
    assert "已办结" in _reply(resolved)


async def test_unrelated_request_is_not_a_duplicate(app: AppHarness) -> None:
    await app.say(REPAIR)
    other = await app.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", user="p-res2")
    assert "工单号 1002" in other[0].text


async def test_dissatisfied_rating_reopens_and_escalates(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    answer = await app.say("3", user="p-res1", chat=None)
    assert "已重新办理" in _reply(answer)
    assert "已上报桃源小区" in _private(answer, "p-sec-ty")[0]
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "重新办理" in detail.splitlines()[0] and "评价 不满意" in detail


async def test_satisfied_rating_closes_the_ticket(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    answer = await app.say("1", user="p-res1", chat=None)
    assert "工单 1001 已关闭" in _reply(answer)
    assert await app.say("1", user="p-res1", chat=None) == []


@pytest.mark.parametrize(
    ("said", "closed"), [("很满意！", True), ("还行吧", True), ("还没修好啊", False)]
)
async def test_a_rating_in_words(app: AppHarness, said: str, closed: bool) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    answer = _reply(await app.say(said, user="p-res1", chat=None))
    assert ("工单 1001 已关闭" in answer) is closed
    assert "重新办理" in answer or "已关闭" in answer


async def test_a_rating_word_in_the_group_is_chat_not_a_rating(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    in_group = await app.say("还没修好", user="p-res1")
    assert not any("1001" in m.text for m in in_group)
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "重新办理" not in detail
    answer = _reply(await app.say("还没修好", user="p-res1", chat=None))
    assert "重新办理" in answer


async def test_rating_button_payload_is_a_command(app: AppHarness) -> None:
    await app.say(REPAIR)
    resolved = await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    question = next(m for m in resolved if m.chat.chat_id == "p-res1")
    assert [b.label for b in question.buttons] == ["满意", "基本满意", "不满意"]
    answer = await app.say(question.buttons[1].payload, user="p-res1", chat=None)
    assert "基本满意" in _reply(answer)


async def test_no_answer_in_three_days_closes_unrated(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 已修好", user="p-grid", chat=None)
    await app.tick(_at(4, 9, 30))
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "已评价/已关闭" in detail.splitlines()[0] and "到期未评价" in detail
    assert await app.say("1", user="p-res1", chat=None) == []


async def test_visit_is_for_grid_workers(app: AppHarness) -> None:
    await app.say(REPAIR)
    assert "已记录" in (await app.say("/走访 1001 已上门查看", user="p-grid", chat=None))[0].text
    refused = await app.say("/visit 1001 看过了", user="p-prop", chat=None)
    assert "网格员" in refused[0].text
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "吴网格员 走访 已上门查看" in detail


async def test_merge_and_split(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", user="p-res2")
    merged = await app.say("/合并 1002 1001", user="p-sec-ty", chat=None)
    assert "1002 已合并到工单 1001" in merged[0].text
    accepted = await app.say("/受理 1001", user="p-grid", chat=None)
    assert _private(accepted, "p-res2")
    split = await app.say("/拆分 1002", user="p-sec-ty", chat=None)
    assert "1002 已拆分" in split[0].text
    listed = (await app.say("/工单", user="p-sec", chat=None))[0].text
    assert "待办工单 2 件" in listed


async def test_photo_in_a_group_opens_an_incident_with_the_photo(app: AppHarness) -> None:
    sent = await app.say("", image="file:photos/a1.jpg", user="p-res2", chat="g-ty52")
    assert "随手拍" in sent[0].text and "【小区报事】" in sent[0].text
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "附图" in detail and "吴网格员" in detail


async def test_private_photo_only_from_reporters_and_staff(app: AppHarness) -> None:
    refused = await app.say("", image="file:x.jpg", user="p-res1", chat=None)
    assert "请发到您所在的楼道群" in refused[0].text
    sent = await app.say("东门消防通道被车堵了", image="file:y.jpg", user="p-courier", chat=None)
    assert "工单号 1001" in sent[0].text


async def test_phone_numbers_are_masked_everywhere(app: AppHarness) -> None:
    await app.say("5幢1单元电梯坏了，有事打我电话 138 1234 5678")
    detail = (await app.say("/ticket 1001", user="p-sec", chat=None))[0].text
    assert "138****5678" in detail and "1234 5678" not in detail


async def test_stats_count_by_hand(app: AppHarness) -> None:
    await app.say(REPAIR)  # 1001: accepted in time, resolved, rated 满意
    await app.say("5幢1单元楼道灯坏了好几天了，晚上黑漆漆的", user="p-res2")  # 1002: never
    await app.say("/受理 1001", user="p-grid", chat=None)
    await app.say("/办结 1001 修好了", user="p-grid", chat=None)
    await app.say("1", user="p-res1", chat=None)
    await app.tick(_at(3, 9))  # both response deadlines past; 1002's resolution not yet
    stats = (await app.say("/统计 7天", user="p-sec-ty", chat=None))[0].text
    assert "桃源小区近7天工单统计（共 2 件）" in stats
    assert "响应率 50.0%（按时受理 1/应受理 2）" in stats
    assert "解决率 100.0%（已办结 1/应办结 1）" in stats
    assert "满意率 100.0%（满意和基本满意 1/已评价 1）" in stats
    refused = await app.say("/统计", user="p-res1", chat=None)
    assert "工作人员" in refused[0].text


async def test_a_failing_due_action_does_not_hold_up_the_others(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await app.say(REPAIR)  # ticket 1001, whose reminders will fail
    second = await app.say("5幢2单元门口的路灯坏了，晚上黑乎乎的", user="p-res2", chat="g-ty52")
    assert "工单号 1002" in _reply(second)
    original = Notifier.reminder

    async def broken_for_1001(self: Notifier, ticket: Ticket, *args: Any) -> None:
        if ticket.number == 1001:
            raise RuntimeError("cannot remind about 1001")
        await original(self, ticket, *args)

    monkeypatch.setattr(Notifier, "reminder", broken_for_1001)
    sent = await app.tick(_at(2, 9))
    assert any("1002" in text for text in _private(sent, "p-grid"))  # the other one went out
    assert "trying again in 0:10:00" in caplog.text
    monkeypatch.setattr(Notifier, "reminder", original)
    retried = await app.tick(_at(2, 9, 15))
    assert any("1001" in text for text in _private(retried, "p-grid"))


async def test_a_due_action_that_keeps_failing_is_dropped(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await app.say(REPAIR)

    async def broken(self: Notifier, ticket: Ticket, *args: Any) -> None:
        raise RuntimeError("cannot remind")

    monkeypatch.setattr(Notifier, "reminder", broken)
    # Due at 05:01, the deadline at 09:01: a try every ten minutes, twelve in all.
    for minute in range(0, 12 * 10 + 1, 10):
        await app.tick(_at(2, 5, 1) + timedelta(minutes=minute))
    assert caplog.text.count("remind_respond of ticket id 1 failed") == 11
    assert "dropping remind_respond of ticket id 1 after 12 failed attempts" in caplog.text
    caplog.clear()
    await app.tick(_at(2, 8))
    assert "remind_respond" not in caplog.text
