"""What Linli says about reminders, visitor days (开门接访) and the duty roster."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.reminders import Recurrence, RecurrenceKind, Reminder
from bot.domain.visitor_days import VisitorDay, VisitorReminderKind

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
USAGE_REMIND = (
    "请写上时间和内容，例如：/提醒 明天上午9点 收电费\n"
    "时间可以写：明天、后天、下周三、12月11日、15:30、下午三点、晚上8点半、每周一、每月5号"
)
USAGE_CANCEL = "请写上提醒编号，例如：/取消提醒 3（发送 /提醒列表 查看编号）"
USAGE_DUTY = "请写上日期和接访的人，例如：/值班 12月11日 陈书记"
NO_REMINDERS = "目前没有进行中的提醒。"
NOT_ALLOWED_REMIND = "抱歉，楼道长可在本楼道群、小区书记可在本小区的群里设置提醒，社区书记不限。"


def clock(moment: time) -> str:
    """ "9:00", "15:30"."""
    return f"{moment.hour}:{moment.minute:02d}"


def day_label(day: date) -> str:
    """ "12月11日（星期五）"."""
    return f"{day.month}月{day.day}日（{WEEKDAY_NAMES[day.weekday()]}）"


def moment_label(instant: datetime, timezone: ZoneInfo) -> str:
    """ "12月11日（星期五）9:00" in the community's time zone."""
    local = instant.astimezone(timezone)
    return f"{day_label(local.date())}{clock(local.time())}"


def recurrence_label(recurrence: Recurrence) -> str:
    """ "每周一 9:00", "每月5号 9:00" (short months: on their last day)."""
    if recurrence.kind is RecurrenceKind.DAILY:
        return f"每天 {clock(recurrence.at)}"
    if recurrence.kind is RecurrenceKind.WEEKLY:
        return f"每{WEEKDAY_NAMES[recurrence.day - 1].replace('星期', '周')} {clock(recurrence.at)}"
    return f"每月{recurrence.day}号 {clock(recurrence.at)}"


def reminder_set(reminder: Reminder, timezone: ZoneInfo, *, quiet: bool) -> str:
    """Confirmation after `/remind`."""
    assert reminder.next_at is not None
    when = moment_label(reminder.next_at, timezone)
    if reminder.recurrence is not None:
        when = f"{recurrence_label(reminder.recurrence)}（下次 {when}）"
    where = "在本群" if reminder.group_id is not None else "私聊您"
    text = f"好的，已设置提醒 {reminder.id}：{when}{where}提醒“{reminder.text}”。"
    if quiet:
        text += "\n这个时间在免打扰时段，提醒会在早上免打扰结束后发出。"
    return text + f"\n取消请发：/取消提醒 {reminder.id}"


def reminder_message(reminder: Reminder) -> str:
    """The reminder itself."""
    return f"【提醒】{reminder.text}\n（{reminder.creator_name}设置）"


def reminder_missed(reminder: Reminder, due_at: datetime, timezone: ZoneInfo) -> str:
    """To the creator: an occurrence was skipped because Linli was offline."""
    return (
        f"抱歉，邻里小助手在{moment_label(due_at, timezone)}前后暂停服务，"
        f"提醒 {reminder.id}“{reminder.text}”没能按时发出，已跳过这一次。"
    )


def reminder_list(reminders: Sequence[Reminder], timezone: ZoneInfo) -> str:
    """`/reminders`."""
    if not reminders:
        return NO_REMINDERS
    lines = [f"进行中的提醒 {len(reminders)} 个："]
    for reminder in reminders:
        assert reminder.next_at is not None
        when = moment_label(reminder.next_at, timezone)
        if reminder.recurrence is not None:
            when = f"{recurrence_label(reminder.recurrence)}，下次 {when}"
        lines.append(f"{reminder.id}. {when}：{reminder.text}")
    lines.append("取消请发：/取消提醒 编号")
    return "\n".join(lines)


def reminder_cancelled(reminder: Reminder) -> str:
    """Confirmation after `/cancel`."""
    return f"已取消提醒 {reminder.id}“{reminder.text}”。"


def _duty(day: VisitorDay) -> str:
    return "、".join(day.duty) if day.duty else "社区工作人员"


def visitor_day(day: VisitorDay, kind: VisitorReminderKind) -> str:
    """The reminder posted in the groups the evening before and the morning of a visitor day."""
    when = "明天" if kind is VisitorReminderKind.DAY_BEFORE else "今天"
    place = f"在{day.place}" if day.place else "在社区"
    moved = (
        f"（{day.moved_from.month}月{day.moved_from.day}日遇节假日顺延）" if day.moved_from else ""
    )
    return (
        f"【开门接访】{when}{day_label(day.day)}{clock(day.start)}–{clock(day.end)}"
        f"{place}开门接访{moved}，{_duty(day)}接待。\n"
        "有事想当面说的欢迎来；也可以提前在群里说明，我们先登记。"
    )


def visitor_day_missed(day: VisitorDay) -> str:
    """To the secretaries: a visitor day's reminders could not be sent in time."""
    return (
        f"【系统提示】邻里小助手暂停服务期间错过了{day_label(day.day)}开门接访的群提醒，"
        "接访日已过，没有补发。"
    )


def duty_set(day: VisitorDay) -> str:
    """Confirmation after `/duty`."""
    return f"好的，{day_label(day.day)}开门接访由{_duty(day)}接待，提醒里会写明。"


def next_visitor_day(day: VisitorDay | None) -> str:
    """One line for the digest."""
    if day is None:
        return "近期没有开门接访日。"
    return (
        f"下次开门接访：{day_label(day.day)}{clock(day.start)}–{clock(day.end)}，{_duty(day)}接待。"
    )
