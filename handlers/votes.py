"""Vote handlers: /vote and /decide open votes, replies and buttons are ballots, /close ends a
vote early, and /ballot enters a paper ballot.
"""

from __future__ import annotations

import re

from bot.context import HandlerContext
from bot.domain.community import Group
from bot.domain.vote_commands import (
    parse_decision_command,
    parse_paper_ballot,
    parse_poll_command,
    parse_vote_number,
)
from bot.domain.vote_ports import BallotChannel, CastBallot, Voter
from bot.errors import InvalidInput
from bot.events import IncomingMessage, Platform
from bot.replies import Reply
from bot.router import Match, Router
from handlers.texts import votes as texts

router = Router("votes")

_BUTTON = re.compile(rf"{texts.BUTTON_PREFIX}:(?P<number>\d{{1,9}}):(?P<choice>\d)")


def parse_button(payload: str) -> tuple[int, int] | None:
    """(vote number, choice) of a ballot button's payload, None for other buttons."""
    match = _BUTTON.fullmatch(payload)
    return (int(match["number"]), int(match["choice"])) if match else None


def voter_of(msg: IncomingMessage, ctx: HandlerContext) -> Voter:
    """The sender with every platform id they are known by (their own, and the config's)."""
    accounts = [(msg.sender.platform, msg.sender.user_id)]
    if ctx.person.telegram_user_id:
        accounts.append((Platform.TELEGRAM, ctx.person.telegram_user_id))
    if ctx.person.wechat_id:
        accounts.append((Platform.WECHAT, ctx.person.wechat_id))
    return Voter(ctx.person, tuple(dict.fromkeys(accounts)), anonymous=msg.sender_is_chat)


def _group(msg: IncomingMessage, ctx: HandlerContext) -> Group:
    if not msg.chat.is_group or ctx.group is None:
        raise InvalidInput.literal(texts.NEED_GROUP)
    return ctx.group


async def _typed_ballot(msg: IncomingMessage, ctx: HandlerContext) -> CastBallot | None:
    """`投票 2` typed without a slash reads as the command word; it may be a ballot."""
    if msg.text.startswith("/"):
        return None
    return await ctx.services.votes.cast_text(msg.text, voter_of(msg, ctx), ctx.group)


@router.command("vote", "投票")
async def start_poll(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/投票 标题 | 选项1 | 选项2 [截止 ...] [匿名]`: a quick poll of this group."""
    if cast := await _typed_ballot(msg, ctx):
        return Reply(texts.ballot_recorded(cast))
    group = _group(msg, ctx)
    command = parse_poll_command(match.args, ctx.now, ctx.services.timezone)
    opened = await ctx.services.votes.start_poll(command, ctx.person, group)
    vote = opened.vote
    return Reply(texts.poll_opened(vote, ctx.services.timezone), buttons=texts.ballot_buttons(vote))


@router.command("decide", "表决")
async def start_decision(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/表决 事项 标题 [截止 ...]`: an owners' decision under 民法典 art. 278."""
    if cast := await _typed_ballot(msg, ctx):
        return Reply(texts.ballot_recorded(cast))
    group = _group(msg, ctx)
    command = parse_decision_command(match.args, ctx.now, ctx.services.timezone)
    opened = await ctx.services.votes.start_decision(command, ctx.person, group)
    text = texts.decision_opened(opened.vote, opened.register, ctx.services.timezone)
    return Reply(text, buttons=texts.ballot_buttons(opened.vote))


@router.command("close", "结束投票")
async def close_vote(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """`/结束投票 12`: the result goes to the vote's group and the secretary."""
    tally = await ctx.services.votes.close(parse_vote_number(match.args), ctx.person)
    if ctx.group is not None and ctx.group.id == tally.vote.group_id:
        return None  # the result itself is the answer, posted in this group
    return Reply(texts.closed_elsewhere(tally.vote))


@router.command("ballot", "纸质票")
async def enter_paper_ballot(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply:
    """`/纸质票 12 501 同意`: staff enter an owner's paper ballot."""
    command = parse_paper_ballot(match.args)
    cast = await ctx.services.votes.cast_paper(command, ctx.person)
    return Reply(texts.paper_recorded(cast, command.room))


@router.message()
async def cast_ballot(msg: IncomingMessage, ctx: HandlerContext, match: Match) -> Reply | None:
    """A ballot button, or a reply that reads as a ballot for an open vote; else None."""
    votes = ctx.services.votes
    if msg.is_button:
        pressed = parse_button(msg.text)
        if pressed is None:
            return None
        number, choice = pressed
        cast = await votes.cast(number, choice, voter_of(msg, ctx), ctx.group, BallotChannel.BUTTON)
    else:
        found = await votes.cast_text(msg.text, voter_of(msg, ctx), ctx.group)
        if found is None:
            return None
        cast = found
    return Reply(texts.ballot_recorded(cast))
