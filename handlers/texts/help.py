"""The help text."""

from __future__ import annotations

RESIDENT_HELP = (
    "您好，我是邻里小助手。遇到公共设施损坏、环境问题、邻里矛盾或想咨询办事，"
    "直接在群里说明情况和位置就行，我会登记并转给负责人，并告诉您工单号。"
    "投票时直接回复选项序号即可。"
)
STAFF_HELP = (
    RESIDENT_HELP + "\n工单：/工单 查看待办，/工单 1024 查看详情，/受理 1024，/处理中 1024，"
    "/办结 1024 处理情况，/走访 1024 说明，/统计 查看三率。"
    "\n书记：/指派 1024 @姓名，/转办 1024 单位，/合并 1025 1024，/拆分 1025，/绑定 群编号，"
    "/值班 12月11日 姓名，/日报，/周研判，/标签 @姓名 标签，/标签列表，/推送 #标签 内容。"
    "\n投票与提醒：/投票 标题 | 选项1 | 选项2，/表决 事项 标题，/结束投票 编号，"
    "/纸质票 编号 室号 同意，/提醒 明天上午9点 内容，/提醒列表，/取消提醒 编号。"
)


def voice_hint(grid_worker: str | None) -> str:
    """The answer to a voice message sent privately: Linli cannot listen to it."""
    text = (
        "抱歉，我还听不懂语音。请用文字说一下是什么事、在哪里"
        "（例如：5栋2单元楼道灯坏了），我来登记。"
    )
    if grid_worker:
        text += f"着急的话请直接联系网格员{grid_worker}。"
    return text
