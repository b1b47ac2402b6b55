"""Urgency rules: every emergency phrasing is flagged, notices and negations are not."""

from __future__ import annotations

import re._constants as sre_constants
import re._parser as sre_parse

import pytest

from nlp import Label, classify, detect_urgency, is_urgent, normalize
from nlp.urgency import _LEADS, _RULES

URGENT = [
    # A cooking cause does not calm a fire that is burning.
    "厨房着火了！原来是油锅着火了 火很大 快来人",
    # 致电 is a phone call, not "caused"; a plea that starts 紧急情况请 is not a notice.
    "我刚致电物业说我妈摔倒了",
    "紧急情况请物业马上来，电梯困住人了",
    # 电梯困人
    "电梯困人了快来人",
    "3栋电梯把人困住了！！",
    "我被困电梯里了，按警铃没人理",
    "我家孩子关在电梯里了 快帮忙",
    "2单元电梯卡住了里面有人出不来",
    "电梯停在8楼和9楼中间，有人在里面",
    "电梯又坏了，困在3楼了，快来人",
    # 燃气 / 煤气
    "楼道里有煤气味，好浓",
    # A negated longer reading ("煤气味，是不是漏气") must not hide the plain one.
    "厨房有很大的煤气味，是不是漏气了，怎么办",
    "5栋电梯困人了怎么办啊",  # a plea for help now, not a hypothetical
    "我家煤气好像漏了怎么办",
    "燃气泄漏了！！！",
    "三楼好像漏气了，一股天然气的味道",
    "闻到很重的煤气 是不是谁家没关",
    # 起火 / 冒烟
    "5栋有户人家着火了",
    "楼下冒黑烟了 快打119",
    "配电箱起火了",
    "垃圾站那边冒烟了",
    # 触电
    "楼道漏电电到人了",
    "小孩摸路灯杆被电了",
    # 有人晕倒
    "门口有个老人倒地不起",
    "有人晕倒在电梯口了，谁会急救",
    "楼下大爷昏倒了，已经叫了救护车",
    # 水管爆裂 / 淹了
    "水管爆了家里淹了",
    "地下室水管爆裂，水漫金山了",
    "楼上爆管了，我家天花板哗哗往下流",
    "车库被淹了",
    # 高空抛物砸到人
    "高空抛物砸到人了！",
    "楼上扔了个花盆下来砸到小孩头了",
    # 老人摔倒
    "我妈在楼道摔了起不来",
    "隔壁老太太摔倒了，一个人在家",
    "老人摔倒了 赶紧来人",
    # 人身危险 and more ways of saying the ones above
    "电梯卡在六楼了 里面有个老太太和小孩 拍门在喊",
    "水管子又炸了 楼道里哗哗的 我家门口全是水",
    "隔壁喝多了拿刀在楼道里骂 说要砍我们家",
    "凌晨两点单元门口有个人躺在地上 叫他不应",
    "有个小孩在18楼的窗户外面爬",
    "住在5楼的独居老人好几天没见出门了 敲门没人应",
    "三号楼后面那个井 盖子不知道被谁偷走了 黑洞洞的",
    "老人血氧掉到九十一 120打不进去",
    "我家老爷子痴呆 今天早上自己出门了 到现在没回来",
    "断掉的树枝挂在二楼的空调外机上摇摇欲坠",
    # 电梯 mistyped as its homophone 电体, or in pinyin
    "5号楼电体坏了 我儿子关在里面出不来",
    "电体卡住了 里面有个老人",
    "dian ti卡在半中间 有人在里面",
    "我被电梯困住了 手机快没电了",
    # a pipe that burst, with words between 水管 and 爆
    "楼道里的总水管刚刚突然爆了 水一直往下冲",
    # flooding that is still going on
    "地下车库已经淹到车轮了 水还在往里涌",
    "地库淹到膝盖了",
    "地下室水位还在涨 住户快出来",
    # breathing trouble while the ambulance is on its way
    "我奶奶喘不过气 救护车还在路上",
    "我爸喘得很厉害 120马上到 谁家有制氧机",
    # 是不是 asks, it does not deny
    "三楼是不是燃气泄漏了",
    # shutting off the power is not the end of a burst pipe
    "楼上水管爆了 已经关了电闸 楼上没人",
]

