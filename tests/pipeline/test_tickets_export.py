"""`linli export tickets`: CSV and XLSX for the secretaries, filtered by node, masked."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from config.environment import demo_config_path
from handlers.texts import ticket_views as texts
from tests.fakes import AppHarness


async def _two_tickets(app: AppHarness) -> None:
    await app.say("5幢1单元电梯坏了，停在三楼，联系电话 139-0000-1234", name="刘阿姨")
    await app.say("2幢1单元楼道灯坏了好几天了，晚上黑漆漆的", user="p-res3", chat="g-my21")
    await app.say("/受理 1001", user="p-grid", chat=None)


def _config(tmp_path: Path) -> Path:
    """The demo config pointed at the test's database."""
    text = demo_config_path().read_text(encoding="utf-8")
    database = f"sqlite+aiosqlite:///{tmp_path / 'linli.db'}"
    text = text.replace(
        'database = "sqlite+aiosqlite:///data/linli.db"', f'database = "{database}"'
    )
    assert database in text
    config = tmp_path / "linli.toml"
    config.write_text(text, encoding="utf-8")
    return config


async def _export(tmp_path: Path, out: Path, *extra: str) -> int:
    """Run the CLI in a thread: it starts its own event loop, as `linli` does."""
    arguments = ["export", "tickets", "--since", "2026-12-01", "--out", str(out),
                 "--config", str(_config(tmp_path)), *extra]  # fmt: skip
    return await asyncio.to_thread(main, arguments)


async def test_csv_export_of_one_compound(
    app: AppHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _two_tickets(app)
    out = tmp_path / "out" / "tickets.csv"
    assert await _export(tmp_path, out, "--node", "taoyuan") == 0
    assert "1 tickets written" in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(texts.EXPORT_HEADERS)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["工单号"] == "1001" and row["状态"] == "已受理" and row["所属"] == "5幢1单元"
    assert "139****1234" in row["内容"] and "0000" not in row["内容"]
    assert row["负责人"] == "物业王经理、吴网格员" and row["受理时间"].startswith("2026-12-01")


async def test_xlsx_export_of_everything(app: AppHarness, tmp_path: Path) -> None:
    await _two_tickets(app)
    out = tmp_path / "tickets.xlsx"
    assert await _export(tmp_path, out) == 0
    book = load_workbook(out, read_only=True)
    try:
        sheet = book.active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()  # read-only workbooks keep the file open until closed
    assert [r[0] for r in rows[1:]] == ["1001", "1002"]


async def test_bad_arguments_are_refused(
    app: AppHarness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _export(tmp_path, tmp_path / "tickets.txt") == 2
    assert await _export(tmp_path, tmp_path / "t.csv", "--node", "nowhere") == 2
    err = capsys.readouterr().err
    assert ".csv or .xlsx" in err and "no such node" in err
