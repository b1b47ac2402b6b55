"""`linli export tickets --since DATE [--node ID] --out FILE.csv|FILE.xlsx`: the secretaries'
spreadsheet of tickets, with phone, ID and plate numbers masked."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path

from bot.domain.community import Directory
from bot.domain.tickets import Ticket
from bot.privacy import mask
from config.settings import Settings
from handlers.texts import ticket_views as texts

EXIT_BAD_INPUT = 2
FORMATS = (".csv", ".xlsx")


def add_export_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `linli export tickets`."""
    export = commands.add_parser("export", help="export data for spreadsheets")
    what = export.add_subparsers(dest="export_command", required=True)
    tickets = what.add_parser("tickets", help="tickets opened since a date, as CSV or XLSX")
    tickets.add_argument("--since", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    tickets.add_argument("--node", help="community, compound or stairwell id (default: all)")
    tickets.add_argument("--out", required=True, type=Path, help="FILE.csv or FILE.xlsx")
    tickets.add_argument("--config")


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """Run `linli export tickets`; returns the exit code."""
    out: Path = args.out
    if out.suffix.lower() not in FORMATS:
        sys.stderr.write(f"--out {out}: expected a .csv or .xlsx file name\n")
        return EXIT_BAD_INPUT
    node: str | None = args.node
    if node is not None and node not in {n.id for n in settings.nodes()}:
        sys.stderr.write(f"--node {node}: no such node in {settings.config_path}\n")
        return EXIT_BAD_INPUT
    count = asyncio.run(export_tickets(settings, args.since, node, out))
    # A CLI's answer goes to stdout (ruff's print rule covers only bot/__main__.py).
    sys.stdout.write(f"{count} tickets written to {out}\n")
    return 0


async def export_tickets(settings: Settings, since: date, node: str | None, out: Path) -> int:
    """Write every ticket opened since `since` (local date) at or below `node`; returns how many."""
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.tickets import SqlTicketRepository

    directory = Directory(settings.nodes(), settings.groups, settings.people)
    nodes = None
    if node is not None and node != directory.community.id:
        nodes = frozenset(n for n in directory.node_ids() if directory.is_within(n, node))
    since_at = datetime.combine(since, time(0, 0), tzinfo=settings.timezone)
    database = Database(settings.storage.database)
    try:
        await upgrade(database)
        repository = SqlTicketRepository(database)
        tickets = await repository.list_opened(since_at, nodes)
        numbers = {t.id: t.number for t in tickets}
        for ticket in tickets:
            if ticket.merged_into is not None and ticket.merged_into not in numbers:
                merged = await repository.get(ticket.merged_into)
                numbers[ticket.merged_into] = merged.number if merged else 0
    finally:
        await database.close()
    rows = [_row(t, numbers, settings, directory) for t in tickets]
    await asyncio.to_thread(_write, out, rows)
    return len(rows)


def _row(
    ticket: Ticket, numbers: dict[int, int], settings: Settings, directory: Directory
) -> list[str]:
    """One masked spreadsheet row, with node and assignee names instead of ids."""
    names = {p.id: p.name for p in directory.people()}
    node_name = directory.node(ticket.node).name if directory.has_node(ticket.node) else ticket.node
    row = texts.export_row(
        ticket,
        merged_into=numbers.get(ticket.merged_into) if ticket.merged_into else None,
        node_name=node_name,
        assignee_names=[names.get(a, a) for a in ticket.assignees],
        timezone=settings.timezone,
    )
    return [mask(cell) for cell in row]


def _write(out: Path, rows: Sequence[Sequence[str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        # utf-8-sig: Excel opens a CSV with Chinese text correctly only with the BOM.
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(texts.EXPORT_HEADERS)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(texts.EXPORT_SHEET)
    sheet.append(list(texts.EXPORT_HEADERS))
    for row in rows:
        sheet.append(list(row))
    book.save(out)
