"""normalize(): full-width folding, invisible characters, whitespace; Chinese punctuation kept."""

from __future__ import annotations

import pytest

from nlp import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("５栋２单元电梯坏了！", "5栋2单元电梯坏了！"),
        ("＋１", "+1"),
        ("ＯＫ", "OK"),
        ("１８０１室（急）", "1801室（急）"),
        ("早上好\u200b\u200b", "早上好"),
        ("@刘阿姨\u2005明天几点停水？", "@刘阿姨 明天几点停水？"),
        ("收到\ufeff", "收到"),
        ("  楼道灯\n\n不亮了  ", "楼道灯 不亮了"),
        ("东门\u3000垃圾没人清", "东门 垃圾没人清"),
        ("好的，谢谢。", "好的，谢谢。"),
        ("❤\ufe0f谢谢网格员", "❤谢谢网格员"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    text = "＠王师傅\u2005 ５-２-３０１ 水管爆了！！　快来"
    assert normalize(normalize(text)) == normalize(text)
