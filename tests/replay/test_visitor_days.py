"""December 2026 replayed with ticks: every visitor-day reminder once, at its time, in each
group; restarts neither repeat nor lose one; the host's time zone changes nothing."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"
GROUPS = ("g-fuqiang", "g-taoyuan", "g-meiyuan", "g-ty51", "g-ty52", "g-my21", "g-my31")
SECRETARIES = ("p-sec", "p-sec-ty", "p-sec-my")
# (local time the reminder goes out, the visitor day it names); 1 Jan 2027 is a holiday, kept.
EXPECTED = [
    ("2026-11-30T18:00:00+08:00", "12月1日（星期二）"),
    ("2026-12-01T08:00:00+08:00", "12月1日（星期二）"),
    ("2026-12-10T18:00:00+08:00", "12月11日（星期五）"),
    ("2026-12-11T08:00:00+08:00", "12月11日（星期五）"),
    ("2026-12-20T18:00:00+08:00", "12月21日（星期一）"),
    ("2026-12-21T08:00:00+08:00", "12月21日（星期一）"),
    ("2026-12-31T18:00:00+08:00", "1月1日（星期五）"),
]
MONDAYS = ("2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28")

Line = dict[str, str | None]


def _run_in_process(scenario: Path, folder: Path) -> list[Line]:
    output = io.StringIO()
    # Charts go to the config's relative data dir: keep them in the test's folder.
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(output):
        patch.chdir(folder)
        assert main(["replay", str(scenario)]) == 0
    return [json.loads(line) for line in output.getvalue().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def december(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Line], Path]:
    """The December replay's output, and the folder it ran in (run once for the module)."""
    folder = tmp_path_factory.mktemp("december")
    return _run_in_process(SCENARIOS / "december.jsonl", folder), folder


def _visitor_reminders(lines: list[Line]) -> list[Line]:
    return [line for line in lines if str(line["text"]).startswith("【开门接访】")]


def _schedule(lines: list[Line]) -> Counter[tuple[str | None, str | None, str]]:
    """(time, group, visitor day) of each reminder, counted."""
    found: Counter[tuple[str | None, str | None, str]] = Counter()
    for line in _visitor_reminders(lines):
        day = next(label for _, label in EXPECTED if label in str(line["text"]))
        found[(line["at"], line["chat"], day)] += 1
    return found


def _expected(late: dict[str, str] | None = None) -> Counter[tuple[str | None, str | None, str]]:
    late = late or {}
    return Counter({(late.get(at, at), group, day): 1 for at, day in EXPECTED for group in GROUPS})


def test_december_reminders_each_once_at_their_time(december: tuple[list[Line], Path]) -> None:
    lines, _ = december
    assert _schedule(lines) == _expected()
    by_day = {(line["at"], line["chat"]): str(line["text"]) for line in _visitor_reminders(lines)}
    evening = by_day[("2026-12-10T18:00:00+08:00", "g-ty51")]
    morning = by_day[("2026-12-11T08:00:00+08:00", "g-ty51")]
    assert evening.startswith("【开门接访】明天12月11日（星期五）9:00–11:30")
    assert morning.startswith("【开门接访】今天12月11日（星期五）")
    # The place from the config, and the duty the secretary set in chat on 5 Dec.
    assert "富强社区党群服务中心一楼" in evening and "陈书记接待" in evening
    assert "李书记" not in evening
    # 21 Dec has two people on duty in the config.
    assert "陈书记、街道王主任接待" in by_day[("2026-12-20T18:00:00+08:00", "g-my31")]


def test_december_digests_and_weekly_reviews(december: tuple[list[Line], Path]) -> None:
    lines, tmp_path = december
    digests = [line for line in lines if str(line["text"]).startswith("【日报】")]
    scheduled = [line for line in digests if line["reply_to"] is None]
    # Every morning at 08:00, one per secretary and compound secretary, 30 Nov to 31 Dec.
    assert Counter(line["to"] for line in scheduled) == dict.fromkeys(SECRETARIES, 32)
    assert {str(line["at"])[11:] for line in scheduled} == {"08:00:00+08:00"}
    after_repair = next(
        str(line["text"])
        for line in scheduled
        if line["to"] == "p-sec-ty" and str(line["at"]).startswith("2026-12-04")
    )
    assert "昨日新增诉求 1 件：公共维修 1" in after_repair and "按小区：桃源小区 1" in after_repair
    assert "下次开门接访：12月11日（星期五）" in after_repair
    # /日报 on demand answers privately at once.
    asked = [line for line in digests if line["reply_to"] == "q1"]
    assert len(asked) == 1 and asked[0]["to"] == "p-sec"
    reviews = [line for line in lines if str(line["text"]).startswith("【周研判】")]
    assert Counter(str(line["at"])[:10] for line in reviews) == dict.fromkeys(MONDAYS, 3)
    charts = sorted(path.name for path in (tmp_path / "data" / "charts").glob("*.png"))
    assert "weekly-fuqiang-2026-12-07.png" in charts and len(charts) == 3 * len(MONDAYS)
    assert (tmp_path / "data/charts/weekly-taoyuan-2026-12-07.png").read_bytes()[:4] == b"\x89PNG"
    # The leader's weekly reminder in his stairwell group, every Monday at 10:00.
    weekly = [line for line in lines if line["text"] == "【提醒】楼道卫生检查\n（周楼长设置）"]
    assert [line["at"] for line in weekly] == [f"{day}T10:00:00+08:00" for day in MONDAYS[1:]]


def test_restarts_repeat_nothing_and_lose_nothing(tmp_path: Path) -> None:
    lines = _run_in_process(SCENARIOS / "december_restarts.jsonl", tmp_path)
    # Down from 17:00 to 18:30 on 20 Dec: that evening's reminder goes out at the next tick.
    late = {"2026-12-20T18:00:00+08:00": "2026-12-20T20:00:00+08:00"}
    assert _schedule(lines) == _expected(late)
    scheduled = [
        line for line in lines if str(line["text"]).startswith("【日报】") and not line["reply_to"]
    ]
    assert Counter(line["to"] for line in scheduled) == dict.fromkeys(SECRETARIES, 32)


def test_same_times_with_the_host_in_new_york(tmp_path: Path) -> None:
    environment = dict(os.environ, TZ="America/New_York", PYTHONPATH=str(ROOT))
    environment.pop("LINLI_CONFIG", None)
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(SCENARIOS / "december.jsonl")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    # The child really ran with the New York zone (a naive local time would have shown it).
    probe = subprocess.run(
        [sys.executable, "-c", "import time; print(time.tzname[0])"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "EST"
    lines = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    assert _schedule(lines) == _expected()
