"""`linli db backup`: a consistent, checked copy of the database, also while Linli writes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.__main__ import main
from storage.backup import BackupError, back_up
from storage.migrate import head_revision
from tests.fakes import AppHarness

REPORTS = ("5幢1单元的电梯又坏了，停在三楼不动", "5幢2单元门口的路灯坏了，晚上黑乎乎的")


def _database(app: AppHarness) -> Path:
    return Path(app.app.database.url.split("///", 1)[1])


def _count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def test_a_backup_is_a_snapshot_of_what_was_committed_while_a_writer_works(
    app: AppHarness, tmp_path: Path
) -> None:
    await app.say(REPORTS[0])
    await app.say(REPORTS[1], user="p-res2", chat="g-ty52")
    source = _database(app)
    with closing(sqlite3.connect(source, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
        writer.execute("DELETE FROM tickets")
        report = back_up(source, tmp_path / "linli-backup.db")
        writer.execute("ROLLBACK")
    assert (report.tickets, report.revision) == (2, head_revision())
    _check_copy(tmp_path / "linli-backup.db", report.size_bytes, tickets=2)


def _check_copy(copy_path: Path, size: int, *, tickets: int) -> None:
    """One self-contained file, of the size reported, with the tickets, and nothing left over."""
    assert size == copy_path.stat().st_size
    assert _count(copy_path, "tickets") == tickets
    assert [p.name for p in copy_path.parent.iterdir() if p.name.startswith(".")] == []
    with closing(sqlite3.connect(copy_path)) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_a_backup_never_replaces_a_file_unasked_nor_the_database_itself(
    app: AppHarness, tmp_path: Path
) -> None:
    source = _database(app)
    target = tmp_path / "b.db"
    target.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match=r"b\.db: already exists \(use --force"):
        back_up(source, target)
    assert target.read_bytes() == b"an older backup"
    assert back_up(source, target, overwrite=True).tickets == 0
    with pytest.raises(BackupError, match="is the database itself"):
        back_up(source, source, overwrite=True)
    with pytest.raises(BackupError, match="no such folder"):
        back_up(source, tmp_path / "missing" / "b.db")
    with pytest.raises(BackupError, match="no database file to back up"):
        back_up(tmp_path / "absent.db", tmp_path / "c.db")
    assert not (tmp_path / "absent.db").exists()


def test_a_file_that_is_not_linlis_database_is_not_backed_up(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupError, match=r"other\.db: not a Linli database"):
        back_up(other, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_the_command_backs_up_the_configured_database_or_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Path(__file__).parents[2] / "config" / "demo.toml"
    config = tmp_path / "linli.toml"
    database = tmp_path / "linli.db"
    config.write_text(
        demo.read_text("utf-8").replace(
            'database = "sqlite+aiosqlite:///data/linli.db"',
            f'database = "sqlite+aiosqlite:///{database}"',
        ),
        "utf-8",
    )
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert main(["db", "backup", str(tmp_path / "b.db"), "--config", str(config)]) == 0
    assert f"0 tickets, migration {head_revision()}" in capsys.readouterr().out
    assert main(["db", "backup", str(tmp_path / "b.db"), "--config", str(config)]) == 2
    assert "already exists" in capsys.readouterr().err
    config.write_text(
        config.read_text("utf-8").replace(
            f'database = "sqlite+aiosqlite:///{database}"',
            'database = "postgresql+asyncpg://linli@localhost/linli"',
        ),
        "utf-8",
    )
    assert main(["db", "backup", str(tmp_path / "p.db"), "--config", str(config)]) == 2
    assert "back up PostgreSQL with pg_dump" in capsys.readouterr().err
