"""Parse the places residents name in messages: buildings, units, rooms and landmarks.

Handles Arabic and Chinese numerals ("12号楼3单元502", "三栋二单元", "2幢1801", "5-2-301")
and common compound landmarks ("东门", "地下车库"). Numbers are returned as Arabic digits,
each part keeps the resident's own word for it (栋, 幢, 号楼 ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_DIGITS |= {"七": 7, "八": 8, "九": 9}
_NUMBER = r"(?:\d{1,3}|[零〇一二两三四五六七八九十百]{1,4})"
_GAP = r"[\s\-—_,，]*"

_BUILDING = re.compile(
    rf"(?P<number>{_NUMBER}|[A-Za-z])\s*(?P<word>号楼|栋|幢|座|号(?={_GAP}(?:{_NUMBER}单元|\d{{3,4}})))"
)
_UNIT = re.compile(rf"{_GAP}(?P<number>{_NUMBER})\s*单元")
# A number followed by 年/月/元... is a date or an amount, not a room.
_ROOM_AFTER = re.compile(
    rf"{_GAP}(?P<number>\d{{3,4}})(?![\d年月日天元块次个分点.])\s*(?:室|号|户|房)?"
)
_ROOM_ALONE = re.compile(r"(?<!\d)(?P<number>\d{3,4})\s*(?:室|户|房间)")
_DASHED = re.compile(r"(?<![\d.])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d.])")

# Longest first, so that "地下车库" wins over "车库" and "小区东门" over "东门".
_LANDMARKS = sorted(
    (
        "东门",
        "西门",
        "南门",
        "北门",
        "正门",
        "大门",
        "侧门",
        "后门",
        "东大门",
        "西大门",
        "南大门",
        "北大门",
        "小区门口",
        "地下车库",
        "地下停车场",
        "地面停车场",
        "停车场",
        "车库",
        "地下室",
        "架空层",
        "自行车棚",
        "车棚",
        "充电棚",
        "垃圾站",
        "垃圾房",
        "垃圾分类点",
        "门卫室",
        "门岗",
        "保安亭",
        "物业办公室",
        "物业中心",
        "居委会",
        "党群服务中心",
        "活动室",
        "中心花园",
        "小花园",
        "花园",
        "小广场",
        "中心广场",
        "广场",
        "健身区",
        "健身器材",
        "儿童乐园",
        "游乐场",
        "篮球场",
        "凉亭",
        "快递柜",
        "快递驿站",
        "菜鸟驿站",
        "消防通道",
        "天台",
        "楼顶",
        "配电房",
        "水泵房",
        "化粪池",
    ),
    key=len,
    reverse=True,
)
_LANDMARK = re.compile("|".join(_LANDMARKS))


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the compound as the resident wrote it, numbers in Arabic digits."""

    building: str | None
    unit: str | None
    room: str | None
    landmark: str | None

    def describe(self) -> str:
        """Short readable form for tickets, e.g. "3栋2单元", "2幢1801室", "东门"."""
        parts = (self.building, self.unit, self.room, self.landmark)
        return "".join(part for part in parts if part)


def chinese_number(text: str) -> int | None:
    """Value of a small number in Arabic or Chinese numerals ("12", "十二", "二十三", "一零二")."""
    if text.isdigit():
        return int(text)
    if "十" not in text and "百" not in text:
        if not all(char in _DIGITS for char in text):
            return None
        return int("".join(str(_DIGITS[char]) for char in text))
    total, current = 0, 0
    for char in text:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _numeral(text: str) -> str:
    value = chinese_number(text)
    return text.upper() if value is None else str(value)


def _landmark(text: str) -> str | None:
    match = _LANDMARK.search(text)
    return match.group(0) if match else None


def parse_location(text: str) -> Location | None:
    """Find the building/unit/room and landmark named in `text` (normalised), or None."""
    dashed = _DASHED.search(text)
    if dashed:
        building, unit, room = dashed.groups()
        return Location(f"{int(building)}栋", f"{int(unit)}单元", f"{room}室", _landmark(text))
    building_text = unit_text = room_text = None
    position = 0
    building = _BUILDING.search(text)
    if building:
        building_text = _numeral(building.group("number")) + building.group("word")
        position = building.end()
    unit = _UNIT.match(text, position) if building else _UNIT.search(text)
    if unit:
        unit_text = _numeral(unit.group("number")) + "单元"
        position = unit.end()
    room = _ROOM_AFTER.match(text, position) if building or unit else _ROOM_ALONE.search(text)
    if room:
        room_text = room.group("number") + "室"
    landmark = _landmark(text)
    if not (building_text or unit_text or room_text or landmark):
        return None
    return Location(building_text, unit_text, room_text, landmark)
