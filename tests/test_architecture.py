"""Import rules of STYLE.md: SDKs and the database stay in their own modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "nlp", "storage", "config")

# library -> the only places allowed to import it
ALLOWED: dict[str, tuple[str, ...]] = {
    "wechaty": ("bot/adapters/wechat_puppet.py",),
    "wechaty_puppet": ("bot/adapters/wechat_puppet.py",),
    "wechaty_puppet_service": ("bot/adapters/wechat_puppet.py",),
    "telegram": (
        "bot/adapters/telegram.py",
        "bot/adapters/telegram_redaction.py",
        "bot/adapters/telegram_sending.py",
        "bot/adapters/telegram_updates.py",
        "bot/adapters/telegram_webhook.py",
    ),
    "sqlalchemy": ("storage/",),
    "aiosqlite": ("storage/",),
    "asyncpg": ("storage/",),
    "alembic": ("storage/",),
    "jieba": ("nlp/",),
    "apscheduler": ("bot/scheduler.py",),
    "sklearn": ("nlp/training.py",),
}
DOMAIN_MAY_IMPORT = ("bot.events", "bot.errors", "bot.clock", "bot.domain")


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_architecture(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    for module in _imports(path):
        top = module.split(".")[0]
        allowed = ALLOWED.get(top)
        if allowed is not None:
            assert relative.startswith(allowed), f"{relative} imports {module}"
        if relative.startswith("bot/domain/") and top in PACKAGES:
            assert module.startswith(DOMAIN_MAY_IMPORT), f"domain {relative} imports {module}"
        if relative.startswith("handlers/"):
            assert top != "storage", f"{relative} imports storage"
            assert not module.startswith("bot.adapters"), f"{relative} imports an adapter"


def test_the_rules_see_real_imports() -> None:
    """Guard against a checker that checks nothing: storage must show up as importing sqlalchemy."""
    assert "sqlalchemy" in {m.split(".")[0] for m in _imports(ROOT / "storage/db.py")}
    assert len(_sources()) > 20
