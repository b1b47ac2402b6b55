"""Vote commands, 截止 deadlines and ballot replies, as residents and staff type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.vote_commands import (
    DecisionCommand,
    PaperBallotCommand,
    PollCommand,
    parse_deadline,
    parse_decision_command,
    parse_paper_ballot,
    parse_poll_command,
    parse_vote_number,
    read_ballot,
    to_number,
)
from bot.domain.votes import DECISION_OPTIONS, Matter, Vote, VoteKind
from bot.errors import InvalidInput
from handlers.texts.errors import render

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 11, 26, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)  # a Wednesday


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12月5日18:00", local(12, 5, 18)),
        ("12月5日 18：00", local(12, 5, 18)),
        ("１２月５日１８:３０", local(12, 5, 18, 30)),
        ("12月5号18点", local(12, 5, 18)),
        ("12月5日下午3点15分", local(12, 5, 15, 15)),
        ("12月5日", local(12, 5, 23, 59)),
        ("十二月五日", local(12, 5, 23, 59)),
        ("11月1日", local(11, 1, 23, 59, year=2026)),  # already past this year
        ("明天18点", local(11, 27, 18)),
        ("明天", local(11, 27, 23, 59)),
        ("明晚8点", local(11, 27, 20)),
        ("后天上午9点半", local(11, 28, 9, 30)),
        ("今晚8点", local(11, 26, 20)),
        ("3天后", local(11, 29, 10)),
        ("三天后", local(11, 29, 10)),
        ("2小时后", local(11, 26, 12)),
        ("半小时后", local(11, 26, 10, 30)),
        ("1周后", local(12, 3, 10)),
        ("周五18点", local(11, 28, 18)),
        ("星期三9点", local(12, 3, 9)),  # today 09:00 has passed
        ("下周一", local(12, 1, 23, 59)),
        ("2026-12-05 18:00", local(12, 5, 18, year=2026)),
        ("2026/12/5", local(12, 5, 23, 59, year=2026)),
        ("2026年1月3日20:00", local(1, 3, 20, year=2026)),
        ("18:30", local(11, 26, 18, 30)),
        ("晚上8点", local(11, 26, 20)),
    ],
)
def test_parse_deadline(typed: str, expected: datetime) -> None:
    parsed = parse_deadline(typed, NOW, SHANGHAI)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("typed", ["", "下个月", "2月30日", "25点", "12月5日99:00", "昨天", "asap"])
def test_parse_deadline_explains_the_forms_it_reads(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_deadline(typed, NOW, SHANGHAI)
    assert "可以这样写：12月5日18:00" in render(caught.value)


@pytest.mark.parametrize(
    ("typed", "number"),
    [("3", 3), ("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("二十五", 25)],
)
def test_to_number(typed: str, number: int) -> None:
    assert to_number(typed) == number


@pytest.mark.parametrize("typed", ["", "十十", "一二", "百", "a", "二十五六"])
def test_to_number_rejects_what_is_no_number(typed: str) -> None:
    assert to_number(typed) is None


# -- /vote and /decide ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "自行车棚放哪里 | 东门 | 西门 截止 12月5日18:00 匿名",
            PollCommand("自行车棚放哪里", ("东门", "西门"), local(12, 5, 18), anonymous=True),
        ),
        (
            "自行车棚放哪里｜东门｜西门｜南门",
            PollCommand("自行车棚放哪里", ("东门", "西门", "南门"), None, anonymous=False),
        ),
        (
            "周末活动 | 包饺子 | 看电影 匿名 截止 明天18点",
            PollCommand("周末活动", ("包饺子", "看电影"), local(11, 27, 18), anonymous=True),
        ),
        (
            "周末活动|包饺子|看电影|截止：3天后",
            PollCommand("周末活动", ("包饺子", "看电影"), local(11, 29, 10), anonymous=False),
        ),
        (
            "周末活动 | 包饺子 | 看电影 [截止 12月5日] [匿名]",
            PollCommand("周末活动", ("包饺子", "看电影"), local(12, 5, 23, 59), anonymous=True),
        ),
    ],
)
def test_parse_poll_command(args: str, expected: PollCommand) -> None:
    assert parse_poll_command(args, NOW, SHANGHAI) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("", "/投票 标题 | 选项1 | 选项2"),
        ("自行车棚放哪里", "/投票 标题 | 选项1 | 选项2"),
        ("自行车棚放哪里 | 东门", "/投票 标题 | 选项1 | 选项2"),
        ("| 东门 | 西门", "/投票 标题 | 选项1 | 选项2"),
        ("车棚 | 东门 | | 西门", "有一个选项是空的"),
        ("车棚 | 东门 | 东门", "一样"),
        ("车棚 | " + " | ".join(str(n) for n in range(10)), "最多 9 个"),
        ("车棚 | 东门 截止 明天 | 西门 截止 后天", "截止时间只能写一个"),
        ("车棚 | 东门 | 西门 截止 下个月", "没看懂截止时间「下个月」"),
        ("车棚 | 东门 | 西门 截止 11月26日9点", "太远"),  # next year's 26 Nov: past 90 days
        ("车棚 | 东门 | 西门 截止 5分钟后", "太近"),
        ("车棚" * 31 + " | 东门 | 西门", "标题太长"),
    ],
)
def test_parse_poll_command_tells_the_right_form(args: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_poll_command(args, NOW, SHANGHAI)
    assert message in render(caught.value)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "使用维修资金 更换3号楼电梯 截止 12月20日",
            DecisionCommand(
                Matter.USE_MAINTENANCE_FUND, "更换3号楼电梯", local(12, 20, 23, 59), False
            ),
        ),
        (
            "选业委会 第二届业主委员会选举",
            DecisionCommand(Matter.OWNERS_COMMITTEE, "第二届业主委员会选举", None, False),
        ),
        (
            "6 续筹维修资金 匿名",
            DecisionCommand(Matter.RAISE_MAINTENANCE_FUND, "续筹维修资金", None, True),
        ),
        (
            "出租公共空间 | 一楼架空层出租给快递驿站",
            DecisionCommand(Matter.COMMON_PARTS_USE, "一楼架空层出租给快递驿站", None, False),
        ),
    ],
)
def test_parse_decision_command(args: str, expected: DecisionCommand) -> None:
    assert parse_decision_command(args, NOW, SHANGHAI) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("", "/表决 事项 标题"),
        ("使用维修资金", "/表决 事项 标题"),
        ("买菜 今天买什么", "没看懂事项「买菜」"),
        ("使用维修资金 更换电梯 截止 昨天", "没看懂截止时间"),
    ],
)
def test_parse_decision_command_tells_the_right_form(args: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decision_command(args, NOW, SHANGHAI)
    assert message in render(caught.value)


def test_vote_numbers_and_paper_ballots() -> None:
    assert [parse_vote_number(text) for text in ("12", "#12", "第12号", " １２ ")] == [12] * 4
    with pytest.raises(InvalidInput) as caught:
        parse_vote_number("最近那个")
    assert "/结束投票 12" in render(caught.value)
    assert parse_paper_ballot("12 1-2-501 同意") == PaperBallotCommand(12, "1-2-501", "同意")
    with pytest.raises(InvalidInput) as caught:
        parse_paper_ballot("12 同意")
    assert "/纸质票" in render(caught.value)


# -- ballots --------------------------------------------------------------------------------

POLL = Vote(
    id=1,
    number=12,
    kind=VoteKind.POLL,
    title="自行车棚放哪里",
    options=("东门", "西门", "南门"),
    matter=None,
    group_id="g",
    node="n",
    starter_id="s",
    anonymous=False,
    opens_at=NOW,
    closes_at=NOW + timedelta(days=1),
)
DECISION = Vote(
    id=2,
    number=13,
    kind=VoteKind.DECISION,
    title="更换电梯",
    options=DECISION_OPTIONS,
    matter=Matter.USE_MAINTENANCE_FUND,
    group_id="g",
    node="n",
    starter_id="s",
    anonymous=False,
    opens_at=NOW,
    closes_at=NOW + timedelta(days=7),
)


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("1", 1),
        ("１", 1),
        ("一", 1),
        ("二", 2),
        ("②", 2),
        (" 3 ", 3),
        ("第2个", 2),
        ("选3", 3),
        ("投1号", 1),
        ("2号选项", 2),
        ("选项2", 2),
        ("选择第2项", 2),
        ("西门", 2),
        ("西门！", 2),
        ("我选西门", 2),
    ],
)
def test_read_a_poll_ballot(text: str, choice: int) -> None:
    assert read_ballot(text, POLL) == choice


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("1", 1),
        ("同意", 1),
        ("赞成", 1),
        ("支持", 1),
        ("我同意", 1),
        ("同意！", 1),
        ("反对", 2),
        ("不同意", 2),
        ("我投反对票", 2),
        ("弃权", 3),
        ("３", 3),
        ("三", 3),
    ],
)
def test_read_a_decision_ballot(text: str, choice: int) -> None:
    assert read_ballot(text, DECISION) == choice


@pytest.mark.parametrize(
    "text",
    ["+1", "好的", "收到", "谢谢刘阿姨", "2023", "13800138000", "同意，但是希望早点修好电梯", ""],
)
@pytest.mark.parametrize("vote", [POLL, DECISION], ids=["poll", "decision"])
def test_ordinary_chat_is_not_a_ballot(text: str, vote: Vote) -> None:
    assert read_ballot(text, vote) is None


def test_words_of_a_decision_are_no_ballot_in_a_poll() -> None:
    assert read_ballot("同意", POLL) is None


@pytest.mark.parametrize(
    ("text", "vote", "message"),
    [
        ("4", POLL, "没有第 4 号选项。请回复 1 到 3 之间的一个数字。"),
        ("选5", DECISION, "没有第 5 号选项。请回复：1 同意，2 反对，3 弃权。"),
        ("1和2", POLL, "每人只能选一项。"),
        ("1 2", DECISION, "每人只能选一项。"),
        ("投什么", POLL, "没看懂您的选择。"),
        ("我选西门", DECISION, "没看懂您的选择。"),
    ],
)
def test_an_unreadable_ballot_gets_an_answer(text: str, vote: Vote, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_ballot(text, vote)
    assert render(caught.value).startswith(message)
