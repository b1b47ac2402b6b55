"""Urgency rules: every emergency phrasing is flagged, notices and negations are not."""

from __future__ import annotations

import pytest

from nlp import Label, classify, detect_urgency, is_urgent, normalize

URGENT = [
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
]

NOT_URGENT = [
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
