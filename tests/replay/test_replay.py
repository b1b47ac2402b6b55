"""`linli replay`: scenarios in, JSON lines out; bad lines stop the run with exit code 2."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.replay import Replay
from config.settings import Settings

SCENARIOS = Path(__file__).parent / "scenarios"


def _replay(
    scenario: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[dict[str, str | None]], str]:
    code = main(["replay", str(scenario), *extra])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


def test_spine_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _replay(SCENARIOS / "spine.jsonl", capsys)
    assert code == 0
    by_input: dict[str | None, list[dict[str, str | None]]] = {}
    for line in out:
        by_input.setdefault(line["reply_to"], []).append(line)
    # The repair message gets exactly one answer with a ticket number, its repeat nothing.
    assert len(by_input["m1"]) == 1 and "工单号 1001" in str(by_input["m1"][0]["text"])
    assert by_input["m1"][0]["chat"] == "g-ty51"
    assert by_input["m1"][0]["at"] == "2026-12-01T09:00:00+08:00"
    # Greetings and thanks get nothing.
    assert "m2" not in by_input and "m3" not in by_input
    # The urgent message: a group answer and private alerts to the grid worker and the leader.
    assert len(by_input["m4"]) == 1
    alerted = {line["to"] for line in by_input[None]}
    assert {"p-grid", "p-lead"} <= alerted
    # The secretary lists the ticket; a resident's /办结 is refused.
    assert "1001【公共维修】" in str(by_input["m5"][0]["text"])
    assert by_input["m5"][0]["to"] == "p-sec" and by_input["m5"][0]["chat"] is None
    assert "工作人员" in str(by_input["m6"][0]["text"])


def test_a_low_confidence_report_is_asked_about_not_filed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _replay(SCENARIOS / "confirm.jsonl", capsys)
    assert code == 0
    said = {line["reply_to"]: str(line["text"]) for line in out}
    question = "需要登记为【小区报事】吗？回复 1 确认，回复 2 改为其他类型"
    # "1" files it as guessed.
    assert question in said["a1"] and "【小区报事】问题，工单号 1001" in said["a2"]
    # "2" offers the types; the choice files it as chosen.
    assert question in said["b1"] and "1 公共维修" in said["b2"]
    assert "【公共维修】问题，工单号 1002" in said["b3"]
    # An answer after the question timed out (30 minutes) files nothing.
    assert question in said["c1"] and "c2" not in said
    assert len(out) == 6


def test_restart_keeps_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "restart.jsonl"
    lines = [
        {"id": "a", "at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", "user": "u1",
         "text": "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的"},
        {"at": "2026-12-01T10:00:00+08:00", "restart": True},
        {"id": "a", "at": "2026-12-01T10:01:00+08:00", "chat": "g-ty51", "user": "u1",
         "text": "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的"},
        {"id": "b", "at": "2026-12-01T10:02:00+08:00", "chat": None, "user": "p-sec",
         "text": "/工单"},
        {"at": "2026-12-01T11:00:00+08:00", "tick": True},
    ]  # fmt: skip
    scenario.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    code, out, _ = _replay(scenario, capsys)
    assert code == 0
    assert [line["reply_to"] for line in out] == ["a", "b"]
    assert "待办工单 1 件" in str(out[1]["text"])


BAD_LINES = {
    "not json": ("{oops", "not valid JSON"),
    "not an object": ("[1, 2]", "one JSON object"),
    "no offset": ('{"id": "x", "at": "2026-12-01T09:00:00", "chat": "g-ty51", "user": "u", '
                  '"text": "hi"}', "UTC offset"),
    "bad time": ('{"id": "x", "at": "tomorrow", "chat": "g-ty51", "user": "u", "text": "hi"}',
                 "not an ISO 8601 time"),
    "unknown chat": ('{"id": "x", "at": "2026-12-01T09:00:00+08:00", "chat": "g-nope", '
                     '"user": "u", "text": "hi"}', '"chat" must be a group id'),
    "no user": ('{"id": "x", "at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", '
                '"text": "hi"}', '"user" must be a non-empty string'),
    "no id": ('{"at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", "user": "u", '
              '"text": "hi"}', '"id" must be a non-empty string'),
    "no text": ('{"id": "x", "at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", "user": "u"}',
                'needs "text" or "image"'),
    "unknown key": ('{"id": "x", "at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", '
                    '"user": "u", "text": "hi", "colour": "red"}', "unknown keys: colour"),
    "back in time": ('{"at": "2026-11-30T09:00:00+08:00", "tick": true}', "goes back in time"),
    "tick with extras": ('{"at": "2026-12-02T09:00:00+08:00", "tick": true, "text": "x"}',
                         "unexpected keys in a tick line"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_stops_with_its_line_number(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, expected = BAD_LINES[case]
    good = (
        '{"id": "g1", "at": "2026-12-01T09:00:00+08:00", "chat": "g-ty51", "user": "u1", '
        '"text": "5幢1单元楼道灯坏了好几天了，晚上黑漆漆的"}'
    )
    scenario = tmp_path / "bad.jsonl"
    scenario.write_text(f"{good}\n{bad}\n{good}\n", encoding="utf-8")
    db = tmp_path / "replay.db"
    code, out, err = _replay(scenario, capsys, "--db", str(db))
    assert code == 2
    assert f"{scenario}:2: " in err and expected in err
    assert len(err.strip().splitlines()) == 1
    # The good line before it was handled and stored; nothing of the bad line or after it.
    assert [line["reply_to"] for line in out] == ["g1"]


def test_missing_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _replay(tmp_path / "nope.jsonl", capsys)
    assert code == 2 and "no such scenario file" in err


def test_check_config_reports_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "Mars/Olympus"\n[community]\nid = "x"\nname = "x"\n')
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "timezone" in err and len(err.strip().splitlines()) == 1


def test_check_config_accepts_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    assert "OK" in capsys.readouterr().out


def test_a_replay_classifies_on_the_event_loop_whatever_the_config(settings: Settings) -> None:
    # A script on a virtual clock would only pay for workers, at every restart.
    two = replace(settings, classifier=replace(settings.classifier, worker_processes=2))
    replay = Replay(two, "sqlite+aiosqlite://", io.StringIO())
    assert replay._settings.classifier.workers == 0
