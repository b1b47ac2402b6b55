"""The help text."""

from __future__ import annotations

RESIDENT_HELP = (
    "您好，我是邻里小助手。遇到公共设施损坏、环境问题、邻里矛盾或想咨询办事，"
    "直接在群里说明情况和位置就行，我会登记并转给负责人，并告诉您工单号。"
)
STAFF_HELP = (
    RESIDENT_HELP
    + "\n工作人员命令：/工单 查看待办，/工单 1024 查看详情，/受理 1024，/办结 1024 处理情况。"
)
