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
    r"没有|没|(?<!是)不是|并非|未|无|别|不会|不用|不要|禁止|严禁|不准|不得|防止|以免|避免|预防|谨防|以防"
    r"|万一|要是|如果|假如|一旦|迟早|会|要|差点|险些|容易|怕|担心|可能|每天|天天|经常|总是|老是"
    r"|屡屡|常常|频繁|都|真|以为|差一点|如遇|遇到"
    # a degree complement is a figure of speech: "闷得喘不过气", "气得晕过去"
    r"|(?:闷|热|累|气|吵|烦|笑|挤)得"
)
# Words right after a hit that make it hypothetical: "着火的话", "砸到头可不得了". Not 怎么办:
# "电梯困人了怎么办" is someone asking for help now, and a missed emergency costs more than a
# needless page ("万一着火怎么办" is caught by 万一 before the hit). Also a generic "when X"
# ("燃气泄漏时切勿开灯", "电梯困人请第一时间按警铃") and an event told as the background of
# another ("腿摔了以后下不了楼").
_HYPOTHETICAL_AFTER = re.compile(
    r".{0,6}(?:的话|可不得了|就麻烦|跑不|进不来|拿不到|能逃生|很危险)"
    r"|.{0,3}(?:两次|几次|多次|频发)"
    r"|(?:时|的时候)(?!间|候)|请第一时间|.?(?:以后|之后)"
)
# A character inside one clause (no punctuation or space between).
_IN_CLAUSE = r"[^，。！？!?；;\s]"
# Hypothetical markers that reach a hit further back, up to the end of their clause:
# "差点在里面晕过去", "万一哪天楼道里起火".
_HYPOTHETICAL_BEFORE = re.compile(
    rf"(?:差点|差一点|险些|万一|如果|要是|假如|一旦){_IN_CLAUSE}{{0,8}}$"
)
# Time words that put a hit in the past ("上礼拜在这摔了一跤", "上周被困电梯那事"), found in
# the hit or in its clause just before it, unless the hit itself says it is still going on.
_EARLIER_WORDS = (
    r"上礼拜|上星期|上周|上个?月|去年|前几天|前阵子|前些天|以前|之前|曾经|有一次|有次|当时"
)
_EARLIER = re.compile(_EARLIER_WORDS)
_EARLIER_BEFORE = re.compile(f"(?:{_EARLIER_WORDS}){_IN_CLAUSE}{{0,10}}$")
_STILL_GOING = re.compile(r"起不来|站不起来|动不了|出不来|还在|正在|现在|刚才|刚刚")
_EARLIER_LOOKBEHIND = 12
# Context that marks a whole message as a notice, drill, lesson, forwarded news or an emergency
# already over ("后来处理得挺快", "人没事") rather than one happening now.
_NOTICE_CONTEXT = re.compile(
    r"演练|演习|培训|讲座|知识|宣传|科普|安全提示|温馨提示|小常识|注意事项|新闻|转发|寻人启事"
    r"|引以为戒|没事了|人没事|已经没事|报个平安|虚惊|后来|处理得|幸亏|多亏|放心|没骨折|休养|那次"
    r"|已经换了|检查过了|脱离危险|心有余悸|回忆|事后"
    # staff notices and safety tips that say what to do in an emergency, reports of past ones
    r"|紧急情况(?:下|时|请(?:直接)?(?:拨打|打|联系))|切勿|安全】|通报|记者|据.{0,3}(?:了解|报道|介绍)|误报"
    # an emergency already over
    r"|处理好了|已(?:经)?处理(?:完|好)?|已(?:经)?解决|人员(?:均|都)?安全|安全(?:救出|撤离)"
    r"|已(?:经)?(?:被)?救出|不用担心|幸好|已(?:经)?(?:被)?扑灭|火(?:已经|已|都)灭了"
    r"|(?<!门)已经关(?:掉|好|上)?了(?:阀门?|总阀|煤气|燃气|火)?(?=[\s，。！？!?]|开窗|$)"
    # trivial: a small cut, a smoke alarm set off by cooking
    r"|创可贴|小口子|小伤口|擦破(?:了?点)?皮|破了?点皮|皮外伤"
    r"|(?:原来是?|是我家).{0,8}(?:煎|炒|炖|煮|熬|烤|做饭|烧菜|锅)(?!.{0,4}(?:着火|起火|烧起来|火很大))"
)
_NEGATION_LOOKBEHIND = 4


@dataclass(frozen=True, slots=True)
class _Rule:
    """One kind of emergency and the patterns that reveal it."""

    cue: str
    # One pattern per alternative, tried separately: in one alternation a longer alternative
    # that is negated ("煤气味，是不是漏气") would hide a shorter one that is not ("煤气味").
    patterns: tuple[re.Pattern[str], ...]
    # Words just before a hit that tell this kind of hit as an earlier event or a consequence
    # rather than one happening now ("已有老人摔伤", "致多名老人摔伤").
    earlier: re.Pattern[str] | None = None


def _rule(cue: str, *alternatives: str, earlier: str | None = None) -> _Rule:
    return _Rule(
        cue,
        tuple(re.compile(a, re.IGNORECASE) for a in alternatives),
        re.compile(f"(?:{earlier}){_IN_CLAUSE}{{0,10}}$") if earlier else None,
    )


# The lift, also as residents mistype it: the homophone 电体, or pinyin.
_LIFT = r"(?:电梯|电体|dian ?ti)"


def _lift(*alternatives: str) -> tuple[str, ...]:
    return tuple(a.replace("电梯", _LIFT) for a in alternatives)