NOT_URGENT = [
    "厨房煤气味很重，我已经关了 阀门也关了 窗也开了",
    "万一着火怎么办，楼道里全是杂物",
    "着火的话往哪跑？",
    "电梯没有困人，就是有点响",
    "电梯里碰到王阿姨了",
    "电梯坏了三天了",
    "明天上午消防演练，听到警报不要慌",
    "请大家预防燃气泄漏，出门关好阀门",
    "严禁在楼道内使用明火",
    "消防通道被车堵了",
    "楼道里堆的纸箱是火灾隐患",
    "不是着火，是楼下烧烤的烟",
    "早上好",
    "谢谢大家",
    "气炸了，快递又丢了",
    "如遇电梯困人，请保持冷静，按下警铃等待救援",
    "一位老人在小区门口晕倒，救护车赶到，老人目前已脱离危险",
    "回忆起上周被困电梯的经历，刘女士仍心有余悸",
    "快递员敲门没人应，放门口了",
    "楼下烧烤店天天冒烟",
    # staff notices and safety tips: what to do when it happens
    "紧急情况下请先打120再联系物业",
    "【用电安全】发现有人触电时切勿直接用手去拉",
    "电梯困人时请按警铃，不要扒门",
    "【通报】上月辖区发生一起燃气泄漏事故",
    # an emergency that is over
    "刚才地下室冒烟的情况已处理完毕，人员均安全",
    "厨房有煤气味 查了是灶头没拧紧 已经关了",
    "火已经扑灭了，大家不用下楼了",
    # a fall told as a past event or as a consequence of a hazard
    "小区台阶太滑，已有两位老人摔伤，请物业加装扶手",
    "路面结冰，好几个老人在这滑倒过",
    "我爸上礼拜在楼梯上摔了一跤，现在腰还疼",
    "上个月我被困电梯里半小时，物业到现在也没给个说法",
    "我妈腿摔了以后一直在家养着，买菜不方便",
    # a hypothetical further back in the clause
    "今天太热了 买菜回来差点在楼道里晕倒",
    # trivial: a small cut, a smoke alarm set off by cooking, a figure of speech
    "孩子手指划破了点皮 谁家有创可贴",
    "烟雾报警器响了 原来是我家炒菜炒糊了",
    "楼道里闷得喘不过气 物业开开窗吧",
    "被电梯门夹了一下衣服",
]


@pytest.mark.parametrize("text", URGENT)
def test_urgent_phrasings_are_flagged(text: str) -> None:
    assert is_urgent(normalize(text))


@pytest.mark.parametrize("text", NOT_URGENT)
def test_notices_negations_and_chat_are_not_urgent(text: str) -> None:
    assert detect_urgency(normalize(text)) is None


@pytest.mark.parametrize("text", URGENT)
def test_urgent_message_is_never_none(text: str) -> None:
    result = classify(text)
    assert result.urgent
    assert result.label is not Label.NONE


def test_urgency_names_its_evidence() -> None:
    urgency = detect_urgency("楼道里有煤气味，有人晕倒了")
    assert urgency is not None
    assert urgency.kinds == ("燃气泄漏", "有人晕倒")
    assert "煤气味" in urgency.evidence


def _first_characters(items: sre_parse.SubPattern, found: set[str]) -> bool:
    """Add to `found` the characters a match of `items` can begin with; True if it can be empty."""
    for op, av in items:
        if op is sre_constants.LITERAL:
            found.add(chr(av))
            return False
        if op is sre_constants.IN:
            for member_op, member in av:
                assert member_op is sre_constants.LITERAL, "write the class out as literals"
                found.add(chr(member))
            return False
        if op is sre_constants.SUBPATTERN:
            if not _first_characters(av[3], found):
                return False
        elif op is sre_constants.BRANCH:
            empty = [_first_characters(branch, found) for branch in av[1]]
            if not any(empty):
                return False
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            if not _first_characters(av[2], found) and av[0] > 0:
                return False
        elif op not in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            raise AssertionError(f"a pattern may not begin with {op}")
    return True


@pytest.mark.parametrize(
    "pattern", [p.pattern for rule in _RULES for p in rule.patterns], ids=lambda p: p[:20]
)
def test_every_pattern_begins_with_a_lead_character(pattern: str) -> None:
    """The prefilter skips positions whose character is not in _LEADS: no hit may begin there."""
    found: set[str] = set()
    assert not _first_characters(sre_parse.parse(pattern), found), "a pattern may not match ''"
    assert found <= set(_LEADS), f"add {''.join(sorted(found - set(_LEADS)))} to _LEADS"
