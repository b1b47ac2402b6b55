"""Pure parsing for votes: `/vote` and `/decide` arguments, their 截止 deadline, and ballots.

Nothing here touches storage or the clock: `now` and the time zone are arguments.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.art278 import Choice, Matter, find_matter
from bot.domain.votes import MAX_OPTIONS, Vote, check_closes_at
from bot.errors import InvalidInput

MAX_TITLE_LENGTH = 60
MAX_OPTION_LENGTH = 30

_SEPARATORS = re.compile(r"\s*[|｜丨]\s*")
_ANONYMOUS = re.compile(r"(?:^|(?<=\s))[\[【]?(?:匿名|不记名)[\]】]?(?=\s|$)")
_DEADLINE = re.compile(r"(?:^|(?<=\s))[\[【]?(?:截止到|截止时间|截止|截至)[:：]?\s*(?P<when>.*)$")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(?:\d{1,4}|[零〇一二两三四五六七八九十]{1,3})"


def to_number(text: str) -> int | None:
    """Arabic or Chinese numerals up to 99 (三, 十二, 二十五, 两) as int; None otherwise."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


# -- commands -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollCommand:
    """`/vote 标题 | 选项1 | 选项2 ... [截止 ...] [匿名]`; `closes_at` None means the default."""

    title: str
    options: tuple[str, ...]
    closes_at: datetime | None
    anonymous: bool


@dataclass(frozen=True, slots=True)
class DecisionCommand:
    """`/decide 事项 标题 [截止 ...] [匿名]`; `closes_at` None means the default."""

    matter: Matter
    title: str
    closes_at: datetime | None
    anonymous: bool


@dataclass(frozen=True, slots=True)
class PaperBallotCommand:
    """`/ballot N 室号 同意`: staff entering a paper ballot for a room."""

    number: int
    room: str
    choice_text: str


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _take_flags(
    args: str, now: datetime, zone: ZoneInfo, *, decision: bool
) -> tuple[list[str], datetime | None, bool]:
    """Split on | and take out 匿名 and 截止 ... (each at the end of its segment)."""
    segments: list[str] = []
    deadlines: list[str] = []
    anonymous = False
    for segment in _SEPARATORS.split(_clean(args)):
        stripped, count = _ANONYMOUS.subn("", segment)
        anonymous = anonymous or count > 0
        if deadline := _DEADLINE.search(stripped):
            deadlines.append(deadline["when"].strip(" ]】"))
            stripped = stripped[: deadline.start()]
        stripped = stripped.strip()
        if stripped or not (count or deadline):
            segments.append(stripped)
    if len(deadlines) > 1:
        raise InvalidInput("vote.decision_two_deadlines" if decision else "vote.poll_two_deadlines")
    closes_at = parse_deadline(deadlines[0], now, zone) if deadlines else None
    if closes_at is not None:
        check_closes_at(closes_at, now)
    return segments, closes_at, anonymous


def parse_poll_command(args: str, now: datetime, zone: ZoneInfo) -> PollCommand:
    """Parse what follows `/vote` (or `/投票`); InvalidInput tells the user the right form."""
    segments, closes_at, anonymous = _take_flags(args, now, zone, decision=False)
    if len(segments) < 3 or not segments[0]:
        raise InvalidInput("vote.poll_usage")
    title, options = segments[0], tuple(segments[1:])
    if any(not option for option in options):
        raise InvalidInput("vote.empty_option")
    if len(options) > MAX_OPTIONS:
        raise InvalidInput("vote.too_many_options", max_options=MAX_OPTIONS)
    if len({option.casefold() for option in options}) < len(options):
        raise InvalidInput("vote.duplicate_options")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput("vote.title_too_long", max_length=MAX_TITLE_LENGTH)
    if any(len(option) > MAX_OPTION_LENGTH for option in options):
        raise InvalidInput("vote.option_too_long", max_length=MAX_OPTION_LENGTH)
    return PollCommand(title=title, options=options, closes_at=closes_at, anonymous=anonymous)


