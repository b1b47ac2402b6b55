"""The spine's ticket transcript: requests become tickets, chat stays silent, staff commands."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.classifying import InlineClassifier
from bot.events import ChatRef, IncomingMessage, Platform, UserRef
from handlers.texts import common
from handlers.texts import tickets as texts
from nlp import Classification, Label, classify
from tests.fakes import AppHarness

REPAIR = "5幢1单元的电梯又坏了，停在三楼不动，老人上下楼太难了"


async def _deliver(
    app: AppHarness, message_id: str, chat: str | None, text: str = "", **fields: bool
) -> None:
    """A message from 刘阿姨 (p-res1), built by hand for flags `say` has no words for."""
    message = IncomingMessage(
        message_id=message_id,
        chat=ChatRef(Platform.CONSOLE, chat or "p-res1", is_group=chat is not None),
        sender=UserRef(Platform.CONSOLE, "p-res1"),
        text=text,
        sent_at=app.clock.now(),
        **fields,
    )
    await app.app.pipeline.handle(message)
    await app.app.deliver()


async def test_repair_request_gets_one_answer_with_ticket_number(app: AppHarness) -> None:
    sent = await app.say(REPAIR, message_id="m1")
    assert len(sent) == 1
    assert sent[0].chat.chat_id == "g-ty51" and sent[0].chat.is_group
    assert "【公共维修】" in sent[0].text and "工单号 1001" in sent[0].text
    assert sent[0].reply_to_id == "m1"


async def test_same_message_id_again_gets_nothing(app: AppHarness) -> None:
    await app.say(REPAIR, message_id="m1")
    assert await app.say(REPAIR, message_id="m1") == []
    listed = await app.say("/工单", user="p-sec", chat=None)
    assert "待办工单 1 件" in listed[0].text


async def test_the_list_names_the_place_once(app: AppHarness) -> None:
    await app.say("3栋门口的路灯坏了，晚上黑乎乎的")
    await app.say("电梯按钮失灵了，按了半天没反应，老人上下楼太难了，是3栋的", user="p-res2")
    listed = (await app.say("/工单", user="p-sec", chat=None))[0].text
    assert "】3栋门口的路灯坏了" in listed  # the text already says 3栋
    assert "】3栋 电梯按钮失灵了" in listed  # the summary is cut before it does


async def test_greetings_and_thanks_get_no_answer(app: AppHarness) -> None:
    assert await app.say("早上好") == []
    assert await app.say("谢谢大家") == []
    assert await app.say("收到") == []


async def test_urgent_request_alerts_grid_worker_and_building_leader(app: AppHarness) -> None:
    sent = await app.say("救命 电梯困人了 有人被关在5幢1单元电梯里出不来", user="p-res2")
    private = {m.chat.chat_id for m in sent if not m.chat.is_group}
    assert {"p-grid", "p-lead"} <= private
    group = [m for m in sent if m.chat.is_group]
    assert len(group) == 1 and "紧急" in group[0].text
    assert all(m.urgent for m in sent if not m.chat.is_group)


async def test_secretary_lists_open_tickets(app: AppHarness) -> None:
    await app.say(REPAIR)
    sent = await app.say("/工单", user="p-sec", chat=None)
    assert sent[0].chat.chat_id == "p-sec" and not sent[0].chat.is_group
    assert "1001【公共维修】" in sent[0].text


async def test_resident_cannot_resolve(app: AppHarness) -> None:
    await app.say(REPAIR)
    sent = await app.say("/办结 1001")
    assert "工作人员" in sent[0].text
    detail = await app.say("/ticket 1001", user="p-sec", chat=None)
    assert "待受理" in detail[0].text


async def test_staff_accept_and_resolve_are_in_the_history(app: AppHarness) -> None:
    await app.say(REPAIR)
    assert "已受理" in (await app.say("/受理 1001", user="p-grid", chat=None))[0].text
    await app.say("/办结 1001 已联系电梯公司修好", user="p-grid", chat=None)
    detail = (await app.say("/工单 1001", user="p-sec", chat=None))[0].text
    assert "已办结" in detail and "已联系电梯公司修好" in detail
    assert detail.count("办理→") == 2


async def test_resolving_twice_is_a_conflict(app: AppHarness) -> None:
    await app.say(REPAIR)
    await app.say("/办结 1001 修好了", user="p-grid", chat=None)
    again = await app.say("/办结 1001 修好了", user="p-grid", chat=None)
    assert "当前状态不能" in again[0].text


async def test_staff_of_another_compound_cannot_see_the_ticket(app: AppHarness) -> None:
    await app.say(REPAIR)
    sent = await app.say("/工单 1001", user="p-sec-my", chat=None)
    assert "没有找到工单 1001" in sent[0].text


async def test_complaint_is_acknowledged_without_details(app: AppHarness) -> None:
    text = "楼下饭店的油烟天天往我们楼里灌，还半夜搬货噪音很大，投诉多次没人管"
    sent = await app.say(text)
    assert len(sent) == 1
    assert "饭店" not in sent[0].text and "油烟" not in sent[0].text
    assert "工单号" in sent[0].text


async def test_command_without_number_explains_usage(app: AppHarness) -> None:
    sent = await app.say("/办结", user="p-grid", chat=None)
    assert "/办结 1024" in sent[0].text


async def test_unexpected_error_gets_an_apology_and_the_bot_carries_on(
    app: AppHarness, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.app.services.tickets, "list_active", broken)
    sent = await app.say("/工单", user="p-sec", chat=None)
    assert sent[0].text == common.SORRY
    monkeypatch.undo()
    sent = await app.say("/工单", user="p-sec", chat=None)
    assert "没有待办" in sent[0].text or "待办工单" in sent[0].text


async def test_edit_updates_the_ticket_instead_of_opening_another(app: AppHarness) -> None:
    await app.say(REPAIR, message_id="m-edit")
    await _deliver(app, "m-edit", "g-ty51", "5幢1单元电梯坏了，停在五楼", is_edit=True)
    detail = (await app.say("/工单", user="p-sec", chat=None))[0].text
    assert "待办工单 1 件" in detail
    shown = (await app.say("/工单 1001", user="p-sec", chat=None))[0].text
    assert "停在五楼" in shown


async def test_ticket_list_and_detail_go_privately_even_when_asked_in_a_group(
    app: AppHarness,
) -> None:
    await app.say("楼下饭店的油烟天天往我们楼里灌，投诉多次没人管")
    listed = await app.say("/工单", user="p-grid")
    shown = await app.say("/工单 1001", user="p-grid")
    assert all(not m.chat.is_group and m.chat.chat_id == "p-grid" for m in listed + shown)


async def test_chat_that_starts_like_a_command_is_read_as_chat(app: AppHarness) -> None:
    # Only ticket commands work without a slash, and only with a number right after them.
    for text in ("提醒5楼的邻居晚上十一点后别再剁肉了，吵得老人睡不着", "统计 一下 谁家要换水表"):
        assert all("例如" not in m.text and "统计" not in m.text for m in await app.say(text))
    await app.say(REPAIR)
    assert "已受理" in (await app.say("受理 1001", user="p-grid", chat=None))[0].text


LAMP = "3栋2单元门口的路灯好像不太亮"


async def _asked(app: AppHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lamp report, which the classifier takes for a repair without being sure."""
    _unsure_about(app, monkeypatch, LAMP)
    assert "回复 1 确认" in (await app.say(LAMP))[0].text


