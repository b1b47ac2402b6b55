"""Texts about binding groups and platform events."""

from __future__ import annotations

from bot.domain.community import Group

HOW_TO_BIND = (
    "您好，我是邻里小助手。本群还没有登记到社区名单，"
    "请社区书记或小区书记在群里发送“/绑定 群编号”完成绑定。"
)
USAGE_BIND = "请写上社区登记的群编号（可向社区工作人员询问），例如：/绑定 g-ty51"


def bound(group: Group) -> str:
    """Confirmation after `/bind`."""
    return f"本群已绑定为“{group.name}”，居民在群里反映的问题会自动登记。"


def welcome(group_name: str) -> str:
    """Greeting for a new member."""
    return (
        f"欢迎加入{group_name}！遇到公共设施损坏、环境问题或想咨询办事，"
        "直接在群里说明情况和位置，邻里小助手会登记并告诉您工单号。"
    )


def platform_down(platform_name: str) -> str:
    """Alert to secretaries when a platform account is logged out."""
    return (
        f"【提醒】邻里小助手的{platform_name}账号已掉线，"
        f"{platform_name}群暂时收不到消息，请尽快重新登录。"
    )


PLATFORM_NAMES = {"wechat": "微信", "telegram": "Telegram", "console": "测试窗口"}
