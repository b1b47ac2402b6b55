"""`/digest` (`/日报`) and `/weekly` (`/周研判`) on demand, and the digest messages the scheduler
sends: text privately, and the weekly chart as a PNG image (matplotlib, Agg backend).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from pathlib import Path

from bot.context import HandlerContext
from bot.domain.community import Person
from bot.domain.digests import Digest, WeeklyReview
from bot.events import IncomingMessage
from bot.replies import Reply
from bot.router import Match, Router
from handlers.reminders import ScheduledMessages
from handlers.texts import digests as texts
from handlers.texts.tickets import TYPE_NAMES

logger = logging.getLogger(__name__)
router = Router("digests")
# Font families that carry Chinese glyphs; the first one installed is used for chart labels.
CJK_FONT_NAMES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback",
    "AR PL UMing CN", "AR PL UKai CN",
)  # fmt: skip


@router.command("digest", "日报")
async def show_digest(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Today's digest for the sender's node, privately."""
    report = await ctx.services.digests.digest_for(ctx.person)
    return Reply(texts.digest(report), private=True)


@router.command("weekly", "周研判")
async def show_weekly_review(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> None:
    """The weekly review with its chart, sent privately like the Monday one."""
    await ctx.services.digests.send_weekly_review(ctx.person)


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, if any (`fc-list :lang=zh`)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_NAMES if name in installed), None)


def _draw_chart(review: WeeklyReview, path: Path) -> Path:
    """Stacked bars of requests per day by type; Latin labels when no CJK font is installed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
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
    axes.set_title(texts.CHART_TITLE if font else texts.CHART_TITLE_LATIN, fontfamily=font)
    axes.set_ylabel("件" if font else "requests", fontfamily=font)
    axes.legend(prop={"family": font} if font else None, fontsize="small", loc="upper left")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


async def render_chart(review: WeeklyReview, charts_dir: Path) -> Path:
    """Draw the weekly chart off the event loop; returns the PNG's path."""
    path = charts_dir / f"weekly-{review.scope.id}-{review.day.isoformat()}.png"
    return await asyncio.to_thread(_draw_chart, review, path)


class DigestMessages:
    """Implements DigestNotifier: renders digests and stores them for private delivery."""

    def __init__(self, messages: ScheduledMessages, charts_dir: Path) -> None:
        self._messages, self._charts_dir = messages, charts_dir

    async def digest(self, person: Person, digest: Digest, not_before_at: datetime) -> None:
        """The morning digest."""
        await self._messages.to_person(person, texts.digest(digest), not_before_at)

    async def weekly_review(
        self, person: Person, review: WeeklyReview, not_before_at: datetime
    ) -> None:
        """The review text with the chart attached as an image."""
        chart = await render_chart(review, self._charts_dir)
        await self._messages.to_person(
            person, texts.weekly_review(review), not_before_at, image=str(chart)
        )