def parse_decision_command(args: str, now: datetime, zone: ZoneInfo) -> DecisionCommand:
    """Parse what follows `/decide` (or `/表决`); the first word names the art. 278 matter."""
    segments, closes_at, anonymous = _take_flags(args, now, zone, decision=True)
    words = " ".join(segment for segment in segments if segment).split(" ", 1)
    if len(words) < 2 or not words[1].strip():
        raise InvalidInput("vote.decision_usage")
    matter = find_matter(words[0])
    if matter is None:
        raise InvalidInput("vote.unknown_matter", matter=words[0])
    title = words[1].strip()
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput("vote.title_too_long", max_length=MAX_TITLE_LENGTH)
    return DecisionCommand(matter=matter, title=title, closes_at=closes_at, anonymous=anonymous)


def parse_vote_number(args: str) -> int:
    """The vote number of `/close 12`, `/close #12` or `/close 第12号`."""
    match = re.fullmatch(r"(?:第|#|No\.?)?\s*(\d{1,9})\s*号?(?:投票|表决)?", _clean(args), re.I)
    if match is None:
        raise InvalidInput("vote.number_missing")
    return int(match[1])


def parse_paper_ballot(args: str) -> PaperBallotCommand:
    """Parse `/ballot N 室号 选择`; the choice is read against the vote with `read_ballot`."""
    parts = _clean(args).split(" ")
    if len(parts) != 3:
        raise InvalidInput("ballot.paper_usage")
    return PaperBallotCommand(parse_vote_number(parts[0]), room=parts[1], choice_text=parts[2])


# -- deadlines ------------------------------------------------------------------------------

_TIME = (
    r"(?:\s*(?P<period>上午|早上|中午|下午|傍晚|晚上|凌晨))?\s*"
    rf"(?P<hour>{_NUMBER})(?:[:](?P<minute>\d{{2}})|[点时](?:(?P<half>半)|(?P<minute_cn>{_NUMBER})分?)?)"
)
_RELATIVE = re.compile(
    rf"(?P<count>{_NUMBER}|半)\s*(?:个)?(?P<unit>分钟|小时|钟头|天|日|周|星期|礼拜)\s*(?:后|以后|之后)?"
)
_DAY_WORD = re.compile(rf"(?P<day>今天|今日|今晚|明天|明日|明晚|后天|大后天)(?:{_TIME})?")
_WEEKDAY = re.compile(
    rf"(?P<next>下个?|本|这)?(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天])(?:{_TIME})?"
)
_MONTH_DAY = re.compile(
    rf"(?:(?P<year>\d{{4}})年)?(?P<month>{_NUMBER})月(?P<day>{_NUMBER})[日号](?:{_TIME})?"
)
_ISO = re.compile(rf"(?P<year>\d{{4}})[-/.](?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}})(?:{_TIME})?")
_TIME_ONLY = re.compile(_TIME)
_UNITS = {"分钟": 1, "小时": 60, "钟头": 60, "天": 1440, "日": 1440, "周": 10080}
_UNITS |= {"星期": 10080, "礼拜": 10080}
_DAY_OFFSETS = {"今天": 0, "今日": 0, "今晚": 0, "明天": 1, "明日": 1, "明晚": 1}
_DAY_OFFSETS |= {"后天": 2, "大后天": 3}
_END_OF_DAY = time(23, 59)


