"""Rule-based urgency detector: threats to life or property, whatever the request type.

Each rule is a regular expression over normalised text, written for the colloquial ways
residents type an emergency. A hit is dropped when it is negated ("电梯没有困人") or sits in a
prevention notice or drill ("预防燃气泄漏", "消防演练"), so that notices do not page staff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Negations and hypotheticals that void a hit when they occur inside it or just before it:
# "电梯没有困人", "万一着火", "差点砸到人", and habits ("每天冒黑烟" is a complaint, not a fire).
_NEGATION = re.compile(
    r"没有|没|不是|并非|未|无|别|不会|不用|不要|禁止|严禁|不准|不得|防止|以免|避免|预防|谨防|以防"
    r"|万一|要是|如果|假如|一旦|迟早|会|要|差点|险些|容易|怕|担心|可能|每天|天天|经常|总是|老是"
    r"|屡屡|常常|频繁|都|真|以为|差一点|如遇|遇到"
)
# Words right after a hit that make it hypothetical: "着火的话", "砸到头可不得了". Not 怎么办:
# "电梯困人了怎么办" is someone asking for help now, and a missed emergency costs more than a
# needless page ("万一着火怎么办" is caught by 万一 before the hit).
_HYPOTHETICAL_AFTER = re.compile(
    r".{0,6}(?:的话|可不得了|就麻烦|跑不|进不来|拿不到|能逃生|很危险)"
    r"|.{0,3}(?:两次|几次|多次|频发)"
)
# Context that marks a whole message as a notice, drill, lesson, forwarded news or an emergency
# already over ("后来处理得挺快", "人没事") rather than one happening now.
_NOTICE_CONTEXT = re.compile(
    r"演练|演习|培训|讲座|知识|宣传|科普|安全提示|温馨提示|小常识|注意事项|新闻|转发|寻人启事"
    r"|引以为戒|没事了|人没事|已经没事|报个平安|虚惊|后来|处理得|幸亏|多亏|放心|没骨折|休养|那次"
    r"|已经换了|检查过了|脱离危险|心有余悸|回忆|事后"
)
_NEGATION_LOOKBEHIND = 4


@dataclass(frozen=True, slots=True)
class _Rule:
    """One kind of emergency and the patterns that reveal it."""

    cue: str
    # One pattern per alternative, tried separately: in one alternation a longer alternative
    # that is negated ("煤气味，是不是漏气") would hide a shorter one that is not ("煤气味").
    patterns: tuple[re.Pattern[str], ...]


def _rule(cue: str, *alternatives: str) -> _Rule:
    return _Rule(cue, tuple(re.compile(a, re.IGNORECASE) for a in alternatives))


_RULES: tuple[_Rule, ...] = (
    _rule(
        "电梯困人",
        r"电梯.{0,8}?(?:困|关|卡|憋)(?:住|着)?了?(?:人|个人|一个人|俩人|小孩|孩子|老人)",
        r"电梯.{0,8}?(?:把|将)?(?:人|小孩|孩子|老人|我|我们).{0,3}(?:困|关|卡)住",
        r"电梯.{0,16}(?:有人|人还|我们?|孩子)(?:还)?在里面",
        r"电梯.{0,16}里面(?:还)?有(?:个|位)?(?:人|我|老人|老太太|老大爷|小孩|孩子)",
        r"(?:困|关|卡|锁)(?:在|进)了?.{0,3}电梯",
        r"被困.{0,4}电梯|电梯.{0,6}被困",
        # "电梯又坏了，困在3楼了": 困 says someone is trapped, even when the stop is named.
        r"电梯.{0,12}困在",
        r"电梯.{0,8}(?:里|里面|内).{0,8}(?:出不来|打不开门|下不来)",
        r"在.{0,8}电梯里.{0,10}(?:突然|往下)?(?:掉|停|卡)(?:了|住|在)",
        r"电梯.{0,4}(?:掉下|往下掉|坠落|溜梯|冲顶|蹲底)",
    ),
    _rule(
        "燃气泄漏",
        r"(?:燃气|煤气|天然气|液化气|瓦斯).{0,6}(?:泄漏|泄露|漏气|外泄|漏了|在漏|漏出)",
        r"(?:燃气|煤气|天然气|液化气|gas)(?:的)?(?:味|味道|气味)",
        r"闻到.{0,6}(?:燃气|煤气|天然气)",
        r"(?:燃气|煤气|天然气)管.{0,6}(?:破|断|裂|爆|挖|撞)|嘶嘶(?:响|的)",
        r"(?:煤气|燃气|天然气).{0,4}没关",
        r"漏气|(?:煤气|燃气)中毒|一氧化碳中毒",
    ),
    _rule(
        "起火冒烟",
        r"起火|(?<!打)着火|着了火|失火|火灾(?!隐患)|火警|烧起来|烧着了|火苗|还在烧|车着了",
        r"冒(?:黑|白|浓)?烟|浓烟|烟很大|好大的烟|在飘烟",
        r"火花|火星|冒火|烧焦|烧糊|烟雾报警|烟感.{0,3}响|鼓包.{0,4}发烫",
        r"爆炸",
    ),
    _rule(
        "触电",
        r"触电|电到人|电到了|被电|电得|电击|麻了一下|被麻|漏电|电伤",
        r"电线.{0,8}(?:断|耷拉|掉在|垂|冒)",
    ),
    _rule(
        "有人晕倒",
        r"晕倒|昏倒|晕过去|昏过去|昏迷|不省人事|倒地|倒在地上|躺地上不动|倒了.{0,3}在地上|休克",
        r"躺在地上.{0,12}(?:叫|喊)(?:他|她)?不(?:应|醒)",
        r"没(?:有)?了?呼吸|没反应|心脏病(?:犯|发)|抽搐|口吐白沫|喊不醒|喘不上气|胸口疼",
        r"心肺复苏",
    ),
    _rule(
        "水管爆裂",
        r"(?:水管|管子|管道|暖气管|热水器|水箱).{0,4}(?:爆|崩|炸)|爆管",
        r"(?:楼道|家里|屋里).{0,3}全是水",
        r"(?:家|屋|房|地下室|车库|楼道|一楼|厨房|卫生间|客厅|电梯井|配电).{0,4}(?:被)?淹了",
        r"水漫金山|跑水|(?:进水|灌水|倒灌)了|泡在水里|水都漫",
        r"水.{0,6}(?:漫|灌|流|淌|喷)(?:到|进)?.{0,4}(?:我家|家里|屋里|门口|室内|插座|电器)",
    ),
    _rule(
        "高空抛物伤人",
        r"(?:高空|楼上|上面|窗户|阳台).{0,10}(?:扔|抛|掉|丢|落|坠).{0,12}(?:砸|打|划)(?:到|中|伤|在|破)",
        r"砸(?:到|中|伤)了?(?:人|头|小孩|孩子|老人)|砸在.{0,4}头上",
        r"楼上.{0,4}扔(?:菜刀|刀|砖|玻璃|酒瓶)",
    ),
    _rule(
        "老人摔倒",
        r"(?:老人|老太太|老爷子|老大爷|大爷|阿姨|奶奶|爷爷|婆婆|老头|老伴|我妈|我爸)"
        r".{0,8}(?:摔倒|摔了|摔伤|跌倒|跌了|摔跤|滑倒)",
        r"(?:摔|跌|滑)(?:倒|了|伤)?.{0,6}(?:起不来|爬不起来|站不起来|动不了|扶不起来)",
    ),
    _rule(
        "人身危险",
        r"咬(?:伤|了)(?:我|人|孩子|小孩).{0,12}(?:血|医院)|见血|血一直|打起来|头.{0,3}破|划破",
        r"(?:掉|落|摔)(?:进|到|下)?了?.{0,4}(?:水里|河里|湖里|井里|池塘)",
        r"(?:孩子|小孩|老人|儿子|女儿|老太太|我妈|我爸).{0,6}(?:走丢|走失)",
        # The 没 of these is what makes them urgent: it sits in a lookahead, past the negation
        # check (which looks inside the match and just before it).
        r"(?:痴呆|糊涂).{0,16}(?:出门|走)了?(?=.{0,10}(?:没回|找不到))",
        r"(?:孩子|小孩).{0,10}窗(?:户|台)?外(?:面|边)?.{0,3}(?:爬|站|坐)",
        r"(?:独居|老人).{0,12}(?:好几天|几天|两天|三天)(?=没(?:见)?(?:出门|露面|动静|开门))",
        r"拿(?:着)?刀|持刀|要砍",
        r"井盖.{0,6}(?:没了|不见|丢了|被偷|偷走|掀开|塌)|井.{0,2}盖子.{0,10}(?:偷|没了|丢)",
        r"摇摇欲坠",
        r"锁在(?:屋|家|车)里|车里.{0,6}(?:小孩|孩子)|楼顶.{0,6}(?:站|坐)着",
        r"(?<![笑死了])救命|(?:打|叫|喊)了?(?:120|119|救护车|消防车)|急急急",
        r"120.{0,4}打不(?:进|通)|血氧.{0,4}(?:掉|降|只有)",
    ),
)


# Every pattern of every rule in one alternation: most messages match none of them, and one
# search says so at once (a text that matches no alternative anywhere matches no pattern).
_ANY_RULE = re.compile(
    "|".join(f"(?:{pattern.pattern})" for rule in _RULES for pattern in rule.patterns),
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Urgency:
    """Why a message is urgent: the kinds of emergency found and the words that showed them."""

    kinds: tuple[str, ...]
    evidence: tuple[str, ...]


def _negated(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _NEGATION_LOOKBEHIND) : end]
    return bool(_NEGATION.search(window) or _HYPOTHETICAL_AFTER.match(text, end))


def _first_unnegated(text: str, rule: _Rule) -> str | None:
    """The first hit of any of the rule's patterns that is neither negated nor hypothetical."""
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            if not _negated(text, match.start(), match.end()):
                return match.group(0)
    return None


def detect_urgency(text: str) -> Urgency | None:
    """Return the emergencies `text` (normalised) reports, or None when it reports none."""
    if _NOTICE_CONTEXT.search(text) or not _ANY_RULE.search(text):
        return None
    kinds: list[str] = []
    evidence: list[str] = []
    for rule in _RULES:
        found = _first_unnegated(text, rule)
        if found is not None:
            kinds.append(rule.cue)
            evidence.append(found)
    if not kinds:
        return None
    return Urgency(kinds=tuple(kinds), evidence=tuple(evidence))


def is_urgent(text: str) -> bool:
    """True when `text` (normalised) reports a threat to life or property."""
    return detect_urgency(text) is not None
