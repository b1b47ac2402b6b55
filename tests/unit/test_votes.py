"""Votes: art. 278 arithmetic (against a plain reference), matters, the vote model and its rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.community import Directory, Group, Level, Node, Person, Role
from bot.domain.owners import DEVELOPER_KEY, OwnerUnit, Register, owner_key, parse_register
from bot.domain.votes import (
    DECISION_OPTIONS,
    Ballot,
    Choice,
    DecisionOutcome,
    Matter,
    PassRule,
    Vote,
    VoteKind,
    VoteState,
    can_close_vote,
    can_start_vote,
    check_ballot_accepted,
    check_can_start_vote,
    decide,
    find_matter,
    owners_not_voted,
    tally_poll,
)
from bot.errors import Conflict, InvalidInput, NotAllowed
from handlers.texts.errors import render
from tests.unit.reference_art278 import Row, decide_plain

CHOICES = {"agree": Choice.AGREE, "oppose": Choice.OPPOSE, "abstain": Choice.ABSTAIN}
NOW = datetime(2025, 11, 26, 2, 0, tzinfo=UTC)


def register_of(*owners: tuple[str, str]) -> Register:
    """A register from (owner name, area) pairs, one unit each; same name = same owner."""
    units = tuple(
        OwnerUnit(
            room=str(101 + index),
            area=Decimal(area),
            owner_name=name,
            phone="13800138000",
            owner_key=DEVELOPER_KEY if name == "开发商" else owner_key(name, "13800138000"),
            developer_unsold=name == "开发商",
        )
        for index, (name, area) in enumerate(owners)
    )
    return Register(units=units, source="test")


def ballots_of(**choices: str) -> list[Ballot]:
    """Ballots by owner name: ballots_of(张伟="agree")."""
    return [
        Ballot(DEVELOPER_KEY if name == "开发商" else owner_key(name, "13800138000"), CHOICES[c])
        for name, c in choices.items()
    ]


# -- the property test against the plain reference ---------------------------------------

NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊")
PHONES = ("13800138000", "13912345678", "02112345678")
HEADER = "room,area,owner,phone,telegram_user_id,wechat_id,developer_unsold"

OWNERS = len(NAMES) * len(PHONES)
ROUND_AREAS = st.sampled_from([2_500, 5_000, 7_500, 10_000])


@st.composite
def registers_and_ballots(draw: st.DrawFn) -> tuple[list[Row], list[tuple[str, str]]]:
    """Random registers (multi-unit owners, developer units) and ballots (changed, strangers)."""
    # Equal or round areas in two registers of three make exact 1/2, 2/3 and 3/4 shares common.
    areas = draw(st.sampled_from([st.just(9_000), ROUND_AREAS, st.integers(1, 50_000)]))
    # An owner (name and phone) by number; numbers past the last owner are developer units.
    owners = st.integers(0, OWNERS + 1)
    drawn = draw(st.lists(st.tuples(owners, areas), min_size=1, max_size=24))
    rows = [
        Row(
            room=f"{index + 1}-{101 + index}",
            area_cents=cents,
            name="开发商" if owner >= OWNERS else NAMES[owner // len(PHONES)],
            phone="" if owner >= OWNERS else PHONES[owner % len(PHONES)],
            developer_unsold=owner >= OWNERS,
        )
        for index, (owner, cents) in enumerate(drawn)
    ]
    rooms = [row.room for row in rows] + ["stranger"]
    voters = st.integers(0, len(rooms) - 1).map(rooms.__getitem__)
    ballots = draw(st.lists(st.tuples(voters, st.sampled_from(sorted(CHOICES))), max_size=40))
    return rows, ballots


def to_csv(rows: list[Row]) -> str:
    lines = [HEADER]
    for row in rows:
        area = f"{row.area_cents // 100}.{row.area_cents % 100:02d}"
        flag = "1" if row.developer_unsold else "0"
        lines.append(f"{row.room},{area},{row.name},{row.phone},,,{flag}")
    return "\n".join(lines) + "\n"


@settings(max_examples=2000, deadline=None, database=None)
@given(registers_and_ballots(), st.sampled_from(list(Matter)))
def test_decide_agrees_with_the_plain_reference(
    case: tuple[list[Row], list[tuple[str, str]]], matter: Matter
) -> None:
    rows, room_ballots = case
    register = parse_register(to_csv(rows), "random.csv")
    ballots = [
        Ballot(register.owner_of_room(room) or "owner:stranger", CHOICES[choice])
        for room, choice in room_ballots
    ]

    result = decide(matter, register, ballots)
    expected = decide_plain(matter.item, rows, room_ballots)

    assert result.total_area == Fraction(expected.total_cents, 100)
    assert result.total_heads == expected.total_heads
    assert result.participating_area == Fraction(expected.participating_cents, 100)
    assert result.participating_heads == expected.participating_heads
    assert result.agree_area == Fraction(expected.agree_cents, 100)
    assert result.agree_heads == expected.agree_heads
    assert result.turnout_met == expected.turnout_met
    assert result.area_threshold_met == expected.area_met
    assert result.heads_threshold_met == expected.heads_met
    assert result.passed == expected.passed
    assert set(result.ineligible_voters) == (
        {"owner:stranger"} if any(room == "stranger" for room, _ in room_ballots) else set()
    )


# -- boundary cases -------------------------------------------------------------------------


def test_exactly_two_thirds_turnout_meets_the_floor() -> None:
    register = register_of(("张伟", "100.00"), ("王芳", "100.00"), ("李娜", "100.00"))
    result = decide(Matter.USE_MAINTENANCE_FUND, register, ballots_of(张伟="agree", 王芳="agree"))
    assert result.turnout_area == Fraction(2, 3)
    assert result.turnout_heads == Fraction(2, 3)
    assert result.turnout_met
    assert result.passed
    assert result.outcome is DecisionOutcome.PASSED


def test_just_under_two_thirds_of_the_area_fails_the_floor() -> None:
    register = register_of(("张伟", "100.00"), ("王芳", "100.00"), ("李娜", "100.01"))
    result = decide(Matter.USE_MAINTENANCE_FUND, register, ballots_of(张伟="agree", 王芳="agree"))
    assert result.turnout_heads == Fraction(2, 3)
    assert result.turnout_area == Fraction(20000, 30001)
    assert not result.turnout_area_met
    assert result.turnout_heads_met
    assert not result.turnout_met
    assert result.area_threshold_met
    assert result.heads_threshold_met
    assert result.outcome is DecisionOutcome.TURNOUT_TOO_LOW
    assert not result.passed


def test_just_under_two_thirds_of_the_heads_fails_the_floor() -> None:
    register = register_of(*((name, "10.00") for name in ("张伟", "王芳", "李娜", "刘洋")))
    result = decide(Matter.OTHER_MAJOR, register, ballots_of(张伟="agree", 王芳="agree"))
    assert result.turnout_heads == Fraction(1, 2)
    assert result.outcome is DecisionOutcome.TURNOUT_TOO_LOW


def test_exactly_one_half_is_not_more_than_half() -> None:
    register = register_of(*((name, "80.00") for name in ("张伟", "王芳", "李娜", "刘洋")))
    ballots = ballots_of(张伟="agree", 王芳="agree", 李娜="oppose", 刘洋="oppose")
    result = decide(Matter.PROPERTY_MANAGER, register, ballots)
    assert result.agree_area_share == Fraction(1, 2)
    assert result.agree_heads_share == Fraction(1, 2)
    assert not result.area_threshold_met
    assert not result.heads_threshold_met
    assert result.outcome is DecisionOutcome.AREA_AND_HEADS_SHORT


def test_half_of_the_area_fails_even_with_more_than_half_of_the_heads() -> None:
    register = register_of(
        ("张伟", "150.00"), ("王芳", "50.00"), ("李娜", "50.00"), ("刘洋", "50.00")
    )
    ballots = ballots_of(张伟="oppose", 王芳="agree", 李娜="agree", 刘洋="agree")
    result = decide(Matter.OWNERS_COMMITTEE, register, ballots)
    assert result.agree_area_share == Fraction(1, 2)
    assert result.agree_heads_share == Fraction(3, 4)
    assert result.outcome is DecisionOutcome.AREA_SHORT


def test_more_than_half_passes_an_ordinary_matter() -> None:
    register = register_of(("张伟", "80.01"), ("王芳", "80.00"), ("李娜", "80.00"))
    ballots = ballots_of(张伟="agree", 王芳="agree", 李娜="oppose")
    assert decide(Matter.MANAGEMENT_STATUTE, register, ballots).passed


def test_exactly_three_quarters_passes_matters_six_to_eight() -> None:
    register = register_of(*((name, "90.00") for name in ("张伟", "王芳", "李娜", "刘洋")))
    ballots = ballots_of(张伟="agree", 王芳="agree", 李娜="agree", 刘洋="oppose")
    for matter in (Matter.RAISE_MAINTENANCE_FUND, Matter.REBUILD, Matter.COMMON_PARTS_USE):
        result = decide(matter, register, ballots)
        assert result.rule is PassRule.THREE_QUARTERS
        assert result.agree_area_share == Fraction(3, 4)
        assert result.passed


def test_just_under_three_quarters_fails_matters_six_to_eight_only() -> None:
    register = register_of(
        ("张伟", "90.00"), ("王芳", "90.00"), ("李娜", "90.00"), ("刘洋", "90.01")
    )
    ballots = ballots_of(张伟="agree", 王芳="agree", 李娜="agree", 刘洋="oppose")
    assert decide(Matter.COMMON_PARTS_USE, register, ballots).outcome is DecisionOutcome.AREA_SHORT
    assert decide(Matter.USE_MAINTENANCE_FUND, register, ballots).passed


def test_a_multi_unit_owner_votes_once_with_the_sum_of_their_areas() -> None:
    register = register_of(
        ("张伟", "60.00"), ("张伟", "70.00"), ("张伟", "80.50"), ("王芳", "100.00"), ("李娜", "90")
    )
    result = decide(Matter.OWNERS_COMMITTEE, register, ballots_of(张伟="agree", 王芳="oppose"))
    assert register.total_heads == 3
    assert result.total_heads == 3
    assert result.agree_area == Fraction("210.50")
    assert result.agree_heads == 1
    assert result.participating_heads == 2
    assert result.turnout_met  # 310.50 of 400.50 m² and 2 of 3 owners
    assert result.outcome is DecisionOutcome.HEADS_SHORT  # 1 of 2 heads is not more than half


def test_the_developers_unsold_units_count_as_one_owner() -> None:
    register = register_of(("开发商", "100.00"), ("开发商", "100.00"), ("开发商", "100.00"))
    register = Register(units=register.units + register_of(("张伟", "100.00")).units)
    assert register.total_heads == 2
    assert register.total_area == 400
    result = decide(Matter.REBUILD, register, ballots_of(开发商="agree"))
    assert result.turnout_area == Fraction(3, 4)
    assert result.turnout_heads == Fraction(1, 2)
    assert not result.turnout_met


def test_abstentions_take_part_but_do_not_agree() -> None:
    register = register_of(("张伟", "100.00"), ("王芳", "100.00"), ("李娜", "100.00"))
    result = decide(
        Matter.USE_MAINTENANCE_FUND,
        register,
        ballots_of(张伟="abstain", 王芳="abstain", 李娜="abstain"),
    )
    assert result.turnout_met
    assert result.abstain_heads == 3
    assert result.abstain_area == 300
    assert result.agree_area_share == 0
    assert result.outcome is DecisionOutcome.AREA_AND_HEADS_SHORT


def test_an_abstention_weighs_like_an_opposition_in_the_pass_test() -> None:
    register = register_of(("张伟", "100.00"), ("王芳", "100.00"), ("李娜", "100.00"))
    agreed = ballots_of(张伟="agree", 王芳="abstain", 李娜="agree")
    assert decide(Matter.OTHER_MAJOR, register, agreed).passed
    split = ballots_of(张伟="agree", 王芳="abstain")
    assert not decide(Matter.OTHER_MAJOR, register, split).passed


def test_the_last_ballot_of_an_owner_counts_and_strangers_are_listed() -> None:
    register = register_of(("张伟", "100.00"), ("王芳", "100.00"))
    ballots = [*ballots_of(张伟="oppose"), Ballot("owner:nobody", 1), *ballots_of(张伟="agree")]
    result = decide(Matter.OTHER_MAJOR, register, ballots)
    assert (result.agree_heads, result.oppose_heads) == (1, 0)
    assert result.ineligible_voters == ("owner:nobody",)


def test_owners_not_voted_lists_each_owner_once_in_register_order() -> None:
    register = register_of(("张伟", "60"), ("王芳", "70"), ("张伟", "80"), ("李娜", "90"))
    missing = owners_not_voted(register, ballots_of(王芳="abstain"))
    assert [owner.name for owner in missing] == ["张伟", "李娜"]
    assert missing[0].rooms == ("101", "103")


def test_no_ballots_and_an_empty_register() -> None:
    register = register_of(("张伟", "100.00"))
    assert decide(Matter.OTHER_MAJOR, register, []).outcome is DecisionOutcome.TURNOUT_TOO_LOW
    empty = decide(Matter.OTHER_MAJOR, Register(units=()), [])
    assert empty.outcome is DecisionOutcome.NO_OWNERS
    assert empty.turnout_area == 0


# -- matters --------------------------------------------------------------------------------


def test_items_six_to_eight_need_three_quarters() -> None:
    rules = [matter.rule for matter in Matter]
    assert [matter.item for matter in Matter] == list(range(1, 10))
    assert rules == [PassRule.MAJORITY] * 5 + [PassRule.THREE_QUARTERS] * 3 + [PassRule.MAJORITY]


@pytest.mark.parametrize(
    ("typed", "matter"),
    [
        ("使用维修资金", Matter.USE_MAINTENANCE_FUND),
        ("动用维修基金", Matter.USE_MAINTENANCE_FUND),
        ("使用建筑物及其附属设施的维修资金", Matter.USE_MAINTENANCE_FUND),
        ("筹集维修资金", Matter.RAISE_MAINTENANCE_FUND),
        ("续筹维修基金", Matter.RAISE_MAINTENANCE_FUND),
        ("选举或更换业主委员会", Matter.OWNERS_COMMITTEE),
        ("选业委会", Matter.OWNERS_COMMITTEE),
        ("选举业主委员会或者更换业主委员会成员", Matter.OWNERS_COMMITTEE),
        ("换物业", Matter.PROPERTY_MANAGER),
        ("选聘和解聘物业服务企业", Matter.PROPERTY_MANAGER),
        ("改变共有部分用途或利用共有部分从事经营活动", Matter.COMMON_PARTS_USE),
        ("改变共有部分的用途或者利用共有部分从事经营活动", Matter.COMMON_PARTS_USE),
        ("出租公共空间", Matter.COMMON_PARTS_USE),
        ("改建、重建建筑物及其附属设施", Matter.REBUILD),
        ("改建重建建筑物", Matter.REBUILD),
        ("管理规约", Matter.MANAGEMENT_STATUTE),
        ("制定和修改业主大会议事规则", Matter.RULES_OF_PROCEDURE),
        ("其他重大事项", Matter.OTHER_MAJOR),
        ("6", Matter.RAISE_MAINTENANCE_FUND),
        ("６", Matter.RAISE_MAINTENANCE_FUND),
        ("第六项", Matter.RAISE_MAINTENANCE_FUND),
        ("（八）", Matter.COMMON_PARTS_USE),
        ("三", Matter.OWNERS_COMMITTEE),
    ],
)
def test_find_matter_reads_names_aliases_and_numbers(typed: str, matter: Matter) -> None:
    assert find_matter(typed) is matter


@pytest.mark.parametrize("typed", ["", "维修", "10", "十", "买菜", "use_maintenance_fund"])
def test_find_matter_rejects_what_is_no_matter(typed: str) -> None:
    assert find_matter(typed) is None


def test_every_name_of_a_matter_finds_that_matter() -> None:
    for matter in Matter:
        for name in (matter.legal_name, matter.short_name, *matter.aliases, str(matter.item)):
            assert find_matter(name) is matter, name


# -- quick polls ----------------------------------------------------------------------------


def test_tally_poll_counts_the_last_ballot_of_each_voter() -> None:
    ballots = [Ballot("a", 1), Ballot("b", 2), Ballot("a", 2), Ballot("c", 3), Ballot("d", 2)]
    result = tally_poll(("东门", "西门", "南门"), ballots)
    assert result.counts == (0, 3, 1)
    assert result.voters == 4
    assert result.leaders == (2,)


def test_tally_poll_reports_ties_and_no_leader_without_ballots() -> None:
    assert tally_poll(("是", "否"), [Ballot("a", 1), Ballot("b", 2)]).leaders == (1, 2)
    assert tally_poll(("是", "否"), []).leaders == ()


def test_tally_poll_refuses_an_option_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="option 3"):
        tally_poll(("是", "否"), [Ballot("a", 3)])


# -- the vote model and who may do what -----------------------------------------------------


def make_vote(**changes: object) -> Vote:
    vote = Vote(
        id=7,
        number=12,
        kind=VoteKind.POLL,
        title="自行车棚放哪里",
        options=("东门", "西门"),
        matter=None,
        group_id="g-1-2",
        node="s-1-2",
        starter_id="leader-1-2",
        anonymous=False,
        opens_at=NOW,
        closes_at=NOW + timedelta(days=1),
    )
    return replace(vote, **changes)  # type: ignore[arg-type]


def test_a_vote_takes_ballots_only_while_open() -> None:
    vote = make_vote()
    assert vote.accepts_ballots_at(NOW + timedelta(hours=1))
    assert not vote.accepts_ballots_at(NOW + timedelta(days=1))
    assert vote.is_due(NOW + timedelta(days=1))
    closed = vote.closed()
    assert closed.state is VoteState.CLOSED
    assert not closed.accepts_ballots_at(NOW + timedelta(hours=1))
    with pytest.raises(Conflict):
        closed.closed()
    with pytest.raises(Conflict):
        closed.cancelled()
    assert vote.cancelled().state is VoteState.CANCELLED


def test_check_ballot_accepted_explains_late_and_impossible_ballots() -> None:
    vote = make_vote()
    check_ballot_accepted(vote, 2, NOW)
    with pytest.raises(Conflict) as late:
        check_ballot_accepted(vote, 1, NOW + timedelta(days=2))
    assert render(late.value) == "第 12 号投票已经截止，这一票没有计入。"
    with pytest.raises(InvalidInput):
        check_ballot_accepted(vote, 3, NOW)


def test_vote_invariants() -> None:
    with pytest.raises(ValueError, match="matter"):
        make_vote(kind=VoteKind.DECISION)
    with pytest.raises(ValueError, match="options"):
        make_vote(kind=VoteKind.DECISION, matter=Matter.OTHER_MAJOR)
    decision = make_vote(
        kind=VoteKind.DECISION, matter=Matter.OTHER_MAJOR, options=DECISION_OPTIONS
    )
    assert decision.option_title(Choice.ABSTAIN) == "弃权"
    with pytest.raises(ValueError, match="close after"):
        make_vote(closes_at=NOW)
    with pytest.raises(ValueError, match="options"):
        make_vote(options=("只有一个",))


NODES = [
    Node("c", "幸福社区", Level.COMMUNITY, None),
    Node("x1", "一小区", Level.COMPOUND, "c"),
    Node("x2", "二小区", Level.COMPOUND, "c"),
    Node("s-1-2", "1幢2单元", Level.STAIRWELL, "x1"),
    Node("s-1-3", "1幢3单元", Level.STAIRWELL, "x1"),
    Node("s-2-1", "二小区1幢1单元", Level.STAIRWELL, "x2"),
]
GROUPS = {
    "community": Group("g-c", "社区大群", Level.COMMUNITY, "c"),
    "compound1": Group("g-x1", "一小区群", Level.COMPOUND, "x1"),
    "stair12": Group("g-1-2", "1幢2单元群", Level.STAIRWELL, "s-1-2"),
    "stair13": Group("g-1-3", "1幢3单元群", Level.STAIRWELL, "s-1-3"),
    "stair21": Group("g-2-1", "二小区1幢1单元群", Level.STAIRWELL, "s-2-1"),
}
PEOPLE = {
    "secretary": Person("sec", "周书记", (Role.SECRETARY,), "c"),
    "compound_secretary": Person("cs1", "吴书记", (Role.COMPOUND_SECRETARY,), "x1"),
    "building_leader": Person("leader-1-2", "刘阿姨", (Role.BUILDING_LEADER,), "s-1-2"),
    "grid_worker": Person("gw1", "小郑", (Role.GRID_WORKER,), "x1"),
    "resident": Person("r1", "王先生", (Role.RESIDENT,), "s-1-2"),
}
TREE = Directory(NODES, GROUPS.values(), PEOPLE.values())

# (who, group, may start a poll, may start a decision)
PERMISSIONS = [
    ("secretary", "community", True, False),
    ("secretary", "stair21", True, True),
    ("secretary", "compound1", True, True),
    ("compound_secretary", "compound1", True, True),
    ("compound_secretary", "stair13", True, True),
    ("compound_secretary", "stair21", False, False),
    ("compound_secretary", "community", False, False),
    ("building_leader", "stair12", True, False),
    ("building_leader", "stair13", False, False),
    ("building_leader", "compound1", False, False),
    ("grid_worker", "stair12", False, False),
    ("resident", "stair12", False, False),
]


@pytest.mark.parametrize(("who", "where", "poll", "decision"), PERMISSIONS)
def test_who_may_start_a_vote(who: str, where: str, poll: bool, decision: bool) -> None:
    person, group = PEOPLE[who], GROUPS[where]
    assert can_start_vote(person, group, VoteKind.POLL, TREE) is poll
    assert can_start_vote(person, group, VoteKind.DECISION, TREE) is decision


def test_a_refusal_is_polite_and_names_who_may() -> None:
    with pytest.raises(NotAllowed) as poll:
        check_can_start_vote(PEOPLE["resident"], GROUPS["stair12"], VoteKind.POLL, TREE)
    assert "楼道长" in render(poll.value)
    with pytest.raises(NotAllowed) as decision:
        check_can_start_vote(PEOPLE["building_leader"], GROUPS["stair12"], VoteKind.DECISION, TREE)
    assert "小区书记" in render(decision.value)
    check_can_start_vote(PEOPLE["building_leader"], GROUPS["stair12"], VoteKind.POLL, TREE)


def test_who_may_close_a_vote() -> None:
    vote = make_vote()
    assert can_close_vote(PEOPLE["building_leader"], vote, TREE)
    assert can_close_vote(PEOPLE["secretary"], vote, TREE)
    assert can_close_vote(PEOPLE["compound_secretary"], vote, TREE)
    assert not can_close_vote(PEOPLE["resident"], vote, TREE)
    assert not can_close_vote(PEOPLE["compound_secretary"], make_vote(node="s-2-1"), TREE)
