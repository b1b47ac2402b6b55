"""Reading short answers to Linli's questions the way residents write them: many answer 是的,
好的, 对 or 不用了 rather than the number the question offers, or write 很满意 for 满意.

Only a whole message is read as an answer (after dropping an @mention, punctuation and
sentence particles), so chat that merely contains such a word is never taken for one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import Enum

from bot.domain.tickets import Rating
from bot.events import RequestType
from handlers.texts.ticket_names import TYPE_NAMES


class Answer(Enum):
    """What a reply to a yes-or-no question says."""

    YES = "yes"
    NO = "no"
    # "Not that": the guess was wrong (不是, 不对), which is not the same as "leave it".
    NOT_THAT = "not_that"


_MENTION = re.compile(r"^@\S+\s+")
_STICKERS = re.compile(r"(?:\[[^\[\]\s]{1,4}\])+$")  # WeChat stickers: [强] [玫瑰]
_EDGES = " \t\n。.，,、!！~～…·:：;；\"'“”‘’()（）【】<>《》"
_QUESTION_MARKS = "?？"
# Sentence particles that add tone, not meaning, at the end of a short answer. Not 吧 or 嘛:
# 是吧 and 对嘛 ask back rather than answer.
_PARTICLES = "啊呀哈哦噢喔呢啦哒"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS: dict[str, Answer] = {
    **dict.fromkeys(
        _words(
            "是 是的 是滴 对 对的 对对 对对对 嗯 嗯嗯 恩 好 好的 好滴 好嘞 好吧 那好吧 行 行吧 "
            "可以 确认 确定 要 需要 登记 登记吧 登记一下 发 发吧 发送 没错 没问题 "
            "ok okay yes y 👌 👍 [强] [ok]"
        ),
        Answer.YES,
    ),
    **dict.fromkeys(
        _words(
            "不用 不用了 不要 不要了 不需要 不用登记 不登记 算了 算了吧 取消 没事 没事了 "
            "不麻烦了 no n"
        ),
        Answer.NO,
    ),
    **dict.fromkeys(_words("不是 不对 错了 搞错了 换一个 改一下 其他 其它 别的"), Answer.NOT_THAT),
}
# A reply opening with one of these, then a comma, confirms ("是的，昨晚就不亮了"). Weaker words
# (好, 嗯, 对) open too much ordinary chat ("好，我下楼看看"), and a "no" must stand alone: "不是，
# 楼下着火了" is a report of its own.
_OPENING_YES = frozenset(_words("是的 是滴 对的 确认 需要 需要登记 要登记 登记 没错"))
MAX_OPENING_REPLY = 30
_CLAUSE_END = re.compile(r"[，,。.！!；;、\s]")
_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_RATINGS: dict[str, Rating] = {
    **dict.fromkeys(_words("满意 很满意 非常满意 挺满意 十分满意 特别满意"), Rating.SATISFIED),
    **dict.fromkeys(
        _words("基本满意 比较满意 还算满意 还满意 还行 还行吧 还可以 还可以吧 一般 一般吧 凑合"),
        Rating.MOSTLY_SATISFIED,
    ),
    **dict.fromkeys(
        _words("不满意 不太满意 很不满意 非常不满意 不满 没修好 还没修好 没解决 还没解决 没有解决"),
        Rating.DISSATISFIED,
    ),
}
_TYPES: dict[str, RequestType] = {
    **{name: kind for kind, name in TYPE_NAMES.items()},
    **{name[:2]: kind for kind, name in TYPE_NAMES.items()},  # 公共, 投诉, 小区, 矛盾, 咨询, 意见
    **{name[2:]: kind for kind, name in TYPE_NAMES.items()},  # 维修, 举报, 报事, 纠纷, 求助, 建议
}


def cleaned(text: str) -> str:
    """The answer itself: no @mention, edge punctuation, trailing particles, and no emoji or
    stickers after words; width and case folded. A question (是吧？) is not an answer: it
    comes back empty."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = _MENTION.sub("", text).strip(_EDGES).casefold()
    if text.endswith(tuple(_QUESTION_MARKS)):
        return ""
    words = _STICKERS.sub("", text).rstrip(_EDGES)
    while words and (unicodedata.category(words[-1]) in ("So", "Sk", "Mn", "Cf")):
        words = words[:-1].rstrip(_EDGES)
    text = words or text  # an emoji or a sticker alone is an answer too (👍, [强])
    while len(text) > 1 and text[-1] in _PARTICLES:
        text = text[:-1].rstrip(_EDGES)
    return text


def number(text: str) -> int | None:
    """A bare option number: 1, １, 一, 第1个, 选1."""
    body = cleaned(text).removeprefix("第").removeprefix("选").removesuffix("个").removesuffix("号")
    if body.isdigit() and len(body) <= 2:
        return int(body)
    return _NUMERALS.get(body)


def reply_to(text: str, numbers: Mapping[int, Answer]) -> Answer | None:
    """A reply to a question that offers numbered answers (`numbers`), given as one of those
    numbers or in words; None for any other number or text."""
    chosen = number(text)
    if chosen is not None:
        return numbers.get(chosen)
    return answer(text)


def answer(text: str) -> Answer | None:
    """A yes, a no, or a "not that" in words, else None; a clear yes may also open a short
    reply ("是的，昨晚就不亮了")."""
    whole = cleaned(text)
    said = _WORDS.get(whole)
    if said is None and len(whole) <= MAX_OPENING_REPLY:
        first = _CLAUSE_END.split(whole, maxsplit=1)[0]
        if first != whole and cleaned(first) in _OPENING_YES:
            said = Answer.YES
    return said


def rating(text: str) -> Rating | None:
    """A follow-up rating in words (满意, 很满意, 还行, 不太满意 …), else None."""
    return _RATINGS.get(cleaned(text))


def request_type(text: str) -> RequestType | None:
    """A request type by its name or half of it (维修, 投诉, 建议 …), else None."""
    return _TYPES.get(cleaned(text))
