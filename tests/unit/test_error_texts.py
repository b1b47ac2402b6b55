"""Every `UserError` key raised in bot/ and handlers/ has a template that its params fill."""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import errors
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, UserError
from handlers.texts import common
from handlers.texts.errors import TEMPLATES, render

ROOT = Path(__file__).resolve().parents[2]
BASE_ERRORS = frozenset({"UserError", "NotFound", "NotAllowed", "InvalidInput", "Conflict"})


@dataclass(frozen=True, slots=True)
class RaiseSite:
    """One construction of a user error: where, the key(s) it may carry and its params."""

    where: str
    keys: tuple[str, ...]
    params: tuple[str, ...]
    problem: str | None = None


def _keys(node: ast.expr) -> tuple[str, ...] | None:
    """The literal key, or both literal keys of `"a" if x else "b"`; None when not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _site(call: ast.Call, where: str) -> RaiseSite:
    keys = _keys(call.args[0]) if call.args else None
    params = tuple(k.arg for k in call.keywords if k.arg is not None)
    problem = None
    if keys is None:
        problem = "the key is not a literal string (use a key, or .literal(text) in handlers)"
    elif len(call.args) > 1 or any(k.arg is None for k in call.keywords):
        problem = "params must be keyword arguments, without **"
    return RaiseSite(where, keys or (), params, problem)


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "super"
    )


def _sites_in(path: Path) -> list[RaiseSite]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = path.relative_to(ROOT).as_posix()
    sites: list[RaiseSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in BASE_ERRORS:
                sites.append(_site(node, f"{relative}:{node.lineno}"))
        elif isinstance(node, ast.ClassDef) and relative != "bot/errors.py":
            bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
            if bases & BASE_ERRORS:
                # A subclass with its own __init__ passes its key on to super().__init__.
                sites += [
                    _site(call, f"{relative}:{call.lineno}")
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and _is_super_init(call)
                ]
    return sites


def _all_sites() -> list[RaiseSite]:
    paths = sorted(p for package in ("bot", "handlers") for p in (ROOT / package).rglob("*.py"))
    return [site for path in paths for site in _sites_in(path)]


SITES = _all_sites()


def test_the_scan_sees_the_raise_sites() -> None:
    """Guard against a scan that finds nothing."""
    assert len(SITES) > 60
    assert any("ticket.not_found" in site.keys for site in SITES)
    assert any(site.where.startswith("bot/domain/owners.py") for site in SITES)


@pytest.mark.parametrize("site", SITES, ids=lambda site: site.where)
def test_every_raised_key_has_a_template_that_its_params_fill(site: RaiseSite) -> None:
    assert site.problem is None, f"{site.where}: {site.problem}"
    for key in site.keys:
        assert key in TEMPLATES, (
            f"{site.where}: no template for {key!r} in handlers/texts/errors.py"
        )
        TEMPLATES[key].format(**dict.fromkeys(site.params, 1))
        text = render(InvalidInput(key, **dict.fromkeys(site.params, 1)))
        assert text != common.SORRY
        assert "{" not in text


def test_every_template_is_raised_somewhere() -> None:
    raised = {key for site in SITES for key in site.keys}
    assert set(TEMPLATES) - raised == set()


def test_no_key_is_the_literal_marker() -> None:
    assert errors.LITERAL not in TEMPLATES


def test_render_words_a_key_with_its_params() -> None:
    error = NotFound("ticket.not_found", number=1024)
    assert (error.key, error.params) == ("ticket.not_found", {"number": 1024})
    assert render(error) == "没有找到工单 1024，请核对工单号。"
    assert str(error) == "ticket.not_found (number=1024)"


def test_render_words_vote_numbers() -> None:
    error = InvalidInput("ballot.which_vote", vote_numbers=(3, 5))
    assert render(error) == "现在有几个投票在进行（第3号、第5号），请写上编号，例如：3号 1"


@pytest.mark.parametrize("kind", [NotFound, NotAllowed, InvalidInput, Conflict])
def test_a_literal_error_says_its_text(kind: type[UserError]) -> None:
    error = kind.literal("请写上工单号。")
    assert isinstance(error, kind)
    assert render(error) == "请写上工单号。"
    assert str(error) == "请写上工单号。"


def test_an_unknown_key_gets_the_apology_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert render(Conflict("no.such_key")) == common.SORRY
    assert "no.such_key" in caplog.text


def test_a_missing_param_gets_the_apology(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert render(NotFound("ticket.not_found")) == common.SORRY
    assert "ticket.not_found" in caplog.text


def test_the_scan_rejects_a_key_that_is_not_literal() -> None:
    tree = ast.parse('raise InvalidInput(f"没有找到 {x}")\nraise NotFound("a.b", **kw)\n')
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert len(calls) == 2
    assert all(_site(call, "sample.py").problem is not None for call in calls)
