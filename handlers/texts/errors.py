"""How Linli words the errors the domain raises: one template per `UserError.key`.

Templates are `str.format` strings filled with the error's `params`. `tests/unit/
test_error_texts.py` checks that every key raised in bot/ has a template here and that the
template formats with the params given where it is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from bot.errors import UserError
from handlers.texts import common, digests
from handlers.texts import tags as tag_texts
from handlers.texts import votes as vote_texts

logger = logging.getLogger(__name__)

_TWO_DEADLINES = "截止时间只能写一个。"
_DECISION_HINT = "请回复：1 同意，2 反对，3 弃权。"
_POLL_HINT = "请回复 1 到 {count} 之间的一个数字。"
_NO_SUCH_OPTION = "没有第 {number} 号选项。"
_ONE_ONLY = "每人只能选一项。"
_UNREADABLE = "没看懂您的选择。"

TEMPLATES: dict[str, str] = {
    # bindings
    "binding.unknown_group": "没有找到群编号“{group_id}”，请核对配置里的群编号。",
    "binding.not_allowed": "抱歉，只有社区书记或本小区书记可以绑定群。",
    "binding.not_in_group": "请在要绑定的群里发送这个命令。",
    # digests
    "digest.not_allowed": digests.NOT_FOR_YOU,
    "digest.weekly_not_allowed": "抱歉，周研判只发给社区书记和小区书记。",
    # reminders
    "reminder.not_allowed": "抱歉，楼道长可在本楼道群、小区书记可在本小区的群里设置提醒。",
    "reminder.no_text": "请写上提醒的内容，例如：/提醒 明天上午9点 收电费",
    "reminder.no_time": "请写上提醒的时间，例如：/提醒 明天上午9点 收电费",
    "reminder.in_past": "这个时间已经过去了，请换一个以后的时间。",
    "reminder.not_found": "没有找到进行中的提醒 {reminder_id}，发送 /提醒列表 查看。",
    "reminder.cancel_not_allowed": "抱歉，只有设置提醒的人或社区书记可以取消它。",
    # visitor days
    "visitor_day.not_allowed": "抱歉，接访值班安排由社区书记设置。",
    "visitor_day.not_a_visitor_day": "{month}月{day}日不是开门接访日，请核对日期。",
    "visitor_day.no_names": "请写上接访的人，例如：/值班 12月11日 陈书记",
    # tickets
    "ticket.not_found": "没有找到工单 {number}，请核对工单号。",
    "ticket.managers_only": "抱歉，指派、合并、拆分和转办工单需要由书记操作。",
    "ticket.unknown_staff": "没有找到工作人员“{name}”，请写人员编号或姓名，例如 @吴网格员。",
    "ticket.stats_staff_only": "抱歉，统计数据只提供给社区工作人员。",
    "ticket.refer_no_body": "请写上转办的单位，例如：/转办 1024 区城管执法局",
    "ticket.visit_no_note": "请写上走访情况，例如：/走访 1024 已上门查看，约定周三维修",
    "ticket.visit_not_allowed": "抱歉，走访记录需要由负责的网格员填写。",
    "ticket.merge_same": "请写两个不同的工单号，例如：/合并 1025 1024",
    "ticket.merge_into_ended": "工单 {number} 已结束，不能再合并进去。",
    "ticket.split_not_merged": "工单 {number} 没有被合并，不需要拆分。",
    "ticket.staff_only": "抱歉，受理和办结工单需要由工作人员操作。您的问题我们会跟进处理。",
    "ticket.not_responsible": "抱歉，只有负责的工作人员可以处理工单。",
    "ticket.bad_transition": "工单 {number} 当前状态不能这样操作。",
    # starting and closing votes
    "vote.poll_usage": vote_texts.POLL_USAGE,
    "vote.decision_usage": vote_texts.DECISION_USAGE,
    "vote.poll_two_deadlines": _TWO_DEADLINES + vote_texts.POLL_USAGE,
    "vote.decision_two_deadlines": _TWO_DEADLINES + vote_texts.DECISION_USAGE,
    "vote.empty_option": "有一个选项是空的。" + vote_texts.POLL_USAGE,
    "vote.too_many_options": "选项最多 {max_options} 个。",
    "vote.duplicate_options": "有两个选项是一样的，请改一下。",
    "vote.title_too_long": "标题太长了，请控制在 {max_length} 个字以内。",
    "vote.option_too_long": "每个选项请控制在 {max_length} 个字以内。",
    "vote.unknown_matter": "没看懂事项「{matter}」。" + vote_texts.DECISION_USAGE,
    "vote.number_missing": "请写上投票的编号，例如：/结束投票 12",
    "vote.bad_deadline": f"没看懂截止时间「{{text}}」。可以这样写：{vote_texts.DEADLINE_FORMS}。",
    "vote.deadline_past": "截止时间已经过去了，请写一个以后的时间，例如：截止 明天18点。",
    "vote.deadline_too_soon": "截止时间太近了，请至少留出10分钟给大家投票。",
    "vote.deadline_too_far": "截止时间太远了，投票最长进行90天。",
    "vote.decision_start_not_allowed": (
        "业主表决由小区书记或社区书记在小区的群里发起，您可以联系他们。"
    ),
    "vote.poll_start_not_allowed": "本群的投票由楼道长、小区书记或社区书记发起，您可以联系他们。",
    "vote.no_register": (
        "本小区还没有导入业主名册，暂时不能发起业主表决，请联系社区工作人员导入。"
    ),
    "vote.close_not_allowed": "第 {number} 号投票只能由发起人或书记结束。",
    "vote.already_ended": "第 {number} 号投票已经结束了。",
    "vote.not_found": "没有找到第 {number} 号投票。",
    # ballots
    "ballot.no_such_option.poll": _NO_SUCH_OPTION + _POLL_HINT,
    "ballot.no_such_option.decision": _NO_SUCH_OPTION + _DECISION_HINT,
    "ballot.one_only.poll": _ONE_ONLY + _POLL_HINT,
    "ballot.one_only.decision": _ONE_ONLY + _DECISION_HINT,
    "ballot.unreadable.poll": _UNREADABLE + _POLL_HINT,
    "ballot.unreadable.decision": _UNREADABLE + _DECISION_HINT,
    "ballot.which_vote": "现在有几个投票在进行（{vote_numbers}），请写上编号，例如：3号 1",
    "ballot.vote_closed": "第 {number} 号投票已经截止，这一票没有计入。",
    "ballot.option_out_of_range": "第 {number} 号投票只有 1 到 {count} 号选项。",
    "ballot.anonymous_sender": (
        "以群或频道身份发的消息无法确认是谁，这一票没有计入，请用个人身份投票。"
    ),
    "ballot.owners_only": (
        "第 {number} 号表决只限业主名册里的业主参加，您的这一票没有计入。"
        "如果您是业主，请联系网格员核对名册。"
    ),
    "ballot.group_members_only": "第 {number} 号投票只限本群居民参加，这一票没有计入。",
    "ballot.paper_decisions_only": "纸质票只用于业主表决；群内投票请大家直接回复。",
    "ballot.paper_not_allowed": "纸质票由发起人、书记或本小区网格员录入。",
    "ballot.paper_usage": "请这样录入纸质票：/纸质票 投票编号 室号 同意（或 反对、弃权）",
    "ballot.paper_bad_choice": "请写 同意、反对 或 弃权，例如：/纸质票 3 501 同意",
    "ballot.unknown_room": "业主名册里没有 {room} 室，请核对室号。",
    # owners' register
    "register.invalid": "业主名册有 {count} 处错误，未导入任何内容。",
    # tags
    **tag_texts.PROBLEMS,
}


def _vote_numbers(value: object) -> str:
    numbers = value if isinstance(value, Iterable) and not isinstance(value, str) else (value,)
    return "、".join(f"第{number}号" for number in numbers)


# Params that are data, not words, and need Chinese around them: worded here, by param name.
_PARAM_WORDING: dict[str, Callable[[object], str]] = {"vote_numbers": _vote_numbers}


def render(error: UserError) -> str:
    """The Chinese reply for a user error (a key without a template gets the apology)."""
    if error.text is not None:
        return error.text
    template = TEMPLATES.get(error.key)
    if template is None:
        logger.error("user error %r has no text in handlers/texts/errors.py", error.key)
        return common.SORRY
    params = {
        name: _PARAM_WORDING[name](value) if name in _PARAM_WORDING else value
        for name, value in error.params.items()
    }
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        logger.exception("user error %r lacks a parameter of its text", error.key)
        return common.SORRY
