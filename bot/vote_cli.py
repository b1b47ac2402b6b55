"""Operator commands for votes: `linli owners import`, `linli votes verify`, `linli votes export`.

Each opens the configured database (migrating it first), does one thing and returns an exit code:
0 done, 1 tampering found, 2 bad input. Output is English for operators; files keep Chinese.

How a register row finds its voter: an owner votes from any Telegram user id or WeChat id listed
in the row's telegram_user_id / wechat_id columns (several separated by ';'). Console and replay
users are people of the config: they are matched through the telegram_user_id and wechat_id of
the configured person with that id (so `p-res1` votes as the owner whose row lists 510000101).
Owners without any id vote on paper: staff enter `/纸质票 N 室号 同意`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from pathlib import Path
from typing import TextIO

from bot.app import App, build_app
from bot.domain.community import Level
from bot.domain.owners import RegisterError, parse_register
from bot.errors import NotFound
from config.environment import Secrets
from config.settings import Settings
from storage.migrate import upgrade

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_BAD_INPUT = 2
EXPORT_HEADER = ["vote", "voter", "name", "rooms", "choice", "cast_at", "channel"]


async def _open(settings: Settings, database_url: str | None) -> App:
    app = build_app(settings, Secrets(), adapters=[], database_url=database_url)
    await upgrade(app.database)
    return app


def _scope(app: App, compound: str | None, node: str | None, err: TextIO) -> str | None:
    """The node a register belongs to: --compound, --node, or the only compound there is."""
    directory = app.directory
    if compound is not None:
        if not directory.has_node(compound) or directory.node(compound).level is not Level.COMPOUND:
            err.write(f"--compound {compound!r}: not a compound of {app.settings.config_path}\n")
            return None
        return compound
    if node is not None:
        if not directory.has_node(node) or directory.compound_of(node) is None:
            err.write(f"--node {node!r}: not a compound or stairwell of the config\n")
            return None
        return node
    compounds = [n for n in directory.node_ids() if directory.node(n).level is Level.COMPOUND]
    if len(compounds) != 1:
        err.write(f"say which register this is: --compound ID (one of {', '.join(compounds)})\n")
        return None
    return compounds[0]


async def import_owners(
    settings: Settings,
    path: Path,
    compound: str | None,
    node: str | None,
    database_url: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`linli owners import FILE.csv`: all rows or none; every bad row reported with its line."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        err.write(f"{path}: cannot read as UTF-8 text: {error}\n")
        return EXIT_BAD_INPUT
    app = await _open(settings, database_url)
    try:
        scope = _scope(app, compound, node, err)
        if scope is None:
            return EXIT_BAD_INPUT
        try:
            register = parse_register(text, str(path))
        except RegisterError as error:
            err.write(str(error) + "\n")
            return EXIT_BAD_INPUT
        imported = await app.services.votes.import_register(scope, register)
    finally:
        await app.stop()
    state = "imported as version" if imported.changed else "unchanged, still version"
    out.write(
        f"{path}: {len(register.units)} units, {register.total_heads} owners, "
        f"{float(register.total_area):.2f} m² for {scope}: {state} {imported.stored.id}\n"
    )
    for rooms in register.possible_duplicates():
        out.write(f"check: same owner name with different phones in rooms {', '.join(rooms)}\n")
    return EXIT_OK


async def verify_vote(
    settings: Settings,
    number: int,
    database_url: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`linli votes verify N`: recompute chain and tally; exit 1 when anything was changed."""
    out, err = out or sys.stdout, err or sys.stderr
    app = await _open(settings, database_url)
    try:
        report = await app.services.votes.verify(number)
    except NotFound:
        err.write(f"vote {number} does not exist\n")
        return EXIT_BAD_INPUT
    finally:
        await app.stop()
    vote = report.vote
    out.write(
        f"vote {vote.number} ({vote.kind}, {vote.state}): {report.records} audit records, "
        f"{len(report.recount.ballots)} voters, {report.recount.ballots_cast} ballots cast\n"
    )
    out.write(f"recount: {report.tally.canonical()}\n")
    if report.intact:
        out.write("OK: chain, ballots, definition, register and result agree\n")
        return EXIT_OK
    out.write(f"TAMPERED: {len(report.problems)} problem(s) in vote {vote.number}\n")
    for problem in report.problems:
        out.write(f"  {problem}\n")
    return EXIT_TAMPERED


async def export_vote(
    settings: Settings,
    number: int,
    path: Path | None,
    database_url: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`linli votes export N [--out FILE.csv]`: the ballot list; no choices for anonymous votes."""
    out, err = out or sys.stdout, err or sys.stderr
    app = await _open(settings, database_url)
    try:
        vote, rows = await app.services.votes.export(number)
    except NotFound:
        err.write(f"vote {number} does not exist\n")
        return EXIT_BAD_INPUT
    finally:
        await app.stop()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    writer.writerows([str(vote.number), *row.cells()] for row in rows)
    if path is None:
        out.write(buffer.getvalue())
        return EXIT_OK
    # With a BOM, spreadsheet programs open the Chinese names correctly.
    await asyncio.to_thread(path.write_text, buffer.getvalue(), encoding="utf-8-sig")
    secret = " (anonymous: choices left out)" if vote.anonymous else ""
    out.write(f"{path}: {len(rows)} ballots of vote {vote.number}{secret}\n")
    return EXIT_OK
