"""Owners' decisions under 民法典 art. 278: the nine matters, their thresholds and the tally.

All arithmetic is exact (`fractions.Fraction`); 以上 includes the number itself (民法典 art. 1259).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from fractions import Fraction

from bot.domain.owners import Owner, Register


class PassRule(StrEnum):
    """How many of the participating area and headcount must agree."""

    MAJORITY = "majority"  # 过半数: strictly more than one half
    THREE_QUARTERS = "three_quarters"  # 四分之三以上: three quarters or more


@dataclass(frozen=True, slots=True)
class Threshold:
    """A share that must be reached: `share > fraction`, or `>=` when `inclusive` (以上)."""

    fraction: Fraction
    inclusive: bool

    def met(self, part: Fraction | int, whole: Fraction | int) -> bool:
        """True when part/whole reaches the threshold; nothing of nothing never does."""
        if whole <= 0:
            return False
        share = Fraction(part) / whole
        return share >= self.fraction if self.inclusive else share > self.fraction


TURNOUT = Threshold(Fraction(2, 3), inclusive=True)
"""Art. 278 §2: owners holding 2/3 以上 of the area and 2/3 以上 of the headcount take part."""

PASS_THRESHOLDS: dict[PassRule, Threshold] = {
    PassRule.MAJORITY: Threshold(Fraction(1, 2), inclusive=False),
    PassRule.THREE_QUARTERS: Threshold(Fraction(3, 4), inclusive=True),
}


class Matter(StrEnum):
    """The nine matters of 民法典 art. 278 §1 that the owners decide together."""

    RULES_OF_PROCEDURE = "rules_of_procedure"
    MANAGEMENT_STATUTE = "management_statute"
    OWNERS_COMMITTEE = "owners_committee"
    PROPERTY_MANAGER = "property_manager"
    USE_MAINTENANCE_FUND = "use_maintenance_fund"
    RAISE_MAINTENANCE_FUND = "raise_maintenance_fund"
    REBUILD = "rebuild"
    COMMON_PARTS_USE = "common_parts_use"
    OTHER_MAJOR = "other_major"

    @property
    def item(self) -> int:
        """The matter's item number (一) to (九) in art. 278 §1."""
        return list(Matter).index(self) + 1

    @property
    def legal_name(self) -> str:
        """The matter as art. 278 §1 words it."""
        return _MATTER_NAMES[self][0]

    @property
    def short_name(self) -> str:
        """A short name for messages, e.g. 使用维修资金."""
        return _MATTER_NAMES[self][1]

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other names residents type for the matter (选业委会, 出租公共空间, ...)."""
        return tuple(_MATTER_NAMES[self][2].split())

    @property
    def rule(self) -> PassRule:
        """Art. 278 §2: items (六)–(八) need three quarters, the others more than half."""
        special = (Matter.RAISE_MAINTENANCE_FUND, Matter.REBUILD, Matter.COMMON_PARTS_USE)
        return PassRule.THREE_QUARTERS if self in special else PassRule.MAJORITY


_MATTER_NAMES: dict[Matter, tuple[str, str, str]] = {
    # legal wording, short name, aliases residents type (space-separated)
    Matter.RULES_OF_PROCEDURE: (
        "制定和修改业主大会议事规则",
        "制定和修改议事规则",
        "议事规则 制定议事规则 修改议事规则 业主大会议事规则",
    ),
    Matter.MANAGEMENT_STATUTE: (
        "制定和修改管理规约",
        "制定和修改管理规约",
        "管理规约 制定管理规约 修改管理规约",
    ),
    Matter.OWNERS_COMMITTEE: (
        "选举业主委员会或者更换业主委员会成员",
        "选举或更换业主委员会",
        "选举业主委员会 更换业主委员会 更换业主委员会成员 业主委员会换届 选业委会 换业委会 "
        "选举业委会 更换业委会 业委会换届 业委会选举",
    ),
    Matter.PROPERTY_MANAGER: (
        "选聘和解聘物业服务企业或者其他管理人",
        "选聘和解聘物业服务企业",
        "选聘物业 解聘物业 选物业 换物业 更换物业 选聘物业服务企业 解聘物业服务企业",
    ),
    Matter.USE_MAINTENANCE_FUND: (
        "使用建筑物及其附属设施的维修资金",
        "使用维修资金",
        "动用维修资金 用维修资金 维修资金使用",
    ),
    Matter.RAISE_MAINTENANCE_FUND: (
        "筹集建筑物及其附属设施的维修资金",
        "筹集维修资金",
        "续筹维修资金 补缴维修资金 补筹维修资金",
    ),
    Matter.REBUILD: (
        "改建、重建建筑物及其附属设施",
        "改建重建建筑物",
        "改建 重建 改建重建 改扩建",
    ),
    Matter.COMMON_PARTS_USE: (
        "改变共有部分的用途或者利用共有部分从事经营活动",
        "改变共有部分用途或利用共有部分从事经营活动",
        "改变共有部分用途 利用共有部分从事经营活动 出租公共空间 出租共有部分 公共空间出租 "
        "共有部分经营 改变公共部分用途 公共区域经营",
    ),
    Matter.OTHER_MAJOR: (
        "有关共有和共同管理权利的其他重大事项",
        "其他重大事项",
        "重大事项 其他",
    ),
}

_CHINESE_ITEMS = "一二三四五六七八九"


def _matter_key(text: str) -> str:
    """Fold what residents type so that wording variants of one name compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("或者", "或").replace("基金", "资金")
    return re.sub(r"[\s、，,。.的()（）第项]", "", text)


