"""`linli db backup`: a consistent copy of the SQLite database, safe while Linli runs.

SQLite's online backup API copies the pages under one read transaction, so the copy is a
snapshot of one moment even while the bot writes (WAL lets both go on). The copy is written
beside its destination, checked with `PRAGMA integrity_check`, and only then moved into place:
an interrupted or failed backup never leaves a file that looks like a good one.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    """The backup could not be made; the message says why, for an operator."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What was copied."""

    source: Path
    target: Path
    size_bytes: int
    tickets: int
    revision: str


def back_up(source: Path, target: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the database at `source` to `target` (a new file unless `overwrite`)."""
    if not source.is_file():
        raise BackupError(f"{source}: no database file to back up")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError(f"{target}: is the database itself; choose another file")
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; give the backup file's name")
    if target.exists() and not overwrite:
        raise BackupError(f"{target}: already exists (use --force to replace it)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    # A name of its own (two backups at once do not share it), readable by this user only:
    # the database holds residents' names, phones and complaints.
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
    except OSError as error:
        message = f"{target.parent}: cannot write the backup there: {error.strerror}"
        raise BackupError(message) from error
    os.close(handle)
    partial = Path(name)
    try:
        # mode=rw: never create an empty database where the real one was expected.
        uri = f"{source.resolve().as_uri()}?mode=rw"
        with (
            closing(sqlite3.connect(uri, uri=True)) as origin,
            closing(sqlite3.connect(partial)) as copy,
        ):
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{source}: the copy failed its integrity check: {problems}")
            tickets, revision = _contents(copy, source)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"{source}: cannot back up to {target}: {error}") from error
    except OSError as error:
        raise BackupError(f"{target}: cannot write the backup: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(source, target, target.stat().st_size, tickets, revision)


def _contents(copy: sqlite3.Connection, source: Path) -> tuple[int, str]:
    """How many tickets, and the migration the schema is at."""
    tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "alembic_version" not in tables or "tickets" not in tables:
        raise BackupError(f"{source}: not a Linli database (no tickets or migration table)")
    (tickets,) = copy.execute("SELECT count(*) FROM tickets").fetchone()
    (revision,) = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    return int(tickets), str(revision)
