"""Training is deterministic and reads the corpus format; evaluation counts lenient hits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp.corpus import CorpusError, load_corpus
from nlp.evaluation import evaluate
from nlp.labels import Label

PHRASES = {
    Label.REPAIR: "电梯坏了 楼道灯不亮 水管漏水 门禁坏了 路灯不亮了 单元门关不上",
    Label.COMPLAINT: "举报违建 投诉物业乱收费 饭店油烟扰民 工地夜间施工 占道经营 违停",
    Label.INCIDENT: "垃圾没人清 老鼠好多 消防通道堵了 流浪狗咬人 树倒了 积水很深",
    Label.DISPUTE: "楼上太吵 邻居的狗乱叫 楼上漏水到我家 邻居占车位 对门堆杂物 楼上跺脚",
    Label.INQUIRY: "老年证怎么办 医保在哪交 请问怎么落户 疫苗在哪打 入学要什么材料 何时供暖",
    Label.SUGGESTION: "建议装长椅 希望多装路灯 建议办活动 增设充电桩 建议加装电梯 多种点树",
    Label.NONE: "早上好 谢谢大家 收到 团购草莓 今天好热 晚饭吃啥",
}


def write_corpus(root: Path) -> Path:
    parts = root / "parts"
    parts.mkdir(parents=True)
    for label, phrases in PHRASES.items():
        lines = [
            json.dumps({"text": text, "label": label.value, "urgent": False})
            for text in phrases.split()
        ]
        (parts / f"{label.value}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def test_training_is_deterministic(tmp_path: Path) -> None:
    from nlp.training import train

    corpus = load_corpus(write_corpus(tmp_path))
    first = train(corpus.examples, seed=7, progress=False)
    second = train(corpus.examples, seed=7, progress=False)
    assert first.model.vocabulary == second.model.vocabulary
    assert np.array_equal(first.model.weights, second.model.weights)
    assert first.cross_validated == second.cross_validated


def test_corpus_error_names_file_line_and_key(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "bad.jsonl").write_text(
        '{"text": "电梯坏了", "label": "repair"}\n{"text": "x", "label": "fix"}\n'
    )
    with pytest.raises(CorpusError, match=r"bad\.jsonl:2: key 'label' is 'fix'"):
        load_corpus(tmp_path)


def test_conflicting_duplicates_are_dropped(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    rows = [("收到", "none"), ("收到", "inquiry"), ("电梯坏了", "repair"), ("电梯坏了", "repair")]
    text = "\n".join(json.dumps({"text": t, "label": label}) for t, label in rows)
    (parts / "a.jsonl").write_text(text, "utf-8")
    corpus = load_corpus(tmp_path)
    assert [example.text for example in corpus.examples] == ["电梯坏了"]
    assert corpus.conflicts == ("收到",)
    assert corpus.duplicates == 1


def test_lenient_scoring_accepts_alt(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    rows = [
        {"text": "a", "label": "repair", "alt": "complaint"},
        {"text": "b", "label": "none", "alt": None},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows), "utf-8")
    from nlp.corpus import read_examples

    evaluation = evaluate(read_examples(path), [Label.COMPLAINT, Label.REPAIR])
    assert evaluation.strict.accuracy == 0.0
    assert evaluation.lenient.accuracy == 0.5
    assert evaluation.lenient.false_ticket_rate == 1.0
    assert evaluation.lenient.miss_rate == 0.0
