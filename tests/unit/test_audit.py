"""The hash-chained audit log: any change to any stored record is found; the chain recounts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditRecord,
    canonical_json,
    chain_hash,
    diff_ballots,
    next_record,
    recount,
    verify_chain,
    vote_definition,
)
from bot.domain.votes import Ballot, VoteState
from tests.unit.test_votes import make_vote

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def build_chain(*steps: tuple[AuditEvent, str | None, int | None]) -> list[AuditRecord]:
    """A chain for vote 7: OPENED, then the steps (event, voter, choice), a minute apart."""
    chain = [next_record(None, vote_id=7, event=AuditEvent.OPENED, at=T0, actor="leader")]
    for minute, (event, voter, choice) in enumerate(steps, start=1):
        actor = voter if event is AuditEvent.BALLOT and voter else "leader"
        chain.append(
            next_record(
                chain[-1],
                vote_id=7,
                event=event,
                at=T0 + timedelta(minutes=minute),
                actor=actor,
                voter=voter,
                choice=choice,
            )
        )
    return chain


CHAIN = build_chain(
    (AuditEvent.BALLOT, "owner:a", 1),
    (AuditEvent.BALLOT, "owner:b", 2),
    (AuditEvent.BALLOT, "owner:a", 3),
    (AuditEvent.BALLOT, "owner:c", 1),
    (AuditEvent.CLOSED, None, None),
)


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(CHAIN) == []
    assert verify_chain(CHAIN, head_hash=CHAIN[-1].hash) == []
    assert CHAIN[0].previous_hash == GENESIS_HASH
    assert [record.seq for record in CHAIN] == [1, 2, 3, 4, 5, 6]
    assert all(len(record.hash) == 64 for record in CHAIN)


def test_the_hash_is_sha256_of_canonical_json_including_the_previous_hash() -> None:
    record = CHAIN[2]
    assert record.hash == chain_hash(record.previous_hash, record.fields())
    assert chain_hash("1" * 64, record.fields()) != record.hash
    assert canonical_json({"b": 1, "a": "业主"}) == '{"a":"业主","b":1}'


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    shanghai = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    first = next_record(None, vote_id=7, event=AuditEvent.OPENED, at=T0, actor="x")
    second = next_record(None, vote_id=7, event=AuditEvent.OPENED, at=shanghai, actor="x")
    assert first.hash == second.hash
    with pytest.raises(ValueError, match="aware"):
        next_record(None, vote_id=7, event=AuditEvent.OPENED, at=T0.replace(tzinfo=None), actor="x")


TAMPERED_VALUES: dict[str, object] = {
    "vote_id": 8,
    "seq": 9,
    "event": AuditEvent.CANCELLED,
    "at": T0 + timedelta(microseconds=1),
    "actor": "someone-else",
    "voter": "owner:z",
    "choice": 2,
    "note": "edited",
    "previous_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(AuditRecord)])
@pytest.mark.parametrize("index", [0, 3, 5])
def test_changing_any_field_of_any_record_is_detected_at_that_record(
    field: str, index: int
) -> None:
    assert field in TAMPERED_VALUES, "every field needs a tampered value"
    tampered = list(CHAIN)
    original = tampered[index]
    tampered[index] = dataclasses.replace(original, **{field: TAMPERED_VALUES[field]})  # type: ignore[arg-type]
    assert tampered[index] != original

    problems = verify_chain(tampered)

    assert problems
    assert problems[0].seq == tampered[index].seq


def test_a_record_rehashed_after_tampering_breaks_the_next_link() -> None:
    tampered = list(CHAIN)
    changed = dataclasses.replace(CHAIN[2], choice=1)
    tampered[2] = dataclasses.replace(
        changed, hash=chain_hash(changed.previous_hash, changed.fields())
    )
    problems = verify_chain(tampered)
    assert [(p.seq, p.message) for p in problems] == [
        (4, "previous_hash does not match the record before")
    ]


def test_deleting_inserting_or_reordering_records_is_detected() -> None:
    assert verify_chain([*CHAIN[:2], *CHAIN[3:]])[0].seq == 4
    assert verify_chain([CHAIN[0], CHAIN[2], CHAIN[1], *CHAIN[3:]])[0].seq == 3
    assert verify_chain([*CHAIN, CHAIN[3]])[0].seq == 4
    assert verify_chain([])[0].message == "the chain has no records"


def test_a_truncated_chain_is_found_with_the_head_hash() -> None:
    assert verify_chain(CHAIN[:-1]) == []  # the chain alone cannot know its end was cut
    problems = verify_chain(CHAIN[:-1], head_hash=CHAIN[-1].hash)
    assert [p.seq for p in problems] == [None]


def test_records_that_make_no_sense_are_reported() -> None:
    late = build_chain((AuditEvent.CLOSED, None, None), (AuditEvent.BALLOT, "owner:a", 1))
    assert [(p.seq, p.message) for p in verify_chain(late)] == [(3, "ballot after the end (seq 2)")]
    blank = build_chain((AuditEvent.BALLOT, None, None))
    assert [p.message for p in verify_chain(blank)] == ["ballot without voter or choice"]
    no_opening = [
        next_record(None, vote_id=7, event=AuditEvent.BALLOT, at=T0, actor="a", voter="a", choice=1)
    ]
    assert verify_chain(no_opening)[0].message == "the chain must start with one OPENED record"


def test_recount_takes_each_voters_last_ballot_before_the_close() -> None:
    late = next_record(
        CHAIN[-1], vote_id=7, event=AuditEvent.BALLOT, at=T0 + timedelta(hours=1),
        actor="owner:d", voter="owner:d", choice=2,
    )  # fmt: skip
    result = recount([*CHAIN, late])
    assert result.state is VoteState.CLOSED
    assert result.ballots == (Ballot("owner:a", 3), Ballot("owner:b", 2), Ballot("owner:c", 1))
    assert result.ballots_cast == 4


def test_recount_of_an_open_and_a_cancelled_vote() -> None:
    assert recount(CHAIN[:3]).state is VoteState.OPEN
    cancelled = build_chain((AuditEvent.BALLOT, "p1", 2), (AuditEvent.CANCELLED, None, None))
    assert recount(cancelled).state is VoteState.CANCELLED
    assert recount(cancelled).ballots == (Ballot("p1", 2),)


def test_diff_ballots_names_every_difference() -> None:
    chain = recount(CHAIN).ballots
    assert diff_ballots(chain, chain) == []
    stored = [Ballot("owner:a", 1), Ballot("owner:b", 2), Ballot("owner:x", 2)]
    assert diff_ballots(stored, chain) == [
        "owner:a: stored ballot 1, audit chain says 3",
        "owner:c: audit chain has ballot 1 but none is stored",
        "owner:x: stored ballot 2 is not in the audit chain",
    ]


def test_vote_definition_pins_what_the_vote_asked() -> None:
    vote = make_vote(anonymous=True, opens_at=T0, closes_at=T0 + timedelta(days=1))
    note = vote_definition(vote)
    assert '"title":"自行车棚放哪里"' in note
    assert note == vote_definition(dataclasses.replace(vote, state=VoteState.CLOSED))
    assert note != vote_definition(dataclasses.replace(vote, options=("东门", "北门")))
    assert note != vote_definition(vote, register_digest="abc")
