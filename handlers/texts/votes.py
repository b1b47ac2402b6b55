"""What Linli says about votes: announcements, ballot answers, reminders and results.

Anonymous votes never show anyone's choice; results never name voters.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.domain.art278 import DecisionOutcome, DecisionResult, PassRule
from bot.domain.owners import Register
from bot.domain.vote_ports import CastBallot, OwnerContact, VoteTally
from bot.domain.votes import PollResult, Vote
from bot.events import Button

BUTTON_PREFIX = "vote"
_CHINESE_ITEMS = "一二三四五六七八九"
_CENT = Decimal("0.01")

RULE_WORDING: dict[PassRule, str] = {
    PassRule.MAJORITY: "参与表决专有部分面积过半数且参与表决人数过半数的业主同意",
    PassRule.THREE_QUARTERS: "参与表决专有部分面积四分之三以上且参与表决人数四分之三以上的业主同意",
}
_SHARE_WORDING: dict[PassRule, tuple[str, str]] = {
    PassRule.MAJORITY: ("超过参与表决的一半", "未超过参与表决的一半"),
    PassRule.THREE_QUARTERS: ("达到参与表决的四分之三以上", "不足参与表决的四分之三"),
}

NEED_GROUP = "请在要投票的群里发起投票。"
POLL_USAGE = "请这样发起投票：/投票 标题 | 选项1 | 选项2 [截止 12月5日18:00] [匿名]"
DECISION_USAGE = (
    "请这样发起业主表决：/表决 事项 标题 [截止 12月5日18:00]。"
    "事项是民法典第二百七十八条的九项之一，例如：使用维修资金、筹集维修资金、选举或更换业主委员会、选聘和解聘物业服务企业、"
    "改变共有部分用途（出租公共空间）、其他重大事项，也可以写编号 1 到 9。"
)
DEADLINE_FORMS = "12月5日18:00、12月5日、明天18点、3天后、周五18点、2026-12-05 18:00"


def button_payload(number: int, choice: int) -> str:
    """What a ballot button sends back when pressed: `vote:12:1`."""
    return f"{BUTTON_PREFIX}:{number}:{choice}"


def ballot_buttons(vote: Vote) -> tuple[Button, ...]:
    """One button per option (Telegram shows them; WeChat readers reply with the number)."""
    return tuple(
        Button(f"{i} {option}", button_payload(vote.number, i))
        for i, option in enumerate(vote.options, start=1)
    )


def deadline(vote: Vote, timezone: ZoneInfo) -> str:
    """The deadline as `12月5日 18:00` in the community's time zone."""
    local = vote.closes_at.astimezone(timezone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def area(value: Fraction) -> str:
    """Square metres with two decimals (register areas have at most two, so this is exact)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(_CENT, rounding=ROUND_HALF_UP)}㎡"


def percent(share: Fraction) -> str:
    """A share as a percentage with two decimals, e.g. 66.67%."""
    exact = Decimal(share.numerator) * 100 / Decimal(share.denominator)
    return f"{exact.quantize(_CENT, rounding=ROUND_HALF_UP)}%"


def _options(vote: Vote) -> str:
    return "  ".join(f"{i} {option}" for i, option in enumerate(vote.options, start=1))


def poll_opened(vote: Vote, timezone: ZoneInfo) -> str:
    """The group announcement of a quick poll."""
    secret = "本投票匿名，只公布票数。" if vote.anonymous else ""
    return (
        f"📊 第{vote.number}号投票：{vote.title}\n{_options(vote)}\n"
        f"请回复选项数字投票，截止前可改票，截止 {deadline(vote, timezone)}。{secret}"
    )


def decision_opened(vote: Vote, register: Register | None, timezone: ZoneInfo) -> str:
    """The group announcement of an owners' decision, with the register's totals and the rule."""
    matter = vote.matter
    if matter is None:
        return poll_opened(vote, timezone)
    totals = ""
    if register is not None:
        totals = f"名册业主 {register.total_heads} 人，专有面积共 {area(register.total_area)}。"
    secret = "本表决匿名，不公布个人选择。" if vote.anonymous else ""
    return (
        f"🗳 第{vote.number}号业主表决【{matter.short_name}】{vote.title}\n"
        f"请业主回复：1 同意  2 反对  3 弃权（也可私聊我投票），截止前可改，"
        f"截止 {deadline(vote, timezone)}。\n"
        f"{totals}须参与表决的面积和人数均达三分之二以上，并经{RULE_WORDING[matter.rule]}。"
        f"{secret}"
    )


def ballot_recorded(cast: CastBallot) -> str:
    """The answer to a ballot; the choice is repeated only when the vote is not anonymous."""
    vote = cast.vote
    if vote.anonymous:
        done = "已更新" if cast.changed else "已收到"
        return f"{done}您在第{vote.number}号投票中的选择（匿名，不公开），截止前可改。"
    option = vote.option_title(cast.choice)
    if cast.changed and cast.previous == cast.choice:
        return f"您在第{vote.number}号投票中已经选了「{option}」，无需重复。"
    if cast.changed:
        return f"已改为「{option}」（第{vote.number}号投票），截止前还可以再改。"
    return f"已记下您的选择「{option}」（第{vote.number}号投票），截止前可改。"


def paper_recorded(cast: CastBallot, room: str) -> str:
    """The answer to `/纸质票`; anonymous votes keep the choice out of it."""
    vote = cast.vote
    replaced = "，替换了该户此前的投票" if cast.changed else ""
    if vote.anonymous:
        return f"已录入 {room} 室的纸质票（第{vote.number}号表决）{replaced}。"
    option = vote.option_title(cast.choice)
    return f"已录入 {room} 室的纸质票「{option}」（第{vote.number}号表决）{replaced}。"


def closed_elsewhere(vote: Vote) -> str:
    """The answer to `/结束投票` sent outside the vote's group."""
    return f"第{vote.number}号投票已结束，结果已发到群里，并报送书记。"


def poll_result(vote: Vote, result: PollResult) -> str:
    """The result of a quick poll in two lines: votes per option, never who voted what."""
    counts = "，".join(
        f"{i} {option}：{count}票"
        for i, (option, count) in enumerate(zip(vote.options, result.counts, strict=True), 1)
    )
    title = f"📊 第{vote.number}号投票结果：{vote.title}"
    if result.voters == 0:
        return f"{title}\n{counts}；没有人投票。"
    leaders = "、".join(vote.option_title(i) for i in result.leaders)
    tie = "（并列）" if len(result.leaders) > 1 else ""
    return f"{title}\n{counts}；共 {result.voters} 人投票，得票最多：{leaders}{tie}。"


def decision_result(vote: Vote, result: DecisionResult) -> str:
    """The art. 278 result: turnout, area and headcount figures, the outcome and why."""
    matter = result.matter
    reached = "达到" if result.turnout_met else "未达到"
    lines = [
        f"🗳 第{vote.number}号业主表决结果【{matter.short_name}】{vote.title}",
        f"名册：业主 {result.total_heads} 人，专有面积共 {area(result.total_area)}",
        f"参与表决：{result.participating_heads} 人，人数占比 {percent(result.turnout_heads)}；"
        f"{area(result.participating_area)}，参与表决面积占比 {percent(result.turnout_area)}"
        f"（{reached}三分之二以上）",
        f"同意：{result.agree_heads} 人 {area(result.agree_area)}，"
        f"同意占比 人数 {percent(result.agree_heads_share)}、"
        f"面积 {percent(result.agree_area_share)}",
        f"反对：{result.oppose_heads} 人 {area(result.oppose_area)}；"
        f"弃权：{result.abstain_heads} 人 {area(result.abstain_area)}",
        f"是否通过：{'通过' if result.passed else '未通过'}。{outcome_reason(result)}",
        f"依据：民法典第二百七十八条第（{_CHINESE_ITEMS[matter.item - 1]}）项"
        f"「{matter.legal_name}」，须{RULE_WORDING[result.rule]}。",
    ]
    return "\n".join(lines)


def outcome_reason(result: DecisionResult) -> str:
    """Why the decision passed or failed, in one sentence."""
    passed_share, short_share = _SHARE_WORDING[result.rule]
    outcome = result.outcome
    if outcome is DecisionOutcome.PASSED:
        return f"参与表决的面积和人数均达到三分之二以上，同意的面积和人数均{passed_share}。"
    if outcome is DecisionOutcome.NO_OWNERS:
        return "业主名册里没有业主。"
    if outcome is DecisionOutcome.TURNOUT_TOO_LOW:
        short = [
            name
            for name, met in (("面积", result.turnout_area_met), ("人数", result.turnout_heads_met))
            if not met
        ]
        return f"参与表决的{'和'.join(short)}未达到三分之二，表决不成立。"
    what = {
        DecisionOutcome.AREA_SHORT: "专有部分面积",
        DecisionOutcome.HEADS_SHORT: "人数",
        DecisionOutcome.AREA_AND_HEADS_SHORT: "专有部分面积和人数",
    }[outcome]
    return f"同意的{what}{short_share}。"


def result_text(tally: VoteTally) -> str:
    """The result of any vote."""
    if tally.decision is not None:
        return decision_result(tally.vote, tally.decision)
    if tally.poll is not None:
        return poll_result(tally.vote, tally.poll)
    raise ValueError(f"vote {tally.vote.number} has no count")


def owner_reminder(vote: Vote, owner: OwnerContact, timezone: ZoneInfo) -> str:
    """The private daily reminder to an owner who has not voted."""
    matter = vote.matter.short_name if vote.matter else ""
    rooms = "、".join(owner.rooms)
    return (
        f"您好，第{vote.number}号业主表决【{matter}】{vote.title}还没有收到您（{rooms}室）的意见，"
        f"截止 {deadline(vote, timezone)}。回复 1 同意、2 反对、3 弃权，或点下面的按钮。"
    )


def group_reminder(vote: Vote, missing: int, timezone: ZoneInfo) -> str:
    """The group nudge for owners Linli cannot reach privately: a count, never names."""
    return (
        f"第{vote.number}号业主表决还有 {missing} 户业主未表决，截止 {deadline(vote, timezone)}。"
        "业主可在群里回复 1 同意、2 反对、3 弃权，也可以私聊我投票。"
    )
