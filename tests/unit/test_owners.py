"""The owners' register: CSV import with every bad row reported, owner keys, area and headcount."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.domain.owners import (
    DEVELOPER_KEY,
    RegisterError,
    RowProblem,
    normalize_phone,
    owner_key,
    parse_register,
)
from bot.errors import InvalidInput
from handlers.texts.errors import render

GOOD = """\
room,area,owner,phone,telegram_user_id,wechat_id
1-2-501,89.50,张伟,13800138000,1001,wxid_zhangwei
1-2-502,120,王芳,139 1234 5678,,
1-2-601,60.25,张伟,138-0013-8000,,
1-2-602,75.00,李娜,021-12345678,1003;1004,
"""


def test_a_good_register_parses_with_exact_areas_and_owner_keys() -> None:
    register = parse_register(GOOD, "owners.csv")
    assert [unit.room for unit in register.units] == ["1-2-501", "1-2-502", "1-2-601", "1-2-602"]
    assert register.units[0].area == Decimal("89.50")
    assert register.total_area == Fraction("344.75")
    assert register.total_heads == 3  # 张伟 owns 501 and 601 and counts once
    zhang = register.owners()[register.units[0].owner_key]
    assert zhang.rooms == ("1-2-501", "1-2-601")
    assert zhang.area == Fraction("149.75")
    assert register.units[1].phone == "13912345678"
    assert register.units[3].telegram_user_ids == ("1003", "1004")
    assert register.owner_of_telegram_user("1004") == register.units[3].owner_key
    assert register.owner_of_wechat_user("wxid_zhangwei") == zhang.key
    assert register.owner_of_room(" 1-2-602 ") == register.units[3].owner_key
    assert register.owner_of_room("9-9-999") is None


def test_the_owner_key_is_name_and_phone_normalised_and_reveals_neither() -> None:
    key = owner_key("张伟", "13800138000")
    assert key == owner_key(" 张 伟 ", "+86 138-0013-8000")
    assert key == owner_key("张伟", "0086 13800138000")
    assert key != owner_key("张伟", "13912345678")
    assert key != owner_key("张薇", "13800138000")
    assert owner_key("买买提·艾力", "13800138000") == owner_key("买买提•艾力", "13800138000")
    assert "张伟" not in key
    assert "13800138000" not in key


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("(021) 1234-5678", "02112345678"),
        ("0571-87654321", "057187654321"),
        ("１３８００１３８０００", "13800138000"),
        ("12345", None),
        ("2800138000", None),
        ("1380013800a", None),
        ("", None),
    ],
)
def test_normalize_phone(raw: str, normalized: str | None) -> None:
    assert normalize_phone(raw) == normalized


def test_chinese_headers_a_bom_any_column_order_and_a_unit_suffix() -> None:
    text = "\ufeff业主,室号,电话,面积,微信号\n刘洋,301,13800138000,88.8㎡,wxid_liu\n\n"
    register = parse_register(text, "名册.csv")
    unit = register.units[0]
    assert (unit.room, unit.area, unit.owner_name) == ("301", Decimal("88.8"), "刘洋")
    assert unit.wechat_ids == ("wxid_liu",)
    assert unit.telegram_user_ids == ()


def test_the_developers_unsold_units_share_one_key_and_need_no_phone() -> None:
    text = (
        "room,area,owner,phone,telegram_user_id,wechat_id,developer_unsold\n"
        "101,100,开发商,,,,是\n"
        "102,100,某某置业有限公司,,,,1\n"
        "103,100,张伟,13800138000,,,0\n"
    )
    register = parse_register(text, "owners.csv")
    assert [unit.owner_key for unit in register.units[:2]] == [DEVELOPER_KEY, DEVELOPER_KEY]
    assert register.units[2].developer_unsold is False
    assert register.total_heads == 2
    assert register.owners()[DEVELOPER_KEY].area == 200


BAD = """\
room,area,owner,phone,telegram_user_id,wechat_id
101,89.50,张伟,13800138000,,
102,89,5,王芳,13912345678,,
103,-12,李娜,13800138001,,
104,0,刘洋,13800138002,,
101,70,陈静,13800138003,,
105,70.123,杨磊,13800138004,,
106,abc,,12345,,
107,80,赵敏,13800138005,12a,
108,80,孙丽,13800138006,1001,
109,80,周杰,13800138007,1001,
110,80
"""


def test_every_bad_row_is_reported_with_its_line_and_column() -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(BAD, "bad.csv")
    problems = {(p.line, p.column) for p in caught.value.problems}
    assert problems == {
        (3, None),  # 89,5 splits into one column too many
        (4, "area"),  # negative
        (5, "area"),  # zero
        (6, "room"),  # duplicate of line 2
        (7, "area"),  # three decimals
        (8, "area"),  # not a number
        (8, "owner"),  # missing
        (8, "phone"),  # malformed
        (9, "telegram_user_id"),  # not digits
        (11, "telegram_user_id"),  # 1001 already belongs to 孙丽 on line 10
        (12, None),  # too few columns
    }
    report = caught.value.report()
    assert "bad.csv:6: column 'room': duplicate room '101' (first on line 2)" in report
    assert "bad.csv:12: expected 6 columns, found 2" in report
    assert "bad.csv:4: column 'area': area must be positive" in report
    assert report.splitlines()[0].startswith("bad.csv:3:")


def test_a_register_error_is_a_user_error_with_a_chinese_summary() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_register(BAD, "bad.csv")
    assert isinstance(caught.value, RegisterError)
    assert render(caught.value) == "业主名册有 11 处错误，未导入任何内容。"
    assert str(caught.value).startswith("11 problem(s) in bad.csv:\nbad.csv:3:")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", RowProblem(1, None, "empty file: expected a header row")),
        ("room,area,owner\n", RowProblem(1, "phone", "required column is missing from the header")),
        ("room,area,owner,phone,楼层\n1,2,3,4,5\n", RowProblem(1, "楼层", "unknown column")),
        (
            "room,area,owner,phone,室号\n",
            RowProblem(1, "室号", "column 'room' appears twice"),
        ),
        ("room,area,owner,phone\n", RowProblem(1, None, "the file has a header but no owner rows")),
    ],
)
def test_a_bad_header_stops_the_import(text: str, problem: RowProblem) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(text, "x.csv")
    assert problem in caught.value.problems


def test_line_numbers_count_physical_lines_through_quoted_newlines_and_blanks() -> None:
    text = 'room,area,owner,phone\n\n201,"80","张\n伟",13800138000\n202,-1,王芳,13912345678\n'
    with pytest.raises(RegisterError) as caught:
        parse_register(text, "x.csv")
    assert [(p.line, p.column) for p in caught.value.problems] == [(5, "area")]


def test_a_bad_developer_flag_and_a_missing_phone_for_an_owner() -> None:
    text = "room,area,owner,phone,developer_unsold\n1,80,张伟,,\n2,80,开发商,,maybe\n"
    with pytest.raises(RegisterError) as caught:
        parse_register(text, "x.csv")
    assert {(p.line, p.column) for p in caught.value.problems} == {
        (2, "phone"),
        (3, "developer_unsold"),
        (3, "phone"),  # not known to be the developer's, so it needs a phone
    }


def test_reimporting_the_same_content_gives_the_same_digest() -> None:
    first = parse_register(GOOD, "a.csv")
    lines = GOOD.splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:])])
    assert parse_register(reordered, "b.csv").digest() == first.digest()
    changed = GOOD.replace("89.50", "89.51")
    assert parse_register(changed, "a.csv").digest() != first.digest()


def test_possible_duplicates_shows_one_name_with_two_phones() -> None:
    text = (
        "room,area,owner,phone\n"
        "1,80,张伟,13800138000\n2,80,张伟,13912345678\n3,80,王芳,13700000000\n"
    )
    register = parse_register(text, "x.csv")
    assert register.total_heads == 3
    assert register.possible_duplicates() == [("1", "2")]


@pytest.mark.parametrize(
    ("cell", "area"),
    [("89.5", "89.50"), ("89.500", "89.50"), (" 120 ", "120"), ("90.25平方米", "90.25")],
)
def test_an_area_is_read_exactly(cell: str, area: str) -> None:
    register = parse_register(f"room,area,owner,phone\n1,{cell},张伟,13800138000\n", "x.csv")
    assert register.units[0].area == Decimal(area)
    assert register.total_area == Fraction(Decimal(area))


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("", "missing area"),
        ("89.505", "more than two decimals"),
        ("1e3", "not a number"),
        ("八十", "not a number"),
        ("9" * 40, "implausibly large"),
    ],
)
def test_a_bad_area_is_explained(cell: str, message: str) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(f"room,area,owner,phone\n1,{cell},张伟,13800138000\n", "x.csv")
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, "area")
    assert message in problem.message
