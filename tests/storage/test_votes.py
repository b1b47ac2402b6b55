"""Vote storage on a migrated SQLite file, and the operator commands: import, verify, export."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from bot.__main__ import main
from bot.domain.audit import AuditEvent, next_record
from bot.domain.owners import parse_register
from bot.domain.vote_ports import BallotChannel, StoredBallot
from bot.domain.votes import Vote, VoteKind
from bot.events import Platform
from storage.db import Database
from storage.migrate import upgrade
from storage.owners import SqlRegisterRepository
from storage.schema import owner_registers, owner_units
from storage.votes import SqlVoteRepository

REGISTER = Path(__file__).parent.parent / "replay" / "scenarios" / "owners_taoyuan.csv"
AT = datetime(2026, 12, 1, 1, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'votes.db'}")
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


def poll(title: str = "装不装感应灯") -> Vote:
    return Vote(
        id=0,
        number=0,
        kind=VoteKind.POLL,
        title=title,
        options=("装", "不装"),
        matter=None,
        group_id="g-ty51",
        node="taoyuan-5-1",
        starter_id="p-lead",
        anonymous=False,
        opens_at=AT,
        closes_at=AT + timedelta(days=1),
    )


async def test_votes_are_numbered_and_ballots_replace_each_other(database: Database) -> None:
    repository = SqlVoteRepository(database)
    first, second = await repository.add(poll(), None), await repository.add(poll("二"), None)
    assert (first.number, second.number) == (1, 2)
    assert await repository.get(1) == first
    assert (
        await repository.cast(first.id, StoredBallot("u1", 1, AT, "u1", BallotChannel.GROUP))
        is None
    )
    assert (
        await repository.cast(first.id, StoredBallot("u2", 2, AT, "u2", BallotChannel.BUTTON))
        is None
    )
    assert (
        await repository.cast(first.id, StoredBallot("u1", 2, AT, "u1", BallotChannel.GROUP)) == 1
    )
    ballots = await repository.ballots(first.id)
    assert [(b.voter, b.choice) for b in ballots] == [("u1", 2), ("u2", 2)]
    assert ballots[1].channel is BallotChannel.BUTTON and ballots[0].cast_at == AT
    assert [v.number for v in await repository.due(AT + timedelta(days=1))] == [1, 2]
    assert await repository.next_closes_at() == AT + timedelta(days=1)


async def test_audit_records_keep_microseconds_and_the_head(database: Database) -> None:
    repository = SqlVoteRepository(database)
    vote = await repository.add(poll(), None)
    opened = next_record(None, vote_id=vote.id, event=AuditEvent.OPENED, at=AT, actor="p-lead")
    await repository.append(opened)
    ballot = next_record(
        opened, vote_id=vote.id, event=AuditEvent.BALLOT, at=AT, actor="u1", voter="u1", choice=1
    )
    await repository.append(ballot)
    assert await repository.audit(vote.id) == [opened, ballot]
    assert (await repository.audit(vote.id))[0].at.microsecond == 123456
    assert await repository.head(vote.id) == ballot
    assert await repository.head_hash(vote.id) == ballot.hash


async def test_a_reminder_day_is_claimed_once(database: Database) -> None:
    repository = SqlVoteRepository(database)
    vote = await repository.add(poll(), None)
    day = AT.date()
    assert await repository.claim_reminder(vote.id, day, AT, 3)
    assert not await repository.claim_reminder(vote.id, day, AT, 3)
    assert await repository.claim_reminder(vote.id, day + timedelta(days=1), AT, 3)


async def test_registers_round_trip_with_accounts(database: Database) -> None:
    repository = SqlRegisterRepository(database)
    register = parse_register(REGISTER.read_text(encoding="utf-8"), "owners.csv")
    stored = await repository.add("taoyuan", register, AT)
    loaded = await repository.load(stored.id)
    assert loaded.units == register.units and loaded.digest() == register.digest()
    assert await repository.latest("taoyuan") == stored
    liu = register.units[0].owner_key
    assert await repository.owner_for(stored.id, Platform.TELEGRAM, "510000101") == liu
    assert await repository.owner_for(stored.id, Platform.WECHAT, "wxid_liu_ty51") == liu
    assert await repository.owner_for(stored.id, Platform.TELEGRAM, "999") is None


# -- the operator commands ----------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def _count(db: Path, table: Table) -> int:
    database = Database(f"sqlite+aiosqlite:///{db}")
    try:
        async with database.reading() as connection:
            result = await connection.execute(select(func.count()).select_from(table))
            return int(result.scalar_one())
    finally:
        await database.close()


def test_owners_import_is_idempotent_and_all_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "linli.db"
    code, out, _ = _run(
        capsys, "owners", "import", str(REGISTER), "--compound", "taoyuan", "--db", str(db)
    )
    assert code == 0 and "8 units, 6 owners, 725.50 m²" in out and "imported as version 1" in out
    code, out, _ = _run(
        capsys, "owners", "import", str(REGISTER), "--compound", "taoyuan", "--db", str(db)
    )
    assert code == 0 and "unchanged, still version 1" in out
    bad = tmp_path / "bad.csv"
    rows = REGISTER.read_text(encoding="utf-8").splitlines()
    rows[3] = rows[3].replace("120.00", "一百二")
    rows[5] = rows[5].replace("80.50", "-3")
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "owners", "import", str(bad), "--compound", "taoyuan", "--db", str(db)
    )
    assert code == 2
    assert f"{bad}:4: column 'area'" in err and f"{bad}:6: column 'area'" in err
    assert asyncio.run(_count(db, owner_registers)) == 1
    assert asyncio.run(_count(db, owner_units)) == 8
    code, _, err = _run(
        capsys, "owners", "import", str(REGISTER), "--compound", "taoyuan-5-1", "--db", str(db)
    )
    assert code == 2 and "not a compound" in err


async def _decision(db: Path) -> None:
    """Open a decision on the demo config and cast three ballots, through the real pipeline."""
    from bot.app import build_app
    from bot.clock import FakeClock
    from config.environment import Secrets, demo_config_path
    from config.settings import load_settings
    from tests.fakes import AppHarness, RecordingAdapter

    clock = FakeClock(AT)
    adapter = RecordingAdapter()
    built = build_app(
        load_settings(demo_config_path()),
        Secrets(),
        clock=clock,
        adapters=[adapter],
        database_url=f"sqlite+aiosqlite:///{db}",
    )
    await built.start()
    try:
        harness = AppHarness(built, clock, adapter)
        await harness.say(
            "/表决 选聘物业 续聘物业公司 截止 3天后", user="p-sec-ty", chat="g-taoyuan"
        )
        await harness.say("同意", user="p-res1", chat="g-taoyuan")
        await harness.say("反对", user="p-lead", chat="g-taoyuan")
        await harness.say("/纸质票 1 5-2-202 同意", user="p-grid", chat=None)
        await harness.say("/结束投票 1", user="p-sec-ty", chat="g-taoyuan")
    finally:
        await built.stop()


async def _tamper(db: Path, statement: str) -> None:
    database = Database(f"sqlite+aiosqlite:///{db}")
    try:
        async with database.transaction() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE vote_ballots SET choice = 1 WHERE channel = 'group' AND choice = 2",
         "stored ballot 1, audit chain says 2"),
        ("UPDATE vote_audit SET choice = 1 WHERE choice = 2", "content does not match its hash"),
        ("DELETE FROM vote_ballots WHERE channel = 'paper'", "but none is stored"),
        ("UPDATE owner_units SET area = '300.00' WHERE room = '5-1-201'", "units differ"),
        ("UPDATE votes SET title = '解聘物业公司'", "differs from its OPENED"),
        ("UPDATE votes SET result = replace(result, '\"agree_heads\":2', '\"agree_heads\":3')",
         "stored result differs"),
    ],
)  # fmt: skip
def test_verify_reports_tampering_with_a_nonzero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], statement: str, expected: str
) -> None:
    db = tmp_path / "linli.db"
    assert (
        _run(capsys, "owners", "import", str(REGISTER), "--db", str(db), "--compound", "taoyuan")[0]
        == 0
    )
    asyncio.run(_decision(db))
    code, out, _ = _run(capsys, "votes", "verify", "1", "--db", str(db))
    assert code == 0 and "OK" in out and '"agree_heads":2' in out
    asyncio.run(_tamper(db, statement))
    code, out, _ = _run(capsys, "votes", "verify", "1", "--db", str(db))
    assert code == 1 and "TAMPERED" in out and expected in out


def test_export_lists_ballots_and_verify_of_a_missing_vote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "linli.db"
    _run(capsys, "owners", "import", str(REGISTER), "--db", str(db), "--compound", "taoyuan")
    asyncio.run(_decision(db))
    out_file = tmp_path / "vote1.csv"
    code, out, _ = _run(capsys, "votes", "export", "1", "--out", str(out_file), "--db", str(db))
    assert code == 0 and "3 ballots of vote 1" in out
    rows = list(csv.reader(out_file.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["vote", "voter", "name", "rooms", "choice", "cast_at", "channel"]
    assert [(r[2], r[3], r[4], r[6]) for r in rows[1:]] == [
        ("刘阿姨", "5-1-101;5-1-102", "同意", "group"),
        ("周楼长", "5-1-201", "反对", "group"),
        ("陈大爷", "5-2-202", "同意", "paper"),
    ]
    code, _, err = _run(capsys, "votes", "verify", "7", "--db", str(db))
    assert code == 2 and "vote 7 does not exist" in err
