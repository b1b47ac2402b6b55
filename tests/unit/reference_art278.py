"""A plain, independent reading of 民法典 art. 278 for property tests of bot/domain/art278.py.

Written without Fractions or the domain code: areas in integer hundredths of a m² (cents),
thresholds by integer cross-multiplication, owners grouped by (name, phone) or "developer".
"""

from __future__ import annotations

from dataclasses import dataclass

THREE_QUARTER_ITEMS = (6, 7, 8)  # 筹集维修资金, 改建重建, 改变共有部分用途/经营


@dataclass(frozen=True)
class Row:
    """One line of the owners' register."""

    room: str
    area_cents: int
    name: str
    phone: str
    developer_unsold: bool


@dataclass(frozen=True)
class PlainResult:
    """What the reference decides."""

    total_cents: int
    total_heads: int
    participating_cents: int
    participating_heads: int
    agree_cents: int
    agree_heads: int
    turnout_met: bool
    area_met: bool
    heads_met: bool
    passed: bool


def owner_of(row: Row) -> tuple[str, str]:
    """Same buyer = same name and phone; all unsold developer units are one owner."""
    if row.developer_unsold:
        return ("developer", "")
    return (row.name, row.phone)


def decide_plain(item: int, rows: list[Row], ballots: list[tuple[str, str]]) -> PlainResult:
    """Decide matter `item` (1..9); `ballots` are (room, "agree"|"oppose"|"abstain") in order.

    A ballot names any room of its owner; the owner's last ballot counts for all their rooms.
    Ballots naming unknown rooms are ignored.
    """
    area_of_owner: dict[tuple[str, str], int] = {}
    owner_of_room: dict[str, tuple[str, str]] = {}
    for row in rows:
        owner = owner_of(row)
        area_of_owner[owner] = area_of_owner.get(owner, 0) + row.area_cents
        owner_of_room[row.room] = owner

    last_choice: dict[tuple[str, str], str] = {}
    for room, choice in ballots:
        if room in owner_of_room:
            last_choice[owner_of_room[room]] = choice

    total_cents = sum(area_of_owner.values())
    total_heads = len(area_of_owner)
    participating_cents = 0
    participating_heads = 0
    agree_cents = 0
    agree_heads = 0
    for owner, choice in last_choice.items():
        participating_cents += area_of_owner[owner]
        participating_heads += 1
        if choice == "agree":
            agree_cents += area_of_owner[owner]
            agree_heads += 1

    if total_heads == 0:
        turnout_met = False
    else:
        turnout_met = (
            3 * participating_cents >= 2 * total_cents
            and 3 * participating_heads >= 2 * total_heads
        )

    if participating_heads == 0:
        area_met = False
        heads_met = False
    elif item in THREE_QUARTER_ITEMS:
        area_met = 4 * agree_cents >= 3 * participating_cents
        heads_met = 4 * agree_heads >= 3 * participating_heads
    else:
        area_met = 2 * agree_cents > participating_cents
        heads_met = 2 * agree_heads > participating_heads

    return PlainResult(
        total_cents=total_cents,
        total_heads=total_heads,
        participating_cents=participating_cents,
        participating_heads=participating_heads,
        agree_cents=agree_cents,
        agree_heads=agree_heads,
        turnout_met=turnout_met,
        area_met=area_met,
        heads_met=heads_met,
        passed=turnout_met and area_met and heads_met,
    )
