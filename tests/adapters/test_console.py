"""The console chat: lines in, answers printed with group, recipient and time."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import build_app
from config.environment import Secrets
from config.settings import Settings


async def _chat(settings: Settings, tmp_path: Path, lines: list[str]) -> str:
    out = io.StringIO()
    console = ConsoleAdapter(settings, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    app = build_app(
        settings,
        Secrets(),
        adapters=[console],
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
    )
    async with app.lifespan():
        await app.wait_closed()
    return out.getvalue()


async def test_console_session(settings: Settings, tmp_path: Path) -> None:
    printed = await _chat(
        settings,
        tmp_path,
        [
            "5幢1单元的电梯又坏了，停在三楼不动",
            "早上好",
            "/as p-grid",
            "/private",
            "/工单",
            "/group g-nope",
            "/quit",
        ],
    )
    assert "桃源5幢1单元楼道群 · 刘阿姨>" in printed  # a plain resident by default
    assert "邻里 → 桃源5幢1单元楼道群" in printed
    assert "工单号 1001" in printed
    assert "邻里 → 私聊 吴网格员" in printed and "待办工单 1 件" in printed
    assert "no group 'g-nope'" in printed
    assert printed.count("工单号") == 1  # "早上好" got no answer


async def test_console_lists_groups_and_people(settings: Settings, tmp_path: Path) -> None:
    printed = await _chat(settings, tmp_path, ["/groups", "/people"])
    assert "g-ty51" in printed and "桃源5幢1单元楼道群" in printed
    assert "p-sec" in printed and "陈书记" in printed
