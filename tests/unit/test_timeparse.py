"""parse_when: the Chinese time expressions people type after /提醒, as a table."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.reminders import Recurrence, RecurrenceKind
from nlp.timeparse import chinese_number, parse_when

TZ = ZoneInfo("Asia/Shanghai")
# Thursday 10 December 2026, 10:00 in Shanghai.
NOW = datetime(2026, 12, 10, 10, 0, tzinfo=TZ)


def _at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


ONE_OFF = [
    ("明天上午9点 收电费", _at(12, 11, 9), "收电费"),
    ("明天 收电费", _at(12, 11, 9), "收电费"),
    ("后天 打疫苗", _at(12, 12, 9), "打疫苗"),
    ("大后天下午两点 开会", _at(12, 13, 14), "开会"),
    ("下周三 交材料", _at(12, 16, 9), "交材料"),
    ("下周三下午3点半 交材料", _at(12, 16, 15, 30), "交材料"),
    ("周五 大扫除", _at(12, 11, 9), "大扫除"),
    ("这周六上午10点 义诊", _at(12, 12, 10), "义诊"),
    ("星期一 例会", _at(12, 14, 9), "例会"),
    ("15:30 取快递", _at(12, 10, 15, 30), "取快递"),
    ("15：30 取快递", _at(12, 10, 15, 30), "取快递"),
    ("9:30 明早的事", _at(12, 11, 9, 30), "明早的事"),
    ("下午三点 测血压", _at(12, 10, 15), "测血压"),
    ("晚上8点半 关好门窗", _at(12, 10, 20, 30), "关好门窗"),
    ("晚上八点半 关好门窗", _at(12, 10, 20, 30), "关好门窗"),
    ("中午12点 送餐", _at(12, 10, 12), "送餐"),
    ("中午1点 送餐", _at(12, 10, 13), "送餐"),
    ("3点 开会", _at(12, 10, 15), "开会"),
    ("9点一刻 开会", _at(12, 11, 9, 15), "开会"),
    ("十点十五分 开会", _at(12, 10, 10, 15), "开会"),
    ("12月11日 开门接访", _at(12, 11, 9), "开门接访"),
    ("12月11号下午2点 开门接访", _at(12, 11, 14), "开门接访"),
    ("十二月十一日 开门接访", _at(12, 11, 9), "开门接访"),
    ("1月5日 缴费", _at(1, 5, 9, year=2027), "缴费"),
    ("2027年3月1日 换届", _at(3, 1, 9, year=2027), "换届"),
    ("2027-03-01 换届", _at(3, 1, 9, year=2027), "换届"),
    ("20号 交物业费", _at(12, 20, 9), "交物业费"),
    ("5号 交物业费", _at(1, 5, 9, year=2027), "交物业费"),
    ("明天上午 收电费", _at(12, 11, 9), "收电费"),
    ("明晚 倒垃圾", _at(12, 11, 20), "倒垃圾"),
    ("今晚9点 锁门", _at(12, 10, 21), "锁门"),
    ("明天早上7点 晨练", _at(12, 11, 7), "晨练"),
    ("半小时后 关火", _at(12, 10, 10, 30), "关火"),
    ("两个小时后 关火", _at(12, 10, 12), "关火"),
    ("10分钟后 关火", _at(12, 10, 10, 10), "关火"),
    ("明天上午9点，收电费", _at(12, 11, 9), "收电费"),
]


@pytest.mark.parametrize(("text", "expected", "rest"), ONE_OFF, ids=[c[0] for c in ONE_OFF])
def test_one_off_expressions(text: str, expected: datetime, rest: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert when is not None
    assert when.recurrence is None
    assert when.at == expected
    assert when.rest == rest


RECURRING = [
    ("每月5号 交物业费", Recurrence(RecurrenceKind.MONTHLY, time(9), 5), "交物业费"),
    ("每月五号上午10点 交物业费", Recurrence(RecurrenceKind.MONTHLY, time(10), 5), "交物业费"),
    ("每个月31日 对账", Recurrence(RecurrenceKind.MONTHLY, time(9), 31), "对账"),
    ("每周一 例会", Recurrence(RecurrenceKind.WEEKLY, time(9), 1), "例会"),
    ("每周一下午3点 例会", Recurrence(RecurrenceKind.WEEKLY, time(15), 1), "例会"),
    ("每星期日 大扫除", Recurrence(RecurrenceKind.WEEKLY, time(9), 7), "大扫除"),
    ("每天晚上8点 锁门", Recurrence(RecurrenceKind.DAILY, time(20), 0), "锁门"),
    ("每天 7:30 广播", Recurrence(RecurrenceKind.DAILY, time(7, 30), 0), "广播"),
]


@pytest.mark.parametrize(("text", "expected", "rest"), RECURRING, ids=[c[0] for c in RECURRING])
def test_recurring_expressions(text: str, expected: Recurrence, rest: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert when is not None
    assert when.at is None
    assert when.recurrence == expected
    assert when.rest == rest


@pytest.mark.parametrize(
    "text",
    ["收电费", "8号楼 停水", "三楼漏水", "", "25:00 开会", "每月40号 交费", "十三月一日 开会"],
)
def test_texts_without_a_time_expression(text: str) -> None:
    assert parse_when(text, NOW, TZ) is None


def test_a_time_already_past_today_means_tomorrow() -> None:
    when = parse_when("9点 开会", NOW, TZ)
    assert when is not None and when.at == _at(12, 11, 9)


def test_the_result_is_the_same_whatever_zone_now_is_given_in() -> None:
    utc_now = NOW.astimezone(ZoneInfo("UTC"))
    new_york_now = NOW.astimezone(ZoneInfo("America/New_York"))
    assert parse_when("明天上午9点 x", utc_now, TZ) == parse_when("明天上午9点 x", NOW, TZ)
    assert parse_when("明天上午9点 x", new_york_now, TZ) == parse_when("明天上午9点 x", NOW, TZ)


@pytest.mark.parametrize(
    ("text", "value"),
    [("15", 15), ("十", 10), ("十五", 15), ("二十", 20), ("二十一", 21), ("三十一", 31), ("两", 2),
     ("一二", 12), ("十十", None), ("abc", None)],
)  # fmt: skip
def test_chinese_numbers(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize(
    ("recurrence", "after", "expected"),
    [
        (Recurrence(RecurrenceKind.MONTHLY, time(9), 31), _at(11, 1, 0), _at(11, 30, 9)),
        (Recurrence(RecurrenceKind.MONTHLY, time(9), 31), _at(12, 1, 0), _at(12, 31, 9)),
        (
            Recurrence(RecurrenceKind.MONTHLY, time(9), 30),
            _at(2, 1, 0, year=2027),
            _at(2, 28, 9, year=2027),
        ),
        (Recurrence(RecurrenceKind.WEEKLY, time(9), 1), _at(12, 14, 9), _at(12, 21, 9)),
        (Recurrence(RecurrenceKind.DAILY, time(20), 0), _at(12, 10, 19), _at(12, 10, 20)),
    ],
)
def test_recurrence_next_occurrence(
    recurrence: Recurrence, after: datetime, expected: datetime
) -> None:
    assert recurrence.next_after(after, TZ) == expected
