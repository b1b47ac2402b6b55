"""The ticket loop's rules as data: states and transitions, routing and deadlines, ratings,
and what makes two requests "the same problem" (duplicates)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise

from bot.domain.community import Role
from bot.events import RequestType


class TicketState(StrEnum):
    """Where a ticket stands (DOMAIN.md, Ticket states)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    MERGED = "merged"
    REFERRED = "referred"


ACTIVE_STATES = frozenset(
    {TicketState.OPEN, TicketState.ACCEPTED, TicketState.IN_PROGRESS, TicketState.REOPENED}
)
# States in which nobody has taken the ticket on yet: the response deadline runs.
AWAITING_RESPONSE = frozenset({TicketState.OPEN, TicketState.REOPENED})

TRANSITIONS: Mapping[TicketState, frozenset[TicketState]] = {
    TicketState.OPEN: frozenset(
        {
            TicketState.ACCEPTED,
            TicketState.IN_PROGRESS,
            TicketState.RESOLVED,
            TicketState.MERGED,
            TicketState.REFERRED,
        }
    ),
    TicketState.ACCEPTED: frozenset(
        {TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.MERGED, TicketState.REFERRED}
    ),
    TicketState.IN_PROGRESS: frozenset(
        {TicketState.RESOLVED, TicketState.MERGED, TicketState.REFERRED}
    ),
    TicketState.RESOLVED: frozenset({TicketState.CLOSED, TicketState.REOPENED}),
    TicketState.REOPENED: frozenset(
        {
            TicketState.ACCEPTED,
            TicketState.IN_PROGRESS,
            TicketState.RESOLVED,
            TicketState.MERGED,
            TicketState.REFERRED,
        }
    ),
    TicketState.CLOSED: frozenset(),
    # A split gives a merged ticket its own life again.
    TicketState.MERGED: frozenset({TicketState.OPEN}),
    TicketState.REFERRED: frozenset(),
}


class Rating(StrEnum):
    """A reporter's answer to the follow-up (回访)."""

    SATISFIED = "satisfied"
    MOSTLY_SATISFIED = "mostly_satisfied"
    DISSATISFIED = "dissatisfied"

    @property
    def is_positive(self) -> bool:
        """满意 and 基本满意 count for the satisfaction rate."""
        return self is not Rating.DISSATISFIED


# The reply digits of the follow-up question, in the order they are offered.
RATING_CHOICES: tuple[Rating, ...] = (
    Rating.SATISFIED,
    Rating.MOSTLY_SATISFIED,
    Rating.DISSATISFIED,
)


class DueKind(StrEnum):
    """Something the ticket loop must do at a time: remind, escalate, or close unrated."""

    REMIND_RESPOND = "remind_respond"
    ESCALATE_RESPOND = "escalate_respond"
    REMIND_RESOLVE = "remind_resolve"
    ESCALATE_RESOLVE = "escalate_resolve"
    CLOSE_UNRATED = "close_unrated"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """How long staff have to respond to and to resolve a ticket."""

    respond: timedelta
    resolve: timedelta


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    """Routing, deadlines, reminders, follow-up and duplicates, built from the config."""

    routing: Mapping[RequestType, tuple[Role, ...]]
    deadlines: Mapping[RequestType, Deadlines]
    urgent: Deadlines
    remind_before: timedelta = timedelta(hours=4)
    close_unrated_after: timedelta = timedelta(days=3)
    duplicate_window: timedelta = timedelta(hours=72)
    duplicate_similarity: float = 0.5
    # Below this classifier confidence a report is confirmed with its writer before filing.
    confirm_below: float = 0.55

    def needs_confirmation(self, confidence: float, *, urgent: bool) -> bool:
        """Ask the writer first when unsure; an urgent report is filed at once."""
        return not urgent and confidence < self.confirm_below

    def deadlines_for(self, request_type: RequestType, *, urgent: bool) -> Deadlines:
        """Urgent tickets get the urgent deadlines whatever their type."""
        return self.urgent if urgent else self.deadlines[request_type]


# Letters and CJK characters carry the meaning; punctuation, spaces and numbers do not.
_MEANINGFUL = re.compile(r"[a-z\u3400-\u9fff]")
# Addresses are compared as parsed locations, not as words: "5幢1单元" would make every report
# from one stairwell look alike.
_ADDRESS = re.compile(r"[0-9０-９一二三四五六七八九十]+\s*(?:号楼|幢|栋|单元|楼|层|室|号|期)")
# Words that say nothing about *which* problem it is; they would make any two reports alike.
_FILLER = frozenset("的了吗呢啊呀吧么又还都也很太就在是有我们你他她它这那个")
# Below this many shared bigrams two reports are not compared at all (too little to go on).
_MIN_SHARED = 2


# Each new report is compared with every active report of its type nearby: keep the bigrams
# of recent texts rather than recomputing them for every comparison.
@lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    chars = [
        c for c in _ADDRESS.sub(" ", text.lower()) if _MEANINGFUL.match(c) and c not in _FILLER
    ]
    return frozenset(a + b for a, b in pairwise(chars))


def similarity(first: str, second: str) -> float:
    """How much of the shorter report the longer one repeats (0..1), by character bigrams.

    Overlap over the shorter text, because a short "电梯又坏了" repeats a long report.
    """
    a, b = _bigrams(first), _bigrams(second)
    shared = len(a & b)
    if shared < _MIN_SHARED:
        return 0.0
    return shared / min(len(a), len(b))
