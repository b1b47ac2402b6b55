"""Privacy masking: phone, ID card and plate numbers never leave Linli unmasked, whatever their
spelling (full-width digits, spaces, dashes, invisible characters), in messages and in logs."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.domain.community import Directory, Group, Level, Node, Person, Role
from bot.events import Button, ChatRef, OutgoingMessage, Platform
from bot.outbox import Outbox, OutboxEntry
from bot.privacy import install_log_masking, mask

KNOWN = [
    ("电话13812345678", "电话138****5678"),
    ("手机 +86 138-1234-5678 谢谢", "手机 138****5678 谢谢"),
    ("１３８　１２３４　５６７８", "138****5678"),
    ("138\u200b1234\u200b5678", "138****5678"),
    ("8613912345678", "139****5678"),
    ("身份证110101199001011234", "身份证110***********1234"),
    ("11010119900101123x号", "110***********123X号"),
    ("车牌京A12345停在门口", "车牌京A***45停在门口"),
    ("沪A·D12345", "沪A****45"),
    ("工单 1001，2026-12-01 09:00，5幢1单元302室", "工单 1001，2026-12-01 09:00，5幢1单元302室"),
    ("座机021-62345678", "座机021****5678"),
    ("物业电话 0571 8765 4321", "物业电话 057*****4321"),
    ("房号0501，订单01234", "房号0501，订单01234"),
]


@pytest.mark.parametrize(("text", "expected"), KNOWN)
def test_known_spellings(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_masking_is_idempotent() -> None:
    for text, _ in KNOWN:
        assert mask(mask(text)) == mask(text)


FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
SEPARATORS = ["", "", "", " ", "-", ".", "\u200b", "\u200c", "\u2060", "\ufeff", "\u3000",
              "\u00a0", "\u2005", "－", "·", "  "]  # fmt: skip
WORDS = ["您好", "我家电话", "联系", "请回电", "楼下", "身份证号", "，", "。", "：", "谢谢", "a",
         "车"]  # fmt: skip


@st.composite
def spelled(draw: st.DrawFn, digits: str) -> str:
    """The digits as a resident might type them."""
    out = []
    for index, digit in enumerate(digits):
        if index:
            out.append(draw(st.sampled_from(SEPARATORS)))
        out.append(FULL_WIDTH.get(digit, digit) if draw(st.booleans()) else digit)
    return "".join(out)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """(how it is written, the national number)."""
    number = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    prefix = draw(st.sampled_from(["", "", "+86", "+86 ", "86", "８６-", "＋８６ "]))
    return prefix + draw(spelled(number)), number


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(how it is written, the 18 characters)."""
    body = draw(st.text("0123456789", min_size=17, max_size=17))
    check = draw(st.sampled_from("0123456789Xx"))
    return draw(spelled(body)) + check, (body + check).upper()


def _digit_runs(text: str) -> list[str]:
    """Runs of digits once the separators a number may contain are taken out."""
    folded = unicodedata.normalize("NFKC", text)
    for separator in SEPARATORS:
        if separator:
            folded = folded.replace(unicodedata.normalize("NFKC", separator), "")
    return re.findall(r"[0-9X]+", folded.upper())


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A message with one to three numbers in it, and the numbers' plain digits."""
    parts: list[str] = []
    secrets: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        written, plain = draw(st.one_of(phones(), id_numbers()))
        parts += [draw(st.sampled_from(WORDS)), written]
        secrets.append(plain)
    parts.append(draw(st.sampled_from(WORDS)))
    return "".join(parts), secrets


def _assert_clean(text: str, secrets: list[str]) -> None:
    runs = _digit_runs(text)
    for secret in secrets:
        assert not any(secret in run for run in runs), (text, secret)
        assert any(run.endswith(secret[-4:]) for run in runs)  # masked, not dropped


@settings(max_examples=400, deadline=None)
@given(messages())
def test_no_number_survives_masking(message: tuple[str, list[str]]) -> None:
    text, secrets = message
    _assert_clean(mask(text), secrets)


class _Stored:
    """An OutboxRepository that keeps what it is given."""

    def __init__(self) -> None:
        self.entries: list[OutboxEntry] = []

    async def add(self, entry: OutboxEntry, created_at: datetime, not_before_at: datetime) -> int:
        self.entries.append(entry)
        return len(self.entries)

    async def pending(self, platform: Platform, now: datetime, limit: int) -> list[OutgoingMessage]:
        return []

    async def mark_sent(self, outbox_id: int, at: datetime) -> None:
        return None

    async def mark_failed(
        self,
        outbox_id: int,
        at: datetime,
        error: str,
        *,
        retry_at: datetime | None,
        parts_sent: int = 0,
    ) -> None:
        return None

    async def next_due_at(self, platform: Platform) -> datetime | None:
        return None


def _outbox() -> tuple[Outbox, _Stored, Person, Group]:
    nodes = [Node("c", "社区", Level.COMMUNITY, None)]
    group = Group("g", "群", Level.COMMUNITY, "c")
    person = Person("p", "某人", (Role.RESIDENT,), "c")
    stored = _Stored()
    clock = FakeClock(datetime(2026, 12, 1, tzinfo=UTC))
    outbox = Outbox(stored, Directory(nodes, [group], [person]), clock, [Platform.CONSOLE])
    return outbox, stored, person, group


@settings(max_examples=150, deadline=None)
@given(messages())
def test_every_outbound_path_is_masked(message: tuple[str, list[str]]) -> None:
    """Replies, private notices, group posts and button labels all pass Outbox.put."""
    text, secrets = message
    outbox, stored, person, group = _outbox()

    async def send_everywhere() -> None:
        await outbox.put(OutboxEntry(ChatRef(Platform.CONSOLE, "g"), text, reply_to_id="m1"))
        await outbox.to_person(person, text, buttons=(Button(text, "/评价 1001 1"),))
        await outbox.to_group(group, text, urgent=True)

    asyncio.run(send_everywhere())
    assert len(stored.entries) == 3
    for entry in stored.entries:
        _assert_clean(entry.text, secrets)
        for button in entry.buttons:
            _assert_clean(button.label, secrets)


@settings(max_examples=100, deadline=None)
@given(messages())
def test_log_lines_are_masked(message: tuple[str, list[str]]) -> None:
    text, secrets = message
    logger = logging.getLogger("linli.test.privacy")
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    install_log_masking(logger)
    logger.info("message from resident: %s", text)
    _assert_clean(stream.getvalue(), secrets)
