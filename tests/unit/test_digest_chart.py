"""The weekly chart: Chinese labels come out in a font that has their glyphs (not boxes), and
the chart still draws with Latin labels when no CJK font is installed."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font

from bot.domain.community import Level, Node
from bot.domain.digests import WeeklyReview
from bot.domain.rates import RateCounts
from bot.events import RequestType
from handlers import digests
from handlers.texts import digests as texts
from handlers.texts.ticket_names import TYPE_NAMES

DAY = date(2026, 12, 7)


def _review() -> WeeklyReview:
    per_day = {
        DAY - timedelta(days=offset): Counter(
            {RequestType.REPAIR: offset % 3, RequestType.DISPUTE: 1}
        )
        for offset in range(7, 0, -1)
    }
    return WeeklyReview(
        scope=Node("fuqiang", "富强社区", Level.COMMUNITY, None),
        day=DAY,
        this_week={},
        last_week={},
        per_day=per_day,
        stale=(),
        lowest_rated=(),
        rates=RateCounts(),
    )


def test_chart_font_has_every_chinese_glyph() -> None:
    font = digests.cjk_font()
    assert font is not None, "no CJK font: install manimgx-fonts-cjk (see pyproject.toml)"
    path = font_manager.findfont(font, fallback_to_default=False)
    face = FT2Font(path)
    labels = "".join([texts.CHART_TITLE, texts.CHART_UNIT, *TYPE_NAMES.values()])
    missing = [char for char in labels if face.get_char_index(ord(char)) == 0]
    assert missing == []


def test_chart_draws_with_chinese_labels(tmp_path: Path) -> None:
    # A glyph missing from the font would be a "Glyph ... missing" warning, an error here.
    path = digests._draw_chart(_review(), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_latin_font_would_draw_boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: DejaVu Sans has no Chinese, and matplotlib says so."""
    monkeypatch.setattr(digests, "cjk_font", lambda: FontProperties(family="DejaVu Sans"))
    with pytest.warns(UserWarning, match="missing from font"):
        digests._draw_chart(_review(), tmp_path / "chart.png")


def test_chart_falls_back_to_latin_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "cjk_font", lambda: None)
    path = digests._draw_chart(_review(), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
