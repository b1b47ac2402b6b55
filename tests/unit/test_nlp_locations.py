"""parse_location(): the buildings, units, rooms and landmarks residents write."""

from __future__ import annotations

import pytest

from nlp import Location, parse_location


@pytest.mark.parametrize(
    ("text", "building", "unit", "room", "landmark"),
    [
        ("3栋2单元楼道灯不亮", "3栋", "2单元", None, None),
        ("5号楼电梯又坏了", "5号楼", None, None, None),
        ("2幢1801漏水", "2幢", None, "1801室", None),
        ("东门有人乱停车", None, None, None, "东门"),
        ("12号楼3单元502家里停电了", "12号楼", "3单元", "502室", None),
        ("地下车库积水了", None, None, None, "地下车库"),
        ("北门的道闸坏了", None, None, None, "北门"),
        ("三栋二单元的门禁坏了", "3栋", "2单元", None, None),
        ("十二号楼门口", "12号楼", None, None, None),
        ("二十三幢楼顶漏水", "23幢", None, None, "楼顶"),
        ("5-2-301楼上漏水", "5栋", "2单元", "301室", None),
        ("我家1801室天花板渗水", None, None, "1801室", None),
        ("A座电梯坏了", "A座", None, None, None),
        ("3号2单元楼道堆满杂物", "3号", "2单元", None, None),
        ("5栋 2单元 301", "5栋", "2单元", "301室", None),
        ("3单元的声控灯坏了", None, "3单元", None, None),
        ("小区东门口垃圾没人清", None, None, None, "东门"),
    ],
)
def test_parse_location(
    text: str, building: str | None, unit: str | None, room: str | None, landmark: str | None
) -> None:
    assert parse_location(text) == Location(building, unit, room, landmark)


@pytest.mark.parametrize(
    "text", ["早上好", "电梯坏了三天了", "坐2号线过来", "今天三天了", "收到", "2023年交的物业费"]
)
def test_no_location(text: str) -> None:
    assert parse_location(text) is None


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("3栋2单元", "3栋2单元"),
        ("2幢1801", "2幢1801室"),
        ("东门", "东门"),
        ("12号楼3单元502", "12号楼3单元502室"),
        ("三栋二单元", "3栋2单元"),
    ],
)
def test_describe(text: str, described: str) -> None:
    location = parse_location(text)
    assert location is not None
    assert location.describe() == described


def test_room_number_is_not_a_date() -> None:
    assert parse_location("5栋2023年换的电梯") == Location("5栋", None, None, None)
