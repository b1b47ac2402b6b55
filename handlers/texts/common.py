"""Texts shared by every feature: apologies, refusals, help."""

from __future__ import annotations

from collections.abc import Sequence

SORRY = "抱歉，系统刚才出了点问题，请稍后再试，或直接联系网格员。"
STAFF_ONLY = "抱歉，这个操作只有工作人员可以使用。如需帮助，请直接在群里说明情况。"
NEED_GROUP = "请在楼道群或小区群里使用这个命令。"


def with_numbered_choices(text: str, labels: Sequence[str]) -> str:
    """Where there are no buttons (WeChat, console, replay): the choices as numbered replies.

    Left out when the text already lists every choice (a vote names its options itself).
    """
    if not labels or all(label in text for label in labels):
        return text
    choices = "，".join(
        f"回复 {number} {label.removeprefix(f'{number} ')}"
        for number, label in enumerate(labels, start=1)
    )
    return f"{text}\n{choices}"
