"""Votes: the vote model, who may start and close one, ballots and the quick-poll tally.

The art. 278 arithmetic of owners' decisions lives in `bot/domain/art278.py`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.domain.art278 import (
    DECISION_OPTIONS,
    PASS_THRESHOLDS,
    TURNOUT,
    Ballot,
    Choice,
    DecisionOutcome,
    DecisionResult,
    Matter,
    PassRule,
    Threshold,
    decide,
    find_matter,
    latest_ballots,
    owners_not_voted,
)
from bot.domain.community import Group, Level, Node, Person, Role
from bot.errors import Conflict, InvalidInput, NotAllowed

__all__ = [
    "DECISION_OPTIONS",
    "DEFAULT_DURATIONS",
    "MAX_DURATION",
    "MAX_OPTIONS",
    "MIN_DURATION",
    "PASS_THRESHOLDS",
    "TURNOUT",
    "Ballot",
    "Choice",
    "CommunityTree",
    "DecisionOutcome",
    "DecisionResult",
    "Matter",
    "PassRule",
    "PollResult",
    "Threshold",
    "Vote",
    "VoteKind",
    "VoteState",
    "can_close_vote",
    "can_start_vote",
    "check_ballot_accepted",
    "check_can_close_vote",
    "check_can_start_vote",
    "check_closes_at",
    "decide",
    "default_closes_at",
    "find_matter",
    "latest_ballots",
    "owners_not_voted",
    "tally_poll",
]

MAX_OPTIONS = 9
"""Options of a quick poll: at most nine, so every option is one digit to reply with."""
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(days=90)


class VoteKind(StrEnum):
    """A quick poll of a group, or an owners' decision under art. 278."""

    POLL = "poll"
    DECISION = "decision"


DEFAULT_DURATIONS: dict[VoteKind, timedelta] = {
    VoteKind.POLL: timedelta(days=1),
    VoteKind.DECISION: timedelta(days=7),
}


