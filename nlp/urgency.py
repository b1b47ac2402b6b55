"""Rule-based urgency detector: threats to life or property, whatever the request type.

Each rule is a regular expression over normalised text, written for the colloquial ways
residents type an emergency. A hit is dropped when it is negated ("电梯没有困人") or sits in a
prevention notice or drill ("预防燃气泄漏", "消防演练"), so that notices do not page staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Negations that flip a hit when they occur inside it or just before it.
_NEGATION = re.compile(
    r"没有|没|不是|并非|未|无|别|不会|不用|不要|禁止|严禁|不准|不得|防止|以免|避免|预防|谨防|以防"
)
# Context that marks a whole message as a notice, drill or lesson rather than an emergency.
_NOTICE_CONTEXT = re.compile(
    r"演练|演习|培训|讲座|知识|宣传|科普|安全提示|温馨提示|小常识|注意事项"
)
_NEGATION_LOOKBEHIND = 4


@dataclass(frozen=True, slots=True)
class _Rule:
    """One kind of emergency and the patterns that reveal it."""

    cue: str
    pattern: re.Pattern[str]


def _rule(cue: str, *alternatives: str) -> _Rule:
    return _Rule(cue, re.compile("|".join(f"(?:{alternative})" for alternative in alternatives)))


_RULES: tuple[_Rule, ...] = (
    _rule(
        "电梯困人",
        r"电梯.{0,8}?(?:困|关|卡|憋)(?:住|着)?了?(?:人|个人|一个人|俩人|小孩|孩子|老人)",
        r"电梯.{0,8}?(?:把|将)?(?:人|小孩|孩子|老人|我|我们).{0,3}(?:困|关|卡)住",
        r"电梯.{0,10}(?:有人|人还)在里面",
        r"(?:困|关|卡|锁)(?:在|进)了?.{0,3}电梯",
        r"被困.{0,4}电梯|电梯.{0,6}被困",
        r"电梯.{0,8}(?:里|里面|内).{0,8}(?:出不来|打不开门|下不来)",
        r"电梯.{0,4}(?:掉下|坠落|溜梯|冲顶|蹲底)",
    ),
    _rule(
        "燃气泄漏",
        r"(?:燃气|煤气|天然气|液化气|瓦斯).{0,6}(?:泄漏|泄露|漏气|外泄|漏了|在漏|漏出)",
        r"(?:燃气|煤气|天然气|液化气)(?:的)?(?:味|味道|气味)",
        r"闻到.{0,6}(?:燃气|煤气|天然气)",
        r"漏气|(?:煤气|燃气)中毒|一氧化碳中毒",
    ),
    _rule(
        "起火冒烟",
        r"起火|着火|着了火|失火|火灾(?!隐患)|火警|烧起来|烧着了|火苗",
        r"冒(?:黑|白|浓)?烟|浓烟|烟很大|好大的烟|一股烟",
        r"爆炸",
    ),
    _rule(
        "触电",
        r"触电|电到人|电到了|被电(?:到|了|击)|电击|漏电.{0,8}(?:人|电着|麻)|电伤",
    ),
    _rule(
        "有人晕倒",
        r"晕倒|昏倒|晕过去|昏过去|昏迷|不省人事|倒地不起|倒在地上|休克|没(?:有)?了?呼吸",
        r"心脏病(?:犯|发)|抽搐|口吐白沫|喊不醒|叫不醒",
    ),
    _rule(
        "水管爆裂",
        r"水管.{0,4}(?:爆|裂|破)|爆管|管子爆|水管炸",
        r"(?:家|屋|房|地下室|车库|楼道|一楼|厨房|卫生间|客厅|电梯井).{0,4}(?:被)?淹了",
        r"水漫金山|水漫|跑水|大水漫|水淹",
    ),
    _rule(
        "高空抛物伤人",
        r"(?:高空|楼上|上面|窗户|阳台).{0,10}(?:扔|抛|掉|丢|落|坠).{0,10}(?:砸|打)(?:到|中|伤)",
        r"砸(?:到|中|伤)了?(?:人|头|车|小孩|孩子|老人)",
    ),
    _rule(
        "老人摔倒",
        r"(?:老人|老太太|老爷子|老大爷|大爷|阿姨|奶奶|爷爷|婆婆|老头|老伴).{0,8}(?:摔倒|摔了|摔伤|跌倒|跌了|摔跤)",
        r"(?:摔|跌)(?:倒|了|伤)?.{0,4}(?:起不来|爬不起来|站不起来|动不了)",
    ),
    _rule(
        "紧急求救",
        r"(?:打|叫|喊)了?(?:120|119|110|救护车|消防车)",
    ),
)


@dataclass(frozen=True, slots=True)
class Urgency:
    """Why a message is urgent: the kinds of emergency found and the words that showed them."""

    kinds: tuple[str, ...]
    evidence: tuple[str, ...]


def _negated(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _NEGATION_LOOKBEHIND) : end]
    return _NEGATION.search(window) is not None


def detect_urgency(text: str) -> Urgency | None:
    """Return the emergencies `text` (normalised) reports, or None when it reports none."""
    if _NOTICE_CONTEXT.search(text):
        return None
    kinds: list[str] = []
    evidence: list[str] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            if not _negated(text, match.start(), match.end()):
                kinds.append(rule.cue)
                evidence.append(match.group(0))
                break
    if not kinds:
        return None
    return Urgency(kinds=tuple(kinds), evidence=tuple(evidence))


def is_urgent(text: str) -> bool:
    """True when `text` (normalised) reports a threat to life or property."""
    return detect_urgency(text) is not None
