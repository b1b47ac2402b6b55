"""`/digest` (`/日报`) and `/weekly` (`/周研判`) on demand, and the digest messages the scheduler
sends: text privately, and the weekly chart as a PNG image (matplotlib, Agg backend).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import importlib.util
import logging
import os
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.context import HandlerContext
from bot.domain.community import Person
from bot.domain.digests import Digest, DrawnReview, WeeklyReview
from bot.events import IncomingMessage
from bot.outbox import Outbox
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import digests as texts
from handlers.texts.ticket_names import TYPE_NAMES

if TYPE_CHECKING:
    from matplotlib.font_manager import FontEntry, FontProperties

logger = logging.getLogger(__name__)
router = Router("digests")
# Noto Sans CJK from PyPI (OFL-1.1), for machines without a system CJK font.
BUNDLED_CJK_PACKAGE = "manimgx_fonts_cjk"
BUNDLED_CJK_FILE = "NotoSansCJK-VF.otf.ttc"
REGULAR_WEIGHT = 400
# Font families that carry Chinese glyphs; the first one installed is used for chart labels.
CJK_FONT_NAMES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback",
    "AR PL UMing CN", "AR PL UKai CN",
)  # fmt: skip


async def _read_digest(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Digest:
    return await ctx.services.digests.digest_for(ctx.person)


async def _draw_weekly_review(
    msg: IncomingMessage, ctx: HandlerContext, match: Match
) -> DrawnReview:
    return await ctx.services.digests.draw_weekly_review(ctx.person)


@router.command("digest", "日报", prepare=_read_digest)
async def show_digest(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Today's digest for the sender's node, privately (read before the transaction)."""
    report: Digest = await match.prepared()
    return Reply(texts.digest(report, ctx.services.timezone), private=True)


@router.command("weekly", "周研判", prepare=_draw_weekly_review)
async def show_weekly_review(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> None:
    """The weekly review with its chart, sent privately like the Monday one (read and drawn
    before the transaction)."""
    await ctx.services.digests.send_weekly_review(ctx.person, await match.prepared())


@functools.cache
def cjk_font() -> FontProperties | None:
    """Chart font with Chinese glyphs: an installed system font, else the Noto Sans CJK that
    the `manimgx-fonts-cjk` package ships, else None (the chart falls back to Latin labels)."""
    from matplotlib import font_manager

    found = _installed_cjk_font(font_manager.fontManager.ttflist)
    if found is not None:
        return found
    bundled = _bundled_cjk_file()
    if bundled is None:
        return None
    # A .ttc holds several faces; addfont registers each, so the SC face is found by name.
    font_manager.fontManager.addfont(str(bundled))
    return _installed_cjk_font(font_manager.fontManager.ttflist)


def _installed_cjk_font(entries: Iterable[FontEntry]) -> FontProperties | None:
    from matplotlib.font_manager import FontProperties

    weights: dict[str, set[int]] = {}
    for entry in entries:
        weights.setdefault(entry.name, set()).add(int(entry.weight))
    for name in CJK_FONT_NAMES:
        if name in weights:
            # The bundled variable font exists only as its default (thin) instance; asking
            # for "normal" there would log a findfont warning at every label.
            weight = min(weights[name], key=lambda w: abs(w - REGULAR_WEIGHT))
            return FontProperties(family=name, weight=weight)
    return None


def _bundled_cjk_file() -> Path | None:
    if importlib.util.find_spec(BUNDLED_CJK_PACKAGE) is None:
        return None
    path = Path(str(importlib.resources.files(BUNDLED_CJK_PACKAGE) / BUNDLED_CJK_FILE))
    return path if path.is_file() else None


def _draw_chart(review: WeeklyReview, path: Path) -> Path:
    """Stacked bars of requests per day by type; Latin labels when no CJK font is installed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    names = TYPE_NAMES if font else texts.LATIN_TYPE_NAMES
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days = sorted(review.per_day)
    bottoms = [0] * len(days)
    labels = [f"{day.month}-{day.day:02d}" for day in days]
    for request_type in TYPE_NAMES:
        counts = [review.per_day[day].get(request_type, 0) for day in days]
        axes.bar(labels, counts, bottom=bottoms, label=names[request_type])
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    axes.set_title(texts.CHART_TITLE if font else texts.CHART_TITLE_LATIN, fontproperties=font)
    axes.set_ylabel(texts.CHART_UNIT if font else texts.CHART_UNIT_LATIN, fontproperties=font)
    legend_font = font.copy() if font else FontProperties()
    legend_font.set_size("small")
    # Beside the plot, not on it: six entries would cover the bars of a busy day.
    axes.legend(prop=legend_font, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Drawn beside, then moved into place: two draws of the same review at once (a repeated
    # /周研判, the Monday run) never leave a half-written picture for the sender to read.
    drawing = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        figure.savefig(drawing, format="png")
        os.replace(drawing, path)
    finally:
        drawing.unlink(missing_ok=True)
    return path


async def render_chart(review: WeeklyReview, charts_dir: Path) -> Path:
    """Draw the weekly chart off the event loop; returns the PNG's path."""
    path = charts_dir / f"weekly-{review.scope.id}-{review.day.isoformat()}.png"
    return await asyncio.to_thread(_draw_chart, review, path)


class ChartFiles:
    """The weekly charts drawn into a folder, as a part of the message log (bot/housekeeping.py):
    a chart goes when the messages that carried it do."""

    def __init__(self, charts_dir: Path) -> None:
        self._charts_dir = charts_dir

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` charts last written before `before`."""
        return await asyncio.to_thread(self._prune, before.timestamp(), limit)

    def _prune(self, before: float, limit: int) -> int:
        deleted = 0
        try:
            entries = list(os.scandir(self._charts_dir))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if deleted >= limit:
                break
            chart = entry.is_file() and entry.name.endswith(".png")
            if chart and entry.stat().st_mtime < before:
                Path(entry.path).unlink(missing_ok=True)
                deleted += 1
        return deleted


class DigestMessages:
    """Implements DigestNotifier: renders digests and stores them for private delivery."""

    def __init__(self, messages: Outbox, charts_dir: Path, timezone: ZoneInfo) -> None:
        self._messages, self._charts_dir, self._timezone = messages, charts_dir, timezone

    async def digest(self, person: Person, digest: Digest, not_before_at: datetime) -> None:
        """The morning digest."""
        await self._messages.to_person(
            person, texts.digest(digest, self._timezone), not_before_at=not_before_at
        )

    async def draw(self, review: WeeklyReview) -> DrawnReview:
        """Draw the review's chart."""
        return DrawnReview(review, str(await render_chart(review, self._charts_dir)))

    async def weekly_review(
        self, person: Person, drawn: DrawnReview, not_before_at: datetime
    ) -> None:
        """The review text with the chart attached as an image."""
        await self._messages.to_person(
            person,
            texts.weekly_review(drawn.review),
            not_before_at=not_before_at,
            image=drawn.chart,
        )
