"""What Linli says about tags (标签) and tag broadcasts (一键推送)."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from bot.domain.tags import CONFIRM_WITHIN, Broadcast, BroadcastResult, TagChange, TagListing
from handlers.texts.reminders import moment_label

MAX_NAMES = 10
USAGE_TAG = "请写上群编号或 @姓名 和标签，例如：/标签 @刘阿姨 老人 独居，或 /标签 g-ty52 出租户多"
USAGE_UNTAG = "请写上群编号或 @姓名 和要取消的标签，例如：/取消标签 @刘阿姨 独居"
USAGE_PUSH = "请写上标签和内容，例如：/推送 #老人 明天上午9点社区卫生站免费测血压"
PUSH_CANCELLED = "好的，已取消这次推送，没有发出任何消息。"
# Refusals of tag commands, by the key the domain raises (handlers/texts/errors.py).
PROBLEMS: dict[str, str] = {
    "tag.not_allowed": "抱歉，标签和一键推送由社区书记和小区书记使用。",
    "tag.outside_scope": "抱歉，“{name}”不在您负责的小区，不能修改它的标签。",
    "tag.unknown_target": "没有找到“{name}”，请写群编号（如 g-ty51）或 @姓名（配置里的人员）。",
    "tag.ambiguous_target": "有不止一个“{name}”，请改写配置里的编号（如 p-res1 或 g-ty51）。",
    "tag.bad_tag": "请写上标签，每个不超过20个字，例如：老人、出租户、红。",
    "tag.no_recipients": "您负责的范围内没有带 {tags} 标签的群或人，没有可推送的对象。",
}


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    more = f" 等{len(listed)}个" if len(listed) > MAX_NAMES else ""
    return "、".join(listed[:MAX_NAMES]) + more


def _hashtags(tags: Iterable[str]) -> str:
    return " ".join(f"#{tag}" for tag in tags)


def tag_changed(change: TagChange, *, added: bool) -> str:
    """Confirmation after `/tag` or `/untag`."""
    verb = "已为{name}加上标签" if added else "已取消{name}的标签"
    now = "、".join(change.tags) if change.tags else "无"
    return f"{verb.format(name=change.target.name)}：{'、'.join(change.changed)}。\n现有标签：{now}"


def tag_listing(listing: TagListing) -> str:
    """`/tags`: every tag in the sender's scope with its groups and people (staff only)."""
    tags = sorted({*listing.groups, *listing.people})
    if not tags:
        return f"{listing.scope.name}还没有设置任何标签。设置请发：/标签 @姓名或群编号 标签"
    lines = [f"【标签】{listing.scope.name}"]
    for tag in tags:
        parts = []
        groups = listing.groups.get(tag, ())
        people = listing.people.get(tag, ())
        if groups:
            parts.append(f"{len(groups)}个群（{_names(g.name for g in groups)}）")
        if people:
            parts.append(f"{len(people)}人（{_names(p.name for p in people)}）")
        lines.append(f"#{tag}：{'，'.join(parts)}")
    lines.append("推送请发：/推送 #标签 内容")
    return "\n".join(lines)


def push_preview(broadcast: Broadcast, message: str, timezone: ZoneInfo) -> str:
    """What a broadcast would send and to whom; sent only after the reply 1."""
    minutes = int(CONFIRM_WITHIN.total_seconds() // 60)
    lines = [
        f"【推送预览】{_hashtags(broadcast.tags)}",
        f"将发给 {len(broadcast.groups)} 个群、{len(broadcast.people)} 人：",
    ]
    if broadcast.groups:
        lines.append(f"群：{_names(g.name for g in broadcast.groups)}")
    if broadcast.people:
        lines.append(f"个人：{_names(p.name for p in broadcast.people)}")
    lines.append(f"内容：\n{message}")
    if broadcast.held_until is not None:
        lines.append(
            f"现在是免打扰时段，确认后将于{moment_label(broadcast.held_until, timezone)}发出。"
        )
    lines.append(f"回复 1 确认发送，回复 2 取消（{minutes}分钟内有效）。")
    return "\n".join(lines)


def push_message(text: str, sender_name: str) -> str:
    """The broadcast as the groups and people receive it."""
    return f"【通知】{text}\n——{sender_name}"


def push_sent(result: BroadcastResult) -> str:
    """Confirmation after the reply 1."""
    broadcast = result.broadcast
    text = f"已推送 {_hashtags(broadcast.tags)}：{result.groups_reached} 个群、"
    text += f"{result.people_reached} 人，消息会按平台限速陆续发出。"
    missed_groups = len(broadcast.groups) - result.groups_reached
    missed_people = len(broadcast.people) - result.people_reached
    if missed_groups or missed_people:
        text += f"\n另有 {missed_groups} 个群未绑定、{missed_people} 人暂时联系不上，未能发送。"
    return text
