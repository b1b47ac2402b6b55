"""`linli classify` and `linli eval` through the one command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main


def test_classify_prints_one_json_line_per_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("5栋电梯坏了三天了\n早上好\n", encoding="utf-8")
    assert main(["classify", str(texts)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["label"] for line in lines] == ["repair", "none"]
    assert set(lines[0]) >= {"text", "label", "confidence", "urgent", "cues"}


def test_eval_of_a_bad_file_exits_2_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "电梯坏了", "label": "broken"}\n', encoding="utf-8")
    assert main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "label" in err