class VoteState(StrEnum):
    """Life of a vote: open until its deadline or `/close`, or cancelled by its starter."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Vote:
    """One vote in one group; `number` is what users type (`/close 12`), `id` the storage key.

    Decisions have `matter` set and the options 同意 / 反对 / 弃权; `node` is the node whose
    residents (polls) or whose owners' register (decisions) vote. Datetimes are aware UTC.
    """

    id: int
    number: int
    kind: VoteKind
    title: str
    options: tuple[str, ...]
    matter: Matter | None
    group_id: str
    node: str
    starter_id: str
    anonymous: bool
    opens_at: datetime
    closes_at: datetime
    state: VoteState = VoteState.OPEN

    def __post_init__(self) -> None:
        if (self.kind is VoteKind.DECISION) != (self.matter is not None):
            raise ValueError("a decision needs a matter, a poll must not have one")
        if self.kind is VoteKind.DECISION and self.options != DECISION_OPTIONS:
            raise ValueError(f"a decision's options are {DECISION_OPTIONS}")
        if not 2 <= len(self.options) <= MAX_OPTIONS:
            raise ValueError(f"a vote needs 2 to {MAX_OPTIONS} options")
        if self.opens_at.tzinfo is None or self.closes_at.tzinfo is None:
            raise ValueError("vote datetimes must be aware")
        if self.closes_at <= self.opens_at:
            raise ValueError("a vote must close after it opens")

    def accepts_ballots_at(self, at: datetime) -> bool:
        """True while the vote is open and its deadline has not passed."""
        return self.state is VoteState.OPEN and self.opens_at <= at < self.closes_at

    def is_due(self, at: datetime) -> bool:
        """True when the vote is still open but its deadline has come: time to close it."""
        return self.state is VoteState.OPEN and at >= self.closes_at

    def option_title(self, choice: int) -> str:
        """The title of option `choice` (1-based)."""
        return self.options[choice - 1]

    def closed(self) -> Vote:
        """The vote after closing; closing twice is a Conflict."""
        self._check_open()
        return replace(self, state=VoteState.CLOSED)

    def cancelled(self) -> Vote:
        """The vote after cancelling; only an open vote can be cancelled."""
        self._check_open()
        return replace(self, state=VoteState.CANCELLED)

    def _check_open(self) -> None:
        if self.state is not VoteState.OPEN:
            raise Conflict("vote.already_ended", number=self.number)


def default_closes_at(kind: VoteKind, now: datetime) -> datetime:
    """Deadline of a vote started without one: a day for polls, a week for decisions."""
    return now + DEFAULT_DURATIONS[kind]


def check_closes_at(closes_at: datetime, now: datetime) -> None:
    """A deadline must lie between 10 minutes and 90 days ahead; else InvalidInput."""
    if closes_at <= now:
        raise InvalidInput("vote.deadline_past")
    if closes_at - now < MIN_DURATION:
        raise InvalidInput("vote.deadline_too_soon")
    if closes_at - now > MAX_DURATION:
        raise InvalidInput("vote.deadline_too_far")


class CommunityTree(Protocol):
    """What vote rules need of the community tree (`Directory` provides it)."""

    def compound_of(self, node_id: str) -> Node | None:
        """The compound that contains (or is) this node; None for the community."""
        ...


def can_start_vote(person: Person, group: Group, kind: VoteKind, tree: CommunityTree) -> bool:
    """DOMAIN.md "Who may do what": who may start a poll or a decision in `group`.

    Polls: a building leader in their own stairwell's group, a compound secretary in any group of
    their compound, the secretary in any group. Decisions need a compound (the register's scope):
    a compound secretary in their compound's groups, the secretary in any compound's groups.
    A building leader's or compound secretary's `node` is their stairwell or compound.
    """
    compound = tree.compound_of(group.node)
    if person.has(Role.SECRETARY):
        return kind is VoteKind.POLL or compound is not None
    if person.has(Role.COMPOUND_SECRETARY) and compound is not None and compound.id == person.node:
        return True
    return (
        kind is VoteKind.POLL
        and person.has(Role.BUILDING_LEADER)
        and group.level is Level.STAIRWELL
        and group.node == person.node
    )


def check_can_start_vote(person: Person, group: Group, kind: VoteKind, tree: CommunityTree) -> None:
    """Raise NotAllowed (worded as a polite refusal by the handlers) unless `can_start_vote`."""
    if can_start_vote(person, group, kind, tree):
        return
    if kind is VoteKind.DECISION:
        raise NotAllowed("vote.decision_start_not_allowed")
    raise NotAllowed("vote.poll_start_not_allowed")


def can_close_vote(person: Person, vote: Vote, tree: CommunityTree) -> bool:
    """The starter, the secretary, or the compound secretary of the vote's compound may close it."""
    if person.id == vote.starter_id or person.has(Role.SECRETARY):
        return True
    compound = tree.compound_of(vote.node)
    return (
        person.has(Role.COMPOUND_SECRETARY) and compound is not None and compound.id == person.node
    )


def check_can_close_vote(person: Person, vote: Vote, tree: CommunityTree) -> None:
    """Raise NotAllowed unless `can_close_vote`."""
    if not can_close_vote(person, vote, tree):
        raise NotAllowed("vote.close_not_allowed", number=vote.number)


def check_ballot_accepted(vote: Vote, choice: int, at: datetime) -> None:
    """Raise Conflict for a vote that no longer takes ballots, InvalidInput for a bad option."""
    if not vote.accepts_ballots_at(at):
        raise Conflict("ballot.vote_closed", number=vote.number)
    if not 1 <= choice <= len(vote.options):
        raise InvalidInput(
            "ballot.option_out_of_range", number=vote.number, count=len(vote.options)
        )


@dataclass(frozen=True, slots=True)
class PollResult:
    """Counts per option (in option order) and the option numbers with the most votes."""

    counts: tuple[int, ...]
    voters: int
    leaders: tuple[int, ...]


def tally_poll(options: Sequence[str], ballots: Iterable[Ballot]) -> PollResult:
    """Count a quick poll: one vote per voter, the last one counts; bad option numbers raise."""
    counts = [0] * len(options)
    latest = latest_ballots(ballots)
    for voter, choice in latest.items():
        if not 1 <= choice <= len(options):
            raise ValueError(f"ballot of {voter!r} names option {choice} of {len(options)}")
        counts[choice - 1] += 1
    top = max(counts, default=0)
    leaders = tuple(i + 1 for i, count in enumerate(counts) if top and count == top)
    return PollResult(counts=tuple(counts), voters=len(latest), leaders=leaders)
