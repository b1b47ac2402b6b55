"""classify(): the public contract and obvious cases of every label."""

from __future__ import annotations

import pytest

from nlp import Classification, Label, classify

NONE_CASES = [
    "早上好",
    "谢谢大家",
    "收到",
    "+1",
    "＋１",
    "好的👍",
    "[强][强]",
    "谢谢网格员，辛苦了！",
    "大家晚安",
    "哈哈哈哈",
]


@pytest.mark.parametrize("text", NONE_CASES)
def test_acknowledgements_are_none(text: str) -> None:
    result = classify(text)
    assert result.label is Label.NONE
    assert not result.urgent


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("5栋电梯坏了三天了", Label.REPAIR),
        ("3单元楼道灯不亮了，晚上黑乎乎的", Label.REPAIR),
        ("楼上邻居天天半夜跺脚，吵得睡不着", Label.DISPUTE),
        ("请问老年证在哪里办理", Label.INQUIRY),
        ("建议小区增设几个健身器材", Label.SUGGESTION),
        ("东门垃圾堆了好几天没人清理", Label.INCIDENT),
        ("举报一下，楼下饭店油烟太大，天天扰民", Label.COMPLAINT),
    ],
)
def test_obvious_requests(text: str, label: Label) -> None:
    assert classify(text).label is label


def test_contract() -> None:
    result = classify("5栋电梯坏了三天了")
    assert isinstance(result, Classification)
    assert 0.0 < result.confidence <= 1.0
    assert result.runner_up is not result.label
    assert result.cues
    assert len(result.cues) <= 5
    assert all(isinstance(cue, str) and cue for cue in result.cues)


def test_deterministic() -> None:
    texts = ["5栋电梯坏了三天了", "楼道里有人飞线充电", "早上好", "请问医保怎么交"]
    assert [classify(text) for text in texts] == [classify(text) for text in texts]
