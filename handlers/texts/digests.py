"""The secretaries' morning digest (日报) and the Monday weekly review (周研判)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.domain.digests import Digest, TicketFacts, WeeklyReview
from bot.domain.rates import RateCounts
from bot.domain.votes import Vote, VoteKind
from bot.events import RequestType
from handlers.texts.reminders import day_label, moment_label, next_visitor_day
from handlers.texts.ticket_names import TYPE_NAMES

MAX_LISTED = 10
NOT_FOR_YOU = "抱歉，日报只发给社区书记和小区书记。"
# Chart labels when no CJK font is installed (matplotlib would draw empty boxes).
LATIN_TYPE_NAMES: dict[RequestType, str] = {
    RequestType.REPAIR: "repair",
    RequestType.COMPLAINT: "complaint",
    RequestType.INCIDENT: "incident",
    RequestType.DISPUTE: "dispute",
    RequestType.INQUIRY: "inquiry",
    RequestType.SUGGESTION: "suggestion",
}
CHART_TITLE = "每日诉求数量（按类型）"
CHART_TITLE_LATIN = "Requests per day by type"
CHART_UNIT = "件"
CHART_UNIT_LATIN = "requests"


def _percent(value: Fraction | float | None, empty: str) -> str:
    return empty if value is None else f"{round(float(value) * 100)}%"


def rates_line(rates: RateCounts) -> str:
    """响应率 · 解决率 · 满意率 on one line."""
    return (
        f"响应率 {_percent(rates.response_rate, '暂无')}"
        f"｜解决率 {_percent(rates.resolution_rate, '暂无')}"
        f"｜满意率 {_percent(rates.satisfaction_rate, '暂无评价')}"
    )


def _by_type(counts: Mapping[RequestType, int]) -> str:
    parts = [f"{TYPE_NAMES[t]} {counts[t]}" for t in TYPE_NAMES if counts.get(t)]
    return "、".join(parts)


def _numbers(facts: Iterable[TicketFacts]) -> str:
    listed = list(facts)
    shown = "、".join(f"{f.number}【{TYPE_NAMES[f.request_type]}】" for f in listed[:MAX_LISTED])
    more = f" 等{len(listed)}件" if len(listed) > MAX_LISTED else ""
    return shown + more


def _vote_line(vote: Vote, timezone: ZoneInfo) -> str:
    kind = "表决" if vote.kind is VoteKind.DECISION else "投票"
    closes = moment_label(vote.closes_at, timezone)
    return f"· 第{vote.number}号{kind}：{vote.title}（{closes}截止）"


def digest(report: Digest, timezone: ZoneInfo) -> str:
    """The morning digest for one node."""
    new_total = sum(report.new_by_type.values())
    lines = [f"【日报】{report.scope.name} {day_label(report.day)}"]
    if new_total:
        lines.append(f"昨日新增诉求 {new_total} 件：{_by_type(report.new_by_type)}")
        by_compound = "、".join(f"{name} {n}" for name, n in sorted(report.new_by_compound.items()))
        lines.append(f"按小区：{by_compound}")
    else:
        lines.append("昨日没有新增诉求。")
    if report.overdue:
        lines.append(f"超期未办 {len(report.overdue)} 件：{_numbers(report.overdue)}")
    else:
        lines.append("没有超期工单。")
    if report.resolved:
        lines.append(f"昨日办结 {len(report.resolved)} 件：{_numbers(report.resolved)}")
    lines.append(f"近30天 {rates_line(report.rates)}")
    if report.votes_in_progress:
        lines.append(f"进行中的投票 {len(report.votes_in_progress)} 个：")
        lines.extend(_vote_line(vote, timezone) for vote in report.votes_in_progress[:MAX_LISTED])
    lines.append(next_visitor_day(report.next_visitor_day))
    return "\n".join(lines)


def weekly_review(review: WeeklyReview) -> str:
    """The Monday review for the 民呼我为 meeting; the chart follows as an image."""
    first = review.day - timedelta(days=7)
    last = review.day - timedelta(days=1)
    this_total, last_total = sum(review.this_week.values()), sum(review.last_week.values())
    change = this_total - last_total
    lines = [
        f"【周研判】{review.scope.name} {first.month}月{first.day}日–{last.month}月{last.day}日",
        f"本周诉求 {this_total} 件，上周 {last_total} 件（{change:+d}）",
    ]
    for request_type, name in TYPE_NAMES.items():
        now_count = review.this_week.get(request_type, 0)
        before = review.last_week.get(request_type, 0)
        if now_count or before:
            lines.append(f"· {name} {now_count}（上周 {before}）")
    if review.stale:
        lines.append(f"超过7天未办结 {len(review.stale)} 件：{_numbers(review.stale)}")
    else:
        lines.append("没有超过7天未办结的工单。")
    if review.lowest_rated:
        rated = "、".join(
            f"{name} 满意 {round(share * 100)}%" for name, share in review.lowest_rated
        )
        lines.append(f"评价较低的物业和网格服务：{rated}")
    else:
        lines.append("本周物业和网格服务暂无评价。")
    lines.append(f"本周 {rates_line(review.rates)}")
    lines.append("附图：本周每日诉求数量（按类型）")
    return "\n".join(lines)
