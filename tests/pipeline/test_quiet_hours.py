"""Quiet hours (21:30-07:30): pushes wait for the morning; answers and urgent alerts do not."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.fakes import AppHarness

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPAIR = "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的"


async def test_rating_question_after_a_late_resolve_waits_for_the_morning(
    app: AppHarness,
) -> None:
    await app.say(REPAIR)
    late = datetime(2026, 12, 1, 22, 0, tzinfo=SHANGHAI)
    app.clock.set(late)
    sent = await app.say("/办结 1001 已换灯泡", user="p-grid", chat=None, after=timedelta(0))
    # The staff member's own answer comes at once; the resident's question does not.
    assert [m.chat.chat_id for m in sent] == ["p-grid"]
    assert await app.tick(datetime(2026, 12, 2, 7, 0, tzinfo=SHANGHAI)) == []
    morning = await app.tick(datetime(2026, 12, 2, 7, 30, tzinfo=SHANGHAI))
    assert [m.chat.chat_id for m in morning] == ["p-res1"]
    assert "请您评价" in morning[0].text


async def test_urgent_alerts_go_out_at_night(app: AppHarness) -> None:
    app.clock.set(datetime(2026, 12, 1, 23, 0, tzinfo=SHANGHAI))
    sent = await app.say("救命 电梯困人了 有人被关在5幢1单元电梯里出不来", after=timedelta(0))
    assert {"p-grid", "p-lead"} <= {m.chat.chat_id for m in sent if not m.chat.is_group}