_MATTER_INDEX: dict[str, Matter] = {
    _matter_key(alias): matter
    for matter, (legal, short, aliases) in _MATTER_NAMES.items()
    for alias in (legal, short, *aliases.split(), str(matter.item), _CHINESE_ITEMS[matter.item - 1])
}


def find_matter(text: str) -> Matter | None:
    """The matter a resident means: a name, an alias (选业委会), `6`, `第六项` or `（六）`."""
    return _MATTER_INDEX.get(_matter_key(text))


class Choice(IntEnum):
    """A decision ballot, numbered like the options residents reply with."""

    AGREE = 1  # 同意
    OPPOSE = 2  # 反对
    ABSTAIN = 3  # 弃权


DECISION_OPTIONS = ("同意", "反对", "弃权")
"""Options of every owners' decision, in `Choice` order."""


@dataclass(frozen=True, slots=True)
class Ballot:
    """One ballot: the voter (owner key for decisions, person id for polls), 1-based option."""

    voter: str
    choice: int


def latest_ballots(ballots: Iterable[Ballot]) -> dict[str, int]:
    """Each voter's last choice: a later ballot replaces an earlier one (votes are changeable)."""
    latest: dict[str, int] = {}
    for ballot in ballots:
        latest[ballot.voter] = ballot.choice
    return latest


