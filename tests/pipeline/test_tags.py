"""Tags and tag broadcasts (一键推送) as chat transcripts: preview, confirm, cancel, expiry,
scope, quiet hours, and tags set in chat surviving a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.clock import FakeClock
from bot.events import OutgoingMessage
from config.environment import Secrets
from config.settings import Settings
from handlers.texts import tags as texts
from tests.fakes import AppHarness, RecordingAdapter

TZ = ZoneInfo("Asia/Shanghai")
PUSH = "/推送 #老人 明天上午9点社区卫生站免费测血压"
BROADCAST = "【通知】明天上午9点社区卫生站免费测血压\n——陈书记"


def _recipients(sent: list[OutgoingMessage], text: str) -> list[str]:
    """Group ids and person ids that got `text`, in outbox order."""
    return [m.chat.chat_id for m in sent if m.text == text]


async def test_secretary_previews_then_confirms(app: AppHarness) -> None:
    await app.say("/标签 g-my31 老人", user="p-sec", chat=None)
    preview = await app.say(PUSH, user="p-sec", chat=None)
    assert len(preview) == 1
    text = preview[0].text
    assert text.startswith("【推送预览】#老人\n将发给 1 个群、2 人：")
    assert "群：梅园3幢1单元楼道群" in text and "个人：刘阿姨、黄奶奶" in text
    assert BROADCAST in text and "回复 1 确认发送，回复 2 取消" in text
    sent = await app.say("1", user="p-sec", chat=None)
    assert sorted(_recipients(sent, BROADCAST)) == ["g-my31", "p-res1", "p-res3"]
    assert sent[-1].text.startswith("已推送 #老人：1 个群、2 人")
    # The flow is over: another "1" is ordinary chat, nothing is sent again.
    assert _recipients(await app.say("1", user="p-sec", chat=None), BROADCAST) == []


async def test_two_cancels_and_nothing_is_sent(app: AppHarness) -> None:
    await app.say(PUSH, user="p-sec", chat=None)
    sent = await app.say("2", user="p-sec", chat=None)
    assert [m.text for m in sent] == [texts.PUSH_CANCELLED]


async def test_confirmation_expires(app: AppHarness) -> None:
    await app.say(PUSH, user="p-sec", chat=None)
    late = await app.say("1", user="p-sec", chat=None, after=timedelta(minutes=11))
    assert _recipients(late, BROADCAST) == []


async def test_several_tags_reach_each_recipient_once(app: AppHarness) -> None:
    preview = await app.say("/push #老人#独居 #出租户多 停水通知", user="p-sec", chat=None)
    assert "将发给 1 个群、2 人" in preview[0].text
    sent = await app.say("1", user="p-sec", chat=None)
    notice = "【通知】停水通知\n——陈书记"
    assert sorted(_recipients(sent, notice)) == ["g-ty52", "p-res1", "p-res3"]


async def test_compound_secretary_pushes_within_her_compound(app: AppHarness) -> None:
    preview = await app.say("/推送 #老人 明天降温", user="p-sec-ty", chat="g-taoyuan")
    assert "将发给 0 个群、1 人" in preview[0].text and "刘阿姨" in preview[0].text
    sent = await app.say("1", user="p-sec-ty", chat="g-taoyuan")
    assert _recipients(sent, "【通知】明天降温\n——李书记") == ["p-res1"]
    refused = await app.say("/标签 g-my21 红", user="p-sec-ty", chat=None)
    assert refused[0].text == texts.PROBLEMS["tag.outside_scope"].format(name="梅园2幢1单元楼道群")


async def test_residents_and_leaders_may_not_tag_or_push(app: AppHarness) -> None:
    refusal = texts.PROBLEMS["tag.not_allowed"]
    assert (await app.say(PUSH, user="p-lead", chat="g-ty51"))[0].text == refusal
    assert (await app.say("/标签 @刘阿姨 红", user="p-res2", chat="g-ty52"))[0].text == refusal
    assert (await app.say("/标签列表", user="p-grid", chat=None))[0].text == refusal


async def test_untag_takes_back_a_config_tag(app: AppHarness) -> None:
    sent = await app.say("/取消标签 @黄奶奶 老人", user="p-sec", chat=None)
    assert sent[0].text == "已取消黄奶奶的标签：老人。\n现有标签：独居"
    preview = await app.say(PUSH, user="p-sec", chat=None)
    assert "将发给 0 个群、1 人" in preview[0].text and "黄奶奶" not in preview[0].text


async def test_bad_commands_explain_themselves(app: AppHarness) -> None:
    no_tag = texts.PROBLEMS["tag.no_recipients"].format(tags="#没人有")
    assert (await app.say("/推送 #没人有 通知", user="p-sec", chat=None))[0].text == no_tag
    assert (await app.say("/推送 通知内容", user="p-sec", chat=None))[0].text == texts.USAGE_PUSH
    assert (await app.say("/标签 @刘阿姨", user="p-sec", chat=None))[0].text == texts.USAGE_TAG
    unknown = texts.PROBLEMS["tag.unknown_target"].format(name="王大爷")
    assert (await app.say("/标签 @王大爷 老人", user="p-sec", chat=None))[0].text == unknown


async def test_push_in_quiet_hours_waits_for_the_morning(app: AppHarness) -> None:
    app.clock.set(datetime(2026, 12, 1, 22, 0, tzinfo=TZ))
    preview = await app.say(PUSH, user="p-sec", chat=None)
    assert "确认后将于12月2日（星期三）7:30发出" in preview[0].text
    sent = await app.say("1", user="p-sec", chat=None)
    assert _recipients(sent, BROADCAST) == []
    assert sent[-1].text.startswith("已推送 #老人：0 个群、2 人")
    morning = await app.tick(datetime(2026, 12, 2, 7, 30, tzinfo=TZ))
    assert sorted(_recipients(morning, BROADCAST)) == ["p-res1", "p-res3"]


async def test_tags_set_in_chat_survive_a_restart(app: AppHarness, settings: Settings) -> None:
    added = await app.say("/tag @马女士 残疾人、独居", user="p-sec", chat=None)
    assert added[0].text == "已为马女士加上标签：残疾人、独居。\n现有标签：残疾人、独居"
    url = app.app.database.url
    await app.app.stop()
    clock, adapter = FakeClock(app.clock.now()), RecordingAdapter()
    built = build_app(settings, Secrets(), clock=clock, adapters=[adapter], database_url=url)
    await built.start()
    try:
        restarted = AppHarness(built, clock, adapter)
        listing = await restarted.say("/标签列表", user="p-sec", chat="g-fuqiang")
        assert listing[0].chat.chat_id == "p-sec" and not listing[0].chat.is_group
        lines = listing[0].text.splitlines()
        assert "#残疾人：1人（马女士）" in lines
        assert "#独居：2人（黄奶奶、马女士）" in lines
        assert "#出租户多：1个群（桃源5幢2单元楼道群）" in lines
    finally:
        await built.stop()


@pytest.mark.parametrize(("answer", "sent"), [("确认", True), ("好的", True), ("取消", False)])
async def test_a_push_is_confirmed_or_cancelled_in_words(
    app: AppHarness, answer: str, sent: bool
) -> None:
    await app.say("/push #老人 明天降温", user="p-sec", chat=None)
    replies = await app.say(answer, user="p-sec", chat=None)
    assert bool(_recipients(replies, "【通知】明天降温\n——陈书记")) is sent
