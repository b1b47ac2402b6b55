"""Texts shared by every feature: apologies, refusals, help."""

from __future__ import annotations

SORRY = "抱歉，系统刚才出了点问题，请稍后再试，或直接联系网格员。"
STAFF_ONLY = "抱歉，这个操作只有工作人员可以使用。如需帮助，请直接在群里说明情况。"
NEED_GROUP = "请在楼道群或小区群里使用这个命令。"