def _unsure_about(app: AppHarness, monkeypatch: pytest.MonkeyPatch, report: str) -> None:
    def unsure(text: str) -> Classification:
        found = classify(text)
        if text != report:
            return found
        return replace(found, label=Label.REPAIR, confidence=0.3, urgent=False)

    monkeypatch.setattr(app.app.pipeline, "_classifier", InlineClassifier(unsure))


async def test_a_confirmed_report_keeps_its_own_place_and_cues(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(app, monkeypatch)
    await app.say("1")
    detail = (await app.say("/工单 1001", user="p-sec", chat=None))[0].text
    assert "3栋2单元" in detail
    assert "识别依据：1" not in detail


async def test_a_joined_complaint_does_not_tell_the_group_a_neighbour_complained(
    app: AppHarness,
) -> None:
    complaint = "楼下饭店的油烟天天往我们楼里灌，投诉多次没人管"
    await app.say(complaint, user="u1")
    joined = await app.say(complaint, user="u2")
    assert "1001" in joined[0].text
    assert "邻居" not in joined[0].text


@pytest.mark.parametrize("yes", ["是的", "对", "好的！", "确认", "１", "是的，昨晚就不亮了"])
async def test_the_question_is_answered_in_words_as_well_as_numbers(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch, yes: str
) -> None:
    await _asked(app, monkeypatch)
    filed = await app.say(yes)
    assert "【公共维修】问题，工单号 1001" in filed[0].text


async def test_not_that_type_asks_which_and_a_name_answers(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(app, monkeypatch)
    listed = await app.say("不是")
    assert "请回复序号选择类型" in listed[0].text
    filed = await app.say("报事")
    assert "【小区报事】问题，工单号 1001" in filed[0].text


@pytest.mark.parametrize(("first", "then"), [("不用了", None), ("2", "算了"), ("不对", "0")])
async def test_leave_it_files_nothing(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch, first: str, then: str | None
) -> None:
    await _asked(app, monkeypatch)
    answered = await app.say(first)
    if then is not None:
        answered = await app.say(then)
    assert answered[0].text == texts.NOT_FILED
    assert "没有待办" in (await app.say("/工单", user="p-sec", chat=None))[0].text


async def test_chat_instead_of_an_answer_ends_the_question(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(app, monkeypatch)
    assert await app.say("昨天晚上就这样了") == []
    assert await app.say("1") == []


async def test_a_no_that_opens_a_report_is_read_as_the_report(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(app, monkeypatch)
    alarm = [m.text for m in await app.say("不是，楼下着火了，好大的烟") if m.chat.is_group]
    assert "紧急情况已收到，工单号 1001" in alarm[0]


async def test_a_private_voice_message_names_the_grid_worker_to_call(app: AppHarness) -> None:
    await _deliver(app, "v1", None, is_voice=True)
    assert app.adapter.sent[-1].text.endswith("着急的话请直接联系网格员吴网格员。")


async def test_a_voice_message_leaves_the_question_open_for_a_typed_answer(
    app: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _asked(app, monkeypatch)
    await _deliver(app, "v2", "g-ty51", is_voice=True)
    filed = await app.say("1")
    assert "【公共维修】问题，工单号 1001" in filed[0].text


async def test_a_group_reply_names_the_resident_it_answers_but_not_staff(app: AppHarness) -> None:
    answered = await app.say(REPAIR)
    assert answered[0].reply_to_user_id == "p-res1"
    opened = await app.say("/投票 周六打扫楼道 | 上午 | 下午", user="p-lead")
    notice = next(m for m in opened if m.chat.chat_id == "g-ty51")
    assert "投票" in notice.text and notice.reply_to_user_id is None
