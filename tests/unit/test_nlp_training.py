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


def write_held(path: Path) -> list[str]:
    """A held-out set with three lines per label, phrased unlike the training corpus."""
    held = {
        Label.REPAIR: "路灯又不亮了 电梯按钮失灵 水管漏水好几天",
        Label.COMPLAINT: "举报饭店油烟 工地半夜施工扰民 投诉物业乱收费了",
        Label.INCIDENT: "垃圾堆成山 老鼠乱窜 消防通道被堵",
        Label.DISPUTE: "楼上半夜跺脚 邻居的狗天天叫 楼上漏水到我家了",
        Label.INQUIRY: "老年证在哪办 医保怎么交 入学要带什么",
        Label.SUGGESTION: "建议多装长椅 希望增设充电桩 建议组织活动",
        Label.NONE: "大家早上好呀 今天天气真好 团购的水果到了",
    }
    pairs = [(text, label) for label, texts in held.items() for text in texts.split()]
    rows = [
        json.dumps({"text": text, "label": label.value, "ambiguous": False, "alt": None})
        for text, label in pairs
    ]
    path.write_text("\n".join(rows), "utf-8")
    return [text for text, _ in pairs]


def test_extra_lines_are_trained_on_and_recorded(tmp_path: Path) -> None:
    from nlp.corpus import read_examples
    from nlp.training import train

    corpus = load_corpus(write_corpus(tmp_path / "corpus"))
    held_path = tmp_path / "held.jsonl"
    write_held(held_path)
    extra = read_examples(held_path)
    plain = train(corpus.examples, seed=7, progress=False)
    more = train(corpus.examples, seed=7, progress=False, extra=extra, extra_weight=2.0)
    assert more.model.metadata["extra_examples"] == len(extra)
    assert plain.model.metadata["extra_examples"] == 0
    # Words only the extra lines contain reach the vocabulary.
    assert " 长椅" in more.model.vocabulary
    # Corpus CV still scores the corpus lines only.
    assert len(more.cross_validated) == len(corpus.examples)


def test_cross_evaluation_never_scores_a_line_it_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nlp.training as training
    from nlp.corpus import read_examples
    from nlp.linear import LinearModel

    corpus = load_corpus(write_corpus(tmp_path / "corpus"))
    held_path = tmp_path / "held.jsonl"
    texts = write_held(held_path)
    held = read_examples(held_path)
    fitted: list[set[str]] = []

    original = training._fit

    def spy(data: training._Data, regularization: float, seed: int) -> LinearModel:
        fitted.append({name for message in data.features for name in message.names})
        return original(data, regularization, seed)

    monkeypatch.setattr(training, "_fit", spy)
    result = training.cross_evaluate(
        corpus.examples, held, seed=7, folds=3, regularization=10.0, progress=False
    )
    assert len(result.predicted) == len(held) and result.folds == 3
    assert len(fitted) == 3
    # Each line of the held set is missing from exactly one fold's training data: the fold
    # that scored it. "邻居的狗天天叫" has words no corpus line has, so its whole-word feature
    # shows which training sets held it.
    marker = " 天天"
    assert "邻居的狗天天叫" in texts
    assert sum(marker in features for features in fitted) == 2


def test_cross_eval_command_reports_pooled_figures(tmp_path: Path) -> None:
    from nlp.cli import cross_eval_command

    corpus_dir = write_corpus(tmp_path / "corpus")
    held_path = tmp_path / "held.jsonl"
    write_held(held_path)
    report = cross_eval_command(held_path, corpus_dir, folds=3, seed=7)
    assert "3-fold cross-evaluation" in report
    assert "lines: 21 (ambiguous: 0)" in report
    assert "macro-F1      strict" in report


def test_an_ambiguous_extra_line_teaches_both_labels_at_half_weight() -> None:
    from nlp.corpus import Example
    from nlp.training import LABELS, _extra_data

    lines = [
        Example("楼道灯坏了", Label.REPAIR, None, None, "held:1"),
        Example("物业不修电梯", Label.REPAIR, Label.COMPLAINT, None, "held:2"),
    ]
    data = _extra_data(lines, 4.0)
    taught = sorted(
        (LABELS[target].value, float(weight))
        for target, weight in zip(data.targets, data.weights, strict=True)
    )
    assert taught == [("complaint", 2.0), ("repair", 2.0), ("repair", 4.0)]


def test_real_lines_target_copies_fold_into_the_same_scores(tmp_path: Path) -> None:
    """The exported model scores a real message exactly as the fitted model with its
    real-messages-only feature copies does, and a corpus-only fit has no copies at all."""
    from nlp.corpus import Example
    from nlp.training import (
        TARGET_PREFIX,
        _classifier,
        _Data,
        _data,
        _extra_data,
        _fit,
        _with_target_copies,
        build_vocabulary,
        design_matrix,
        feature_scales,
        featurize,
    )

    corpus = _data(load_corpus(write_corpus(tmp_path)).examples, 1.0, progress=False)
    real = [
        Example("三栋的电梯又停了，一直没人来修", Label.REPAIR, None, False, "t"),
        Example("谁家的狗天天半夜叫，吵得睡不着", Label.DISPUTE, Label.INCIDENT, False, "t"),
        Example("大家早上好，今天降温了多穿点", Label.NONE, None, False, "t"),
    ]
    data = corpus + _extra_data(real, 4.0)
    exported = _fit(data, 10.0, 7)
    assert not any(name.startswith(TARGET_PREFIX) for name in exported.vocabulary)

    features = _with_target_copies(data)
    vocabulary = build_vocabulary(features)
    assert any(name.startswith(TARGET_PREFIX) for name in vocabulary)
    scales = feature_scales(features, vocabulary)
    fitted = _classifier(10.0, 7).fit(
        design_matrix(features, vocabulary, scales), data.targets, data.weights
    )
    assert list(fitted.classes_) == list(range(len(Label)))
    for text in ("电梯停了没人修", "楼上的狗一直叫", "今天降温"):
        probe = featurize([text], progress=False)
        as_real = _with_target_copies(
            _Data(probe, np.zeros(1, dtype=np.int64), np.ones(1), np.ones(1, dtype=bool))
        )
        expected = fitted.decision_function(design_matrix(as_real, vocabulary, scales))[0]
        assert np.allclose(exported.score(probe[0]).logits, expected)

    corpus_only = _fit(corpus, 10.0, 7)
    assert not any(name.startswith(TARGET_PREFIX) for name in corpus_only.vocabulary)
