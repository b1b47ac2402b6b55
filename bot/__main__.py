"""The `linli` command: run the bot, check a config, replay a scenario, manage the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from config.environment import Secrets, resolve_config_path
from config.reader import ConfigError
from config.settings import Settings, load_settings
from nlp import commands as nlp_commands

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linli", description="Linli (邻里) community bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start Linli (console chat when no platform is set)")
    run.add_argument("--config", help="config file (else $LINLI_CONFIG, else the demo)")
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("path", nargs="?", help="config file (else $LINLI_CONFIG, else the demo)")
    replay = commands.add_parser("replay", help="run a scripted scenario on a virtual clock")
    replay.add_argument("scenario", type=Path)
    replay.add_argument("--config")
    replay.add_argument("--db", type=Path, help="SQLite file to use (default: a fresh temp file)")
    nlp_commands.add_commands(commands)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations up to the newest")
    upgrade.add_argument("--config")
    backup = db_commands.add_parser(
        "backup", help="copy the SQLite database to a file (safe while Linli runs)"
    )
    backup.add_argument("file", type=Path, help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace the file if it exists")
    backup.add_argument("--config")
    _add_vote_commands(commands)
    from bot.export import add_export_parser

    add_export_parser(commands)
    return parser


def _add_vote_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`linli owners import` and `linli votes verify|export` (bot/vote_cli.py)."""
    owners = commands.add_parser("owners", help="owners' registers for votes")
    owners_commands = owners.add_subparsers(dest="owners_command", required=True)
    imported = owners_commands.add_parser("import", help="import a register CSV (all or nothing)")
    imported.add_argument("file", type=Path)
    scope = imported.add_mutually_exclusive_group()
    scope.add_argument("--compound", help="compound id (default: the only compound)")
    scope.add_argument("--node", help="stairwell (or compound) id the register covers")
    votes = commands.add_parser("votes", help="check and export votes")
    votes_commands = votes.add_subparsers(dest="votes_command", required=True)
    verify = votes_commands.add_parser("verify", help="recompute tally and audit chain")
    verify.add_argument("number", type=int)
    export = votes_commands.add_parser("export", help="the ballot list as CSV")
    export.add_argument("number", type=int)
    export.add_argument("--out", type=Path, help="CSV file to write (default: stdout)")
    for parser in (imported, verify, export):
        parser.add_argument("--config")
        parser.add_argument("--db", type=Path, help="SQLite file (default: the config's database)")


def _vote_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot import vote_cli

    url = f"sqlite+aiosqlite:///{args.db}" if args.db is not None else None
    if args.command == "owners":
        return asyncio.run(
            vote_cli.import_owners(settings, args.file, args.compound, args.node, url)
        )
    if args.votes_command == "verify":
        return asyncio.run(vote_cli.verify_vote(settings, args.number, url))
    return asyncio.run(vote_cli.export_vote(settings, args.number, args.out, url))


def _settings(path: str | None) -> Settings:
    return load_settings(resolve_config_path(path, os.environ))


def _configure_logging(level: int) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and a Telegram URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every job run at INFO: with a job per minute that buries everything else.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from bot.privacy import install_log_masking

    install_log_masking()


async def _run(settings: Settings, secrets: Secrets) -> None:
    from bot.app import build_app

    app = build_app(settings, secrets)
    async with app.lifespan():
        await app.wait_closed()


async def _replay(settings: Settings, scenario: Path, db: Path | None) -> None:
    from bot.replay import run_replay

    if db is not None:
        await run_replay(settings, scenario, f"sqlite+aiosqlite:///{db}", sys.stdout)
        return
    with tempfile.TemporaryDirectory(prefix="linli-replay-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'replay.db'}"
        await run_replay(settings, scenario, url, sys.stdout)


async def _db_upgrade(settings: Settings) -> None:
    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(settings.storage.database)
    try:
        revision = await upgrade(database)
    finally:
        await database.close()
    print(f"database {settings.storage.database} is at revision {revision}")


def _db_backup(settings: Settings, target: Path, *, overwrite: bool) -> int:
    from storage.backup import BackupError, back_up

    source = settings.storage.sqlite_path
    if source is None:
        print(
            f"{settings.config_path}: storage.database is not a SQLite file "
            f"({settings.storage.database}); back up PostgreSQL with pg_dump",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        report = back_up(source, target, overwrite=overwrite)
    except BackupError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"backed up {report.source} to {report.target}: {report.tickets} tickets, "
        f"migration {report.revision}, {report.size_bytes / 1_000_000:.1f} MB"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `linli` command; returns the exit code."""
    # python-telegram-bot 22 warns inside its own RetryAfter unless opted in to timedeltas.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    if args.command in nlp_commands.COMMANDS:
        return nlp_commands.run_command(args)
    try:
        settings = _settings(args.path if args.command == "check-config" else args.config)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "check-config":
        print(
            f"{settings.config_path}: OK ({len(settings.groups)} groups, "
            f"{len(settings.people)} people)"
        )
        return 0
    if args.command == "replay":
        from bot.replay import ReplayError

        _configure_logging(logging.WARNING)
        if not args.scenario.is_file():
            print(f"{args.scenario}: no such scenario file", file=sys.stderr)
            return EXIT_BAD_INPUT
        try:
            asyncio.run(_replay(settings, args.scenario, args.db))
        except ReplayError as error:
            print(str(error), file=sys.stderr)
            return EXIT_BAD_INPUT
        return 0
    if args.command in ("owners", "votes"):
        _configure_logging(logging.WARNING)
        return _vote_command(args, settings)
    if args.command == "export":
        from bot.export import run_export

        _configure_logging(logging.WARNING)
        return run_export(args, settings)
    if args.command == "db" and args.db_command == "backup":
        return _db_backup(settings, args.file, overwrite=args.force)
    if args.command == "db":
        _configure_logging(logging.INFO)
        asyncio.run(_db_upgrade(settings))
        return 0
    secrets = Secrets.from_environ(os.environ)
    # The console chat shares the terminal with the log: keep it to warnings there.
    on_a_platform = secrets.telegram_enabled or secrets.wechat_enabled
    _configure_logging(logging.INFO if on_a_platform else logging.WARNING)
    try:
        asyncio.run(_run(settings, secrets))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