_RULES: tuple[_Rule, ...] = (
    _rule(
        "电梯困人",
        *_lift(
            r"电梯.{0,8}?(?:困|关|卡|憋)(?:住|着)?了?(?:人|个人|一个人|俩人|小孩|孩子|老人)",
            r"电梯.{0,8}?(?:把|将)?(?:人|小孩|孩子|老人|我|我们).{0,3}(?:困|关|卡)住",
            r"电梯.{0,16}(?:有人|人还|我们?|孩子)(?:还)?在里面",
            r"电梯.{0,16}里面(?:还)?有(?:个|位)?(?:人|我|老人|老太太|老大爷|小孩|孩子)",
            r"(?:困|关|卡|锁)(?:在|进)了?.{0,3}电梯",
            r"被困.{0,4}电梯|电梯.{0,6}被困",
            r"被电梯.{0,4}(?:困|关|卡)住",
            # "电梯又坏了，困在3楼了": 困 says someone is trapped, even when the stop is named.
            r"电梯.{0,12}困在",
            r"电梯.{0,8}(?:里|里面|内).{0,8}(?:出不来|打不开门|下不来)",
            r"在.{0,8}电梯里.{0,10}(?:突然|往下)?(?:掉|停|卡)(?:了|住|在)",
            r"电梯.{0,4}(?:掉下|往下掉|坠落|溜梯|冲顶|蹲底)",
        ),
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
        r"触电|电到人|电到了|被电(?!梯|体)|电得|电击|麻了一下|被麻|漏电|电伤",
        r"电线.{0,8}(?:断|耷拉|掉在|垂|冒)",
    ),
    _rule(
        "有人晕倒",
        r"晕倒|昏倒|晕过去|昏过去|昏迷|不省人事|倒地|倒在地上|躺地上不动|倒了.{0,3}在地上|休克",
        r"躺在地上.{0,12}(?:叫|喊)(?:他|她)?不(?:应|醒)",
        r"没(?:有)?了?呼吸|没反应|心脏病(?:犯|发)|抽搐|口吐白沫|喊不醒|喘不上气|胸口疼",
        r"心肺复苏",
        r"喘(?:得|的)(?:很|太|好)?(?:厉害|不行|凶)|喘不过气|呼吸困难|上不来气",
        r"(?:120|救护车)(?:已经|马上|正|还)?(?:在路上|在来的路上|快到|马上到)",
    ),
    _rule(
        "水管爆裂",
        r"(?:水管|管子|管道|暖气管|热水器|水箱).{0,4}(?:爆|崩|炸)|爆管",
        # "公共水管在我家门口爆了": words between, within one clause.
        rf"(?:水管|管子|管道|暖气管){_IN_CLAUSE}{{0,10}}?(?:爆|崩|炸)(?:了|开|裂)",
        r"(?:楼道|家里|屋里).{0,3}全是水",
        r"(?:家|屋|房|地下室|地库|车库|楼道|一楼|厨房|卫生间|客厅|电梯井|配电).{0,4}(?:被)?淹(?:了|到)",
        # Water still coming in: "水还在往里灌", "水位还在涨".
        r"水位?(?:还|一直|不停|仍)(?:在)?(?:往(?:里|下|外|上))?(?:灌|涨|漫|涌|喷)",
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
        earlier=r"已有|已经有|有过|多名|多位|好几|几[个位名]|不少|好多|很多|因此|导致|以致",
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


# Every character a hit of some pattern can begin with (tests/unit/test_nlp_urgency.py checks
# that each pattern's first characters are here: add new ones when adding a pattern).
_LEADS = (
    "电困关卡锁被在dg燃煤天液瓦闻嘶漏起着失火烧冒浓烟好爆触麻电晕昏不倒躺休没心抽口喊喘胸呼上"
    "1救水管暖热楼家屋房地车一厨卫客配进灌跑泡高窗阳砸老大阿奶爷婆我摔跌滑咬见血打头划掉落孩小儿"
    "女痴糊独拿持要井摇急叫鼓还"
)
# Every pattern of every rule in one alternation: most messages match none of them, and one
# search says so at once (a text that matches no alternative anywhere matches no pattern).
# The leading class lets the search skip, with one test, the positions where no hit can begin.
_ANY_RULE = re.compile(
    f"(?=[{_LEADS}])(?:"
    + "|".join(f"(?:{pattern.pattern})" for rule in _RULES for pattern in rule.patterns)
    + ")",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Urgency:
    """Why a message is urgent: the kinds of emergency found and the words that showed them."""

    kinds: tuple[str, ...]
    evidence: tuple[str, ...]


def _negated(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _NEGATION_LOOKBEHIND) : end]
    if _NEGATION.search(window) or _HYPOTHETICAL_AFTER.match(text, end):
        return True
    before = text[max(0, start - _EARLIER_LOOKBEHIND) : start]
    return bool(_HYPOTHETICAL_BEFORE.search(before))


def _earlier(text: str, start: int, end: int, rule: _Rule) -> bool:
    """True when the hit is told as a past event or a consequence, not one going on now."""
    hit = text[start:end]
    if _STILL_GOING.search(hit):
        return False
    before = text[max(0, start - _EARLIER_LOOKBEHIND) : start]
    return bool(
        _EARLIER.search(hit)
        or _EARLIER_BEFORE.search(before)
        or (rule.earlier is not None and rule.earlier.search(before))
    )


def _first_unnegated(text: str, rule: _Rule) -> str | None:
    """The first hit of any of the rule's patterns that is not negated, hypothetical or past."""
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            start, end = match.span()
            if not _negated(text, start, end) and not _earlier(text, start, end, rule):
                return match.group(0)
    return None


def detect_urgency(text: str) -> Urgency | None:
    """Return the emergencies `text` (normalised) reports, or None when it reports none."""
    if not _ANY_RULE.search(text) or _NOTICE_CONTEXT.search(text):
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
