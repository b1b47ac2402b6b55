"""A week replayed: daily digests with the votes in progress, the Monday weekly review with its
chart as an image in the replay output, an on-demand digest, and a tag broadcast."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from bot.__main__ import main

SCENARIOS = Path(__file__).parent / "scenarios"
SECRETARIES = ("p-sec", "p-sec-ty", "p-sec-my")
MONDAY = "2026-12-07T08:00:00+08:00"
VOTE_LINE = "· 第1号投票：楼道里装不装感应灯（12月9日（星期三）18:00截止）"

Line = dict[str, str | None]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Line], Path]:
    """The replay's output lines, and the folder it ran in (charts land in its data/)."""
    folder = tmp_path_factory.mktemp("week")
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(output):
        patch.chdir(folder)
        assert main(["replay", str(SCENARIOS / "digest_week.jsonl")]) == 0
    return [json.loads(line) for line in output.getvalue().splitlines() if line.strip()], folder


def _starting(lines: list[Line], prefix: str) -> list[Line]:
    return [line for line in lines if str(line["text"]).startswith(prefix)]


def test_digests_every_morning_with_the_votes_in_progress(week: tuple[list[Line], Path]) -> None:
    lines, _ = week
    scheduled = [line for line in _starting(lines, "【日报】") if line["reply_to"] is None]
    assert Counter(line["to"] for line in scheduled) == dict.fromkeys(SECRETARIES, 6)
    monday = {line["to"]: str(line["text"]) for line in scheduled if line["at"] == MONDAY}
    # The poll runs in a taoyuan stairwell: the community and taoyuan see it, meiyuan does not.
    assert f"进行中的投票 1 个：\n{VOTE_LINE}" in monday["p-sec"]
    assert VOTE_LINE in monday["p-sec-ty"] and "投票" not in monday["p-sec-my"]
    assert "超期未办 2 件：1001【公共维修】、1003【小区报事】" in monday["p-sec"]
    after_repair = next(
        str(line["text"]) for line in scheduled if line["at"] == "2026-12-03T08:00:00+08:00"
    )
    assert "昨日新增诉求 1 件：公共维修 1\n按小区：梅园小区 1" in after_repair
    asked = [line for line in lines if line["reply_to"] == "q1"]
    assert len(asked) == 1 and asked[0]["to"] == "p-sec-ty" and VOTE_LINE in str(asked[0]["text"])


def test_weekly_review_carries_its_chart(week: tuple[list[Line], Path]) -> None:
    lines, folder = week
    reviews = {line["to"]: line for line in _starting(lines, "【周研判】")}
    assert set(reviews) == set(SECRETARIES)
    assert all(line["at"] == MONDAY for line in reviews.values())
    community = reviews["p-sec"]
    text = str(community["text"])
    assert text.startswith("【周研判】富强社区 11月30日–12月6日\n本周诉求 3 件，上周 0 件（+3）")
    assert "· 公共维修 2（上周 0）" in text and "· 小区报事 1（上周 0）" in text
    assert "物业何经理 满意 100%" in text
    for person, scope in (("p-sec", "fuqiang"), ("p-sec-ty", "taoyuan"), ("p-sec-my", "meiyuan")):
        image = reviews[person]["image"]
        assert image == f"data/charts/weekly-{scope}-2026-12-07.png"
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Only the review carries an image; the digests are text.
    assert [line["to"] for line in lines if "image" in line] == list(SECRETARIES)


def test_tag_broadcast_after_confirmation(week: tuple[list[Line], Path]) -> None:
    lines, _ = week
    preview = next(str(line["text"]) for line in lines if line["reply_to"] == "p1")
    assert preview.startswith("【推送预览】#老人\n将发给 1 个群、2 人：")
    notice = "【通知】明天起降温，请老人注意保暖，有困难请联系网格员\n——陈书记"
    sent = [(line["chat"], line["to"], line["at"]) for line in lines if line["text"] == notice]
    at = "2026-12-06T19:06:00+08:00"
    assert sent == [("g-my31", None, at), (None, "p-res1", at), (None, "p-res3", at)]