def parse_deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A 截止 expression, read in `zone` relative to `now`, as an aware UTC datetime.

    Forms: 12月5日18:00, 12月5日 (23:59 that day), 明天18点, 明晚8点, 3天后, 2小时后, 周五18点,
    下周一, 2026-12-05 18:00, 18:30 (today). A date without a year is the next such date.
    """
    cleaned = _clean(text).replace("：", ":")
    local_now = now.astimezone(zone)
    try:
        result = _parse_local(cleaned, local_now)
    except ValueError:  # a day or hour that does not exist, such as 2月30日 or 25点
        result = None
    if result is None:
        raise InvalidInput("vote.bad_deadline", text=text.strip())
    if result.tzinfo is None:
        result = result.replace(tzinfo=zone)
    return result.astimezone(UTC)


def _parse_local(text: str, local_now: datetime) -> datetime | None:
    today, naive_now = local_now.date(), local_now.replace(tzinfo=None)
    if match := _RELATIVE.fullmatch(text):
        count = 0.5 if match["count"] == "半" else to_number(match["count"])
        if count is None:
            return None
        return local_now + timedelta(minutes=count * _UNITS[match["unit"]])
    if match := _DAY_WORD.fullmatch(text):
        offset = timedelta(days=_DAY_OFFSETS[match["day"]])
        return _at(today + offset, match, evening=match["day"].endswith("晚"))
    if match := _WEEKDAY.fullmatch(text):
        weekday = "一二三四五六日".index(match["weekday"].replace("天", "日"))
        if match["next"] and match["next"].startswith("下"):
            return _at(today + timedelta(days=7 - today.weekday() + weekday), match)
        result = _at(today + timedelta(days=(weekday - today.weekday()) % 7), match)
        # 周五 said on a Friday after the hour means next Friday, not a deadline in the past.
        return result + timedelta(days=7) if result and result <= naive_now else result
    if match := _MONTH_DAY.fullmatch(text) or _ISO.fullmatch(text):
        month, day_of_month = to_number(match["month"]), to_number(match["day"])
        if month is None or day_of_month is None:
            return None
        year = int(match["year"]) if match["year"] else today.year
        result = _at(date(year, month, day_of_month), match)
        if not match["year"] and result is not None and result <= naive_now:
            result = _at(date(year + 1, month, day_of_month), match)
        return result
    if match := _TIME_ONLY.fullmatch(text):
        return _at(today, match)
    return None


def _at(day: date, match: re.Match[str], *, evening: bool = False) -> datetime | None:
    """Naive local datetime of `day` at the match's time, or 23:59 when it gives none."""
    if match["hour"] is None:
        return datetime.combine(day, _END_OF_DAY)
    hour = to_number(match["hour"])
    minute = 30 if match["half"] else to_number(match["minute"] or match["minute_cn"] or "0")
    if hour is None or minute is None:
        return None
    period = match["period"] or ("晚上" if evening else None)
    if (period in ("下午", "傍晚", "晚上") and hour < 12) or (period == "中午" and hour < 11):
        hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    return datetime.combine(day, time(hour, minute))


# -- ballots --------------------------------------------------------------------------------

_BALLOT = re.compile(
    r"(?:我|本人)?(?P<verb>投票|投|选择|选(?!项))?\s*(?:第|选项)?\s*(?P<body>.+?)\s*(?:号选项|号|个|项|票)?"
)
_SEVERAL_NUMBERS = re.compile(rf"{_NUMBER}(?:\s*[\s,、和与及/]\s*{_NUMBER})+")
_TRAILING = " 。.!！~～,，、的啦了吧"
_DECISION_WORDS: dict[str, Choice] = {
    **dict.fromkeys(("同意", "赞成", "支持", "赞同"), Choice.AGREE),
    **dict.fromkeys(("反对", "不同意", "不赞成", "不支持", "不赞同"), Choice.OPPOSE),
    **dict.fromkeys(("弃权", "弃票"), Choice.ABSTAIN),
}
MAX_BALLOT_LENGTH = 20


def read_ballot(text: str, vote: Vote) -> int | None:
    """Read a reply as a ballot for `vote`: the 1-based option, or None when it is not a ballot.

    A ballot is an option number (1, １, 一, 第2个, 选3, 投1号), an option's title, or for
    decisions 同意/赞成/支持, 反对/不同意, 弃权. A message that is clearly meant as a ballot but
    cannot be read (选5 when there are three options, "1和2", 投什么) raises InvalidInput with
    the answer to give; anything else (ordinary chat, long text, +1) returns None.
    """
    cleaned = _clean(text).casefold().rstrip(_TRAILING)
    if not cleaned or len(cleaned) > MAX_BALLOT_LENGTH:
        return None
    match = _BALLOT.fullmatch(cleaned)
    if match is None:  # pragma: no cover - the body group matches any non-empty text
        return None
    body, explicit = match["body"], match["verb"] is not None
    options = [_clean(option).casefold() for option in vote.options]
    for candidate in (cleaned, body):
        if candidate in options:
            return options.index(candidate) + 1
    number = to_number(body)
    if number is not None and (explicit or len(body) <= 2):
        if 1 <= number <= len(options):
            return number
        raise InvalidInput(
            "ballot.no_such_option.decision" if vote.matter else "ballot.no_such_option.poll",
            number=number,
            count=len(options),
        )
    if vote.matter is not None and body in _DECISION_WORDS:
        return int(_DECISION_WORDS[body])
    if _SEVERAL_NUMBERS.fullmatch(body):
        raise InvalidInput(
            "ballot.one_only.decision" if vote.matter else "ballot.one_only.poll",
            count=len(options),
        )
    if explicit:
        raise InvalidInput(
            "ballot.unreadable.decision" if vote.matter else "ballot.unreadable.poll",
            count=len(options),
        )
    return None
