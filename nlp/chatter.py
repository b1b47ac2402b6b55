"""Principled rule for the `none` class: messages that are only an acknowledgement or greeting.

"收到", "好的👍", "+1", "谢谢大家！", "早上好" carry no request whatever a model thinks of them,
so they are recognised before any scoring. Anything longer than such a reply goes to the model.
"""

from __future__ import annotations

import re

# Whole-message acknowledgements, greetings and thanks (after punctuation/emoji are removed).
_PHRASES = (
    r"收到了?|已收到|收到收到|好的?|好滴|好嘞|好吧|好呀|好哒|行|可以|嗯+|嗯嗯|哦+|噢+|ok|okay|okk?",
    r"\+\s*\d+|加一|1|2|同意|赞|点赞|支持|顶|牛|厉害|辛苦了?|辛苦(?:大家|你们|您|各位)了?",
    r"(?:谢谢|感谢|多谢|谢了|谢啦|thanks?|thx)(?:大家|你|您|你们|各位|楼长|网格员|师傅|物业|书记|邻居们?)?(?:了|啦|啊|呀)?",
    r"(?:大家|各位|邻居们)?(?:早上好|早安|早|上午好|中午好|下午好|晚上好|晚安|你好|您好|大家好|新年好|过年好|节日快乐|新年快乐|中秋快乐|端午安康)(?:呀|啊|哦)?",
    r"哈+|呵+|嘿+|哈哈+|笑死|hh+|233+|666+|棒|真棒|太好了|好消息",
    r"(?:不)?客气|没事|没关系|不用谢|应该的",
)
_ACKNOWLEDGEMENT = re.compile("(?:" + "|".join(_PHRASES) + ")+", re.IGNORECASE)
# WeChat renders stickers as [强], [玫瑰], [抱拳] ...; like emoji and punctuation they carry
# no request.
_DECORATION = re.compile(
    r"\[[^\[\]]{1,4}\]|[\s\W_]|[\U0001F000-\U0001FAFF\u2600-\u27BF]",
)


def acknowledgement(text: str) -> str | None:
    """Return the acknowledgement `text` (normalised) consists of, or None if it says more."""
    stripped = _DECORATION.sub("", text)
    if not stripped:
        # Only stickers, emoji or punctuation: a reaction, never a request.
        return text.strip() or None
    if len(stripped) > 12:
        return None
    match = _ACKNOWLEDGEMENT.fullmatch(stripped)
    return text.strip() if match else None