class DecisionOutcome(StrEnum):
    """Why a decision passed or failed; texts for each live in handlers/texts."""

    PASSED = "passed"
    NO_OWNERS = "no_owners"
    TURNOUT_TOO_LOW = "turnout_too_low"
    AREA_SHORT = "area_short"
    HEADS_SHORT = "heads_short"
    AREA_AND_HEADS_SHORT = "area_and_heads_short"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The art. 278 arithmetic of one decision; shares are of the participating totals."""

    matter: Matter
    rule: PassRule
    total_area: Fraction
    total_heads: int
    agree_area: Fraction
    oppose_area: Fraction
    abstain_area: Fraction
    agree_heads: int
    oppose_heads: int
    abstain_heads: int
    ineligible_voters: tuple[str, ...]

    @property
    def participating_area(self) -> Fraction:
        """Area of every owner who cast a ballot, 弃权 included."""
        return self.agree_area + self.oppose_area + self.abstain_area

    @property
    def participating_heads(self) -> int:
        """Owners who cast a ballot, 弃权 included."""
        return self.agree_heads + self.oppose_heads + self.abstain_heads

    @property
    def turnout_area(self) -> Fraction:
        """Participating share of the total exclusive area."""
        return _share(self.participating_area, self.total_area)

    @property
    def turnout_heads(self) -> Fraction:
        """Participating share of the total headcount."""
        return _share(Fraction(self.participating_heads), Fraction(self.total_heads))

    @property
    def turnout_area_met(self) -> bool:
        """Owners holding 2/3 以上 of the total exclusive area took part."""
        return TURNOUT.met(self.participating_area, self.total_area)

    @property
    def turnout_heads_met(self) -> bool:
        """2/3 以上 of all owners took part."""
        return TURNOUT.met(self.participating_heads, self.total_heads)

    @property
    def turnout_met(self) -> bool:
        """Both turnout floors reached: 2/3 以上 of the area and of the headcount."""
        return self.turnout_area_met and self.turnout_heads_met

    @property
    def agree_area_share(self) -> Fraction:
        """同意 area as a share of the participating area."""
        return _share(self.agree_area, self.participating_area)

    @property
    def agree_heads_share(self) -> Fraction:
        """同意 owners as a share of the participating owners."""
        return _share(Fraction(self.agree_heads), Fraction(self.participating_heads))

    @property
    def area_threshold_met(self) -> bool:
        """The matter's threshold is reached by area."""
        return PASS_THRESHOLDS[self.rule].met(self.agree_area, self.participating_area)

    @property
    def heads_threshold_met(self) -> bool:
        """The matter's threshold is reached by headcount."""
        return PASS_THRESHOLDS[self.rule].met(self.agree_heads, self.participating_heads)

    @property
    def outcome(self) -> DecisionOutcome:
        """Passed, or the first reason it did not."""
        if self.total_heads == 0:
            return DecisionOutcome.NO_OWNERS
        if not self.turnout_met:
            return DecisionOutcome.TURNOUT_TOO_LOW
        if self.area_threshold_met and self.heads_threshold_met:
            return DecisionOutcome.PASSED
        if self.area_threshold_met:
            return DecisionOutcome.HEADS_SHORT
        if self.heads_threshold_met:
            return DecisionOutcome.AREA_SHORT
        return DecisionOutcome.AREA_AND_HEADS_SHORT

    @property
    def passed(self) -> bool:
        """Turnout met and both thresholds of the matter reached."""
        return self.outcome is DecisionOutcome.PASSED


def _share(part: Fraction, whole: Fraction) -> Fraction:
    return part / whole if whole else Fraction(0)


def decide(matter: Matter, register: Register, ballots: Iterable[Ballot]) -> DecisionResult:
    """Tally an owners' decision under art. 278 against the register.

    Ballots are by owner key; a later ballot of the same owner replaces the earlier one. An owner
    votes once for all their units: their area is the sum of their units, their headcount is one
    (法释〔2009〕7号 arts. 8–9; the developer's unsold units are one owner, `DEVELOPER_KEY`).
    弃权 is a ballot: the owner takes part, so their area and head count toward turnout and toward
    the participating totals the thresholds are measured against, but not toward 同意 — an
    abstention therefore weighs like 反对 in the pass test. Ballots of keys not in the register
    are not counted and are listed in `ineligible_voters`.
    """
    owners = register.owners()
    areas = dict.fromkeys(Choice, Fraction(0))
    heads = dict.fromkeys(Choice, 0)
    ineligible: list[str] = []
    for voter, choice in latest_ballots(ballots).items():
        owner = owners.get(voter)
        if owner is None:
            ineligible.append(voter)
            continue
        areas[Choice(choice)] += owner.area
        heads[Choice(choice)] += 1
    return DecisionResult(
        matter=matter,
        rule=matter.rule,
        total_area=register.total_area,
        total_heads=len(owners),
        agree_area=areas[Choice.AGREE],
        oppose_area=areas[Choice.OPPOSE],
        abstain_area=areas[Choice.ABSTAIN],
        agree_heads=heads[Choice.AGREE],
        oppose_heads=heads[Choice.OPPOSE],
        abstain_heads=heads[Choice.ABSTAIN],
        ineligible_voters=tuple(ineligible),
    )


def owners_not_voted(register: Register, ballots: Iterable[Ballot]) -> tuple[Owner, ...]:
    """Owners of the register without a ballot yet, in register order (for paced reminders)."""
    voted = latest_ballots(ballots).keys()
    return tuple(owner for key, owner in register.owners().items() if key not in voted)
