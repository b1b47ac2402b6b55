"""The votes replay: a quick poll and an owners' decision end to end, with changed, late,
ineligible and unreadable ballots, a reminder day, and a restart before both deadlines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main

SCENARIOS = Path(__file__).parent / "scenarios"


def _answers(out: str) -> tuple[dict[str, list[str]], list[dict[str, str | None]]]:
    """Replies by the message they answer, and the unprompted messages (results, reminders)."""
    by_input: dict[str, list[str]] = {}
    unprompted: list[dict[str, str | None]] = []
    for line in (json.loads(raw) for raw in out.splitlines() if raw.strip()):
        if line["reply_to"] is None:
            unprompted.append(line)
        else:
            by_input.setdefault(str(line["reply_to"]), []).append(str(line["text"]))
    return by_input, unprompted


def test_votes_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "replay.db"
    register = SCENARIOS / "owners_taoyuan.csv"
    assert main(["owners", "import", str(register), "--compound", "taoyuan", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["replay", str(SCENARIOS / "votes.jsonl"), "--db", str(db)]) == 0
    answers, unprompted = _answers(capsys.readouterr().out)
    # The poll: a vote, a vote changed, an unreadable one, an ineligible one, chat left alone.
    assert "第1号投票：楼道里装不装感应灯" in answers["p1"][0]
    assert "已改为「装」" in answers["p4"][0]
    assert "没有第 5 号选项" in answers["p5"][0]
    assert "只限本群居民" in answers["p6"][0]
    assert "p7" not in answers
    # The decision: a changed ballot, a non-owner refused, a private ballot, an unreadable one.
    assert "名册业主 6 人，专有面积共 725.50㎡" in answers["d1"][0]
    assert "已改为「同意」" in answers["d3"][0]
    assert "只限业主名册里的业主" in answers["d5"][0]
    assert "「反对」" in answers["d6"][0]
    assert "没看懂您的选择" in answers["d7"][0]
    assert "已录入 5-2-202 室的纸质票「同意」" in answers["d9"][0]
    # Late ballots after each close, including after the restart.
    assert "已经截止" in answers["p8"][0] and "已经截止" in answers["d10"][0]
    # One reminder a day: 孙楼长 privately on 2 Dec; the unreachable owners as a count.
    reminders = [line for line in unprompted if "还没有收到您" in str(line["text"])]
    assert [(line["to"], str(line["at"])[:10]) for line in reminders] == [
        ("p-lead-ty52", "2026-12-02")
    ]
    counts = [str(line["text"])[:20] for line in unprompted if "户业主未表决" in str(line["text"])]
    assert counts == [
        "第2号业主表决还有 2 户业主未表决，截",
        "第2号业主表决还有 1 户业主未表决，截",
    ]
    # Both results reach their group and the secretary, at the deadline.
    poll = [line for line in unprompted if "第1号投票结果" in str(line["text"])]
    assert {(line["chat"], line["to"]) for line in poll} >= {("g-ty51", None), (None, "p-sec")}
    assert {str(line["at"]) for line in poll} == {"2026-12-02T18:00:00+08:00"}
    assert "1 装：2票" in str(poll[0]["text"]) and "共 2 人投票" in str(poll[0]["text"])
    decision = [line for line in unprompted if "第2号业主表决结果" in str(line["text"])]
    assert {(line["chat"], line["to"]) for line in decision} >= {
        ("g-taoyuan", None),
        (None, "p-sec"),
    }
    text = str(decision[0]["text"])
    assert "参与表决面积占比 75.19%" in text and "人数占比 83.33%" in text
    assert "同意占比 人数 60.00%、面积 66.91%" in text and "是否通过：通过" in text
    # The audit chain of both votes is intact after the run.
    assert main(["votes", "verify", "1", "--db", str(db)]) == 0
    assert main(["votes", "verify", "2", "--db", str(db)]) == 0
