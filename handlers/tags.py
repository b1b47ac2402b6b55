"""Tag commands (/tag, /untag, /tags) and tag broadcasts (/push #标签 内容), which send only
after the sender confirms the preview with 1 (a flow, STYLE E8)."""

from __future__ import annotations

import re

from bot.context import HandlerContext
from bot.domain.tags import CONFIRM_WITHIN
from bot.errors import InvalidInput
from bot.events import IncomingMessage
from bot.replies import Reply
from bot.router import Match, Router
from handlers import answers
from handlers.answers import Answer
from handlers.texts import tags as texts

router = Router("tags")
CONFIRM_PUSH_STATE = "confirm_push"
_TARGET_THEN_TAGS = re.compile(r"^(\S+)\s+(\S.*)$", re.DOTALL)
_TAG_SEPARATORS = re.compile(r"[\s、，,；;]+")
# Leading #tags, then the message: "#老人 #独居 明天降温" or "#老人#独居 明天降温".
_TAGS_THEN_TEXT = re.compile(r"^((?:[#＃][^\s#＃]+\s*)+)(\S.*)$", re.DOTALL)


def _target_and_tags(args: str, usage: str) -> tuple[str, list[str]]:
    found = _TARGET_THEN_TAGS.match(args.strip())
    if found is None:
        raise InvalidInput.literal(usage)
    return found.group(1), _TAG_SEPARATORS.split(found.group(2))


@router.command("tag", "标签")
async def add_tags(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/标签 @刘阿姨 老人 独居` or `/标签 g-ty52 出租户多`."""
    reference, tags = _target_and_tags(match.args, texts.USAGE_TAG)
    service = ctx.services.tags
    change = await service.tag(ctx.person, service.find_target(reference), tags)
    return Reply(texts.tag_changed(change, added=True))


@router.command("untag", "取消标签")
async def remove_tags(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/取消标签 @刘阿姨 独居` (a tag from the config can be taken back too)."""
    reference, tags = _target_and_tags(match.args, texts.USAGE_UNTAG)
    service = ctx.services.tags
    change = await service.untag(ctx.person, service.find_target(reference), tags)
    return Reply(texts.tag_changed(change, added=False))


@router.command("tags", "标签列表")
async def list_tags(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """Every tag in the sender's scope; privately, as it names residents."""
    listing = await ctx.services.tags.listing(ctx.person)
    return Reply(texts.tag_listing(listing), private=True)


@router.command("push", "推送")
async def preview_push(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/推送 #老人 内容`: shows the recipients and waits for 1 (send) or 2 (cancel)."""
    found = _TAGS_THEN_TEXT.match(match.args.strip())
    if found is None:
        raise InvalidInput.literal(texts.USAGE_PUSH)
    tags = re.split(r"[\s#＃]+", found.group(1))
    broadcast = await ctx.services.tags.preview(ctx.person, tags)
    slots = {"tags": " ".join(broadcast.tags), "text": found.group(2).strip()}
    await ctx.conversations.start(msg.chat, msg.sender, CONFIRM_PUSH_STATE, slots, CONFIRM_WITHIN)
    message = texts.push_message(slots["text"], ctx.person.name)
    return Reply(texts.push_preview(broadcast, message, ctx.services.timezone))


# The numbers the broadcast preview offers.
_PUSH_NUMBERS = {1: Answer.YES, 2: Answer.NO}


@router.flow(CONFIRM_PUSH_STATE)
async def confirm_push(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """1 (or 确认, 好的, 发吧) sends the broadcast, 2 (or 取消, 不用了) cancels it; anything
    else ends the question unanswered."""
    said = answers.reply_to(match.args, _PUSH_NUMBERS)
    await ctx.conversations.finish(msg.chat, msg.sender)
    if ctx.conversation is None or said is None:
        return None
    if said is not Answer.YES:  # 2, 取消, 不用了, 不是 …
        return Reply(texts.PUSH_CANCELLED)
    slots = ctx.conversation.slots
    message = texts.push_message(slots["text"], ctx.person.name)
    result = await ctx.services.tags.push(ctx.person, slots["tags"].split(), message)
    return Reply(texts.push_sent(result))
