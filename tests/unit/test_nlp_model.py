"""The shipped model: loads from its file, is deterministic, knows obvious phrasings, and the
inference path never imports scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp import Label, classify
from nlp.cli import classify_command, eval_command
from nlp.features import canonical, extract
from nlp.intents import default_model
from nlp.linear import LinearModel, ModelFileError, default_model_path
from nlp.tokenizer import tokenize

ROOT = Path(__file__).resolve().parents[2]


def test_model_loads_from_the_shipped_file() -> None:
    model = LinearModel.load(default_model_path())
    assert set(model.labels) == set(Label)
    assert model.feature_count > 1000
    assert default_model_path().stat().st_size < 3 * 1024 * 1024


def test_saved_model_scores_like_the_original(tmp_path: Path) -> None:
    path = tmp_path / "copy.npz"
    default_model().save(path)
    copy = LinearModel.load(path)
    text = canonical("楼道灯坏了好几天了没人修")
    features = extract(text, tokenize(text))
    assert copy.score(features).logits.tolist() == pytest.approx(
        default_model().score(features).logits.tolist(), abs=1e-5
    )


def test_unreadable_model_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match=r"broken\.npz"):
        LinearModel.load(path)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("5栋电梯又坏了，一早上了没人管", Label.REPAIR),
        ("楼道灯坏了好几天了 晚上黑漆漆的", Label.REPAIR),
        ("楼上天天半夜拖椅子 吵得睡不着", Label.DISPUTE),
        ("请问老年证在哪里办理？需要带什么材料", Label.INQUIRY),
        ("建议在小区里多装几个健身器材", Label.SUGGESTION),
        ("垃圾站那边的垃圾好几天没人清了，臭得不行", Label.INCIDENT),
        ("举报底商饭店半夜施工扰民", Label.COMPLAINT),
        ("今晚团购的草莓到了，大家去门口自提", Label.NONE),
        ("电梯里碰到王阿姨了，聊了几句", Label.NONE),
    ],
)
def test_known_phrasings(text: str, label: Label) -> None:
    assert classify(text).label is label


def test_cues_are_readable_words_of_the_message() -> None:
    result = classify("楼道灯坏了好几天了没人修")
    assert 1 <= len(result.cues) <= 5
    assert all(cue in "楼道灯坏了好几天了没人修" for cue in result.cues)


def test_classify_command_prints_json_lines() -> None:
    lines = list(classify_command(['{"text": "5栋电梯坏了"}', "", '{"text": "收到"}'], jsonl=True))
    records = [json.loads(line) for line in lines]
    assert [record["label"] for record in records] == ["repair", "none"]
    assert set(records[0]) >= {"text", "label", "confidence", "urgent", "cues"}


def test_eval_command_output_format(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {"text": "5栋电梯坏了三天了", "label": "repair", "ambiguous": False, "alt": None},
        {"text": "收到", "label": "none", "ambiguous": False, "alt": None},
        {"text": "谢谢大家", "label": "repair", "ambiguous": True, "alt": "none"},
    ]
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), "utf-8")
    report = eval_command(path)
    assert "lines: 3 (ambiguous: 1)" in report
    assert "macro-F1      strict" in report
    assert "false-ticket  strict 0.0%   lenient 0.0%" in report
    assert "miss          strict 50.0%   lenient 0.0%" in report
    assert "confusion (strict; rows = gold, columns = predicted)" in report
    for label in Label:
        assert f"\n{label.value:<11}" in report


def test_inference_does_not_import_sklearn() -> None:
    script = (
        "import sys, nlp\n"
        "nlp.classify('5栋电梯坏了三天了')\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in "
        "('sklearn', 'scipy', 'tqdm')))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    assert output.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    [
        "5栋2单元的电梯又坏了，停在三楼不动",
        "楼上的狗天天叫，吵得睡不着",
        "请问老年证在哪里办理？",
        "建议小区多装几个充电桩",
        "今晚团购的草莓到了，大家去门口自提",
    ],
)
def test_cues_are_meaningful_words(text: str) -> None:
    result = classify(text)
    assert result.cues
    for cue in result.cues:
        assert len(cue) >= 2, cue
        assert cue not in {"的", "了", "不", "栋", "我们", "这个", "一下"}
        assert cue.lower() in text.lower()


def test_fast_segmentation_equals_jieba() -> None:
    from nlp.tokenizer import default_tokenizer

    tokenizer = default_tokenizer()
    texts = [
        "5幢1单元的电梯又坏了，停在三楼不动，老人上下楼太难了",
        "楼下饭店的油烟天天往我们楼里灌 wifi也连不上 abc123 x9y",
        "关于××小区路灯长期不亮的反映！！@物业小王 😭🙏 [强]",
        "化粪池满了 消防通道被堵 高空抛物 加装电梯 网格员",
        "C.P.U. +1 #3 5-2-301室 100% a_b",
        "",
        " \r\n ",
    ]
    for text in texts:
        assert tokenizer.words(text) == tokenizer.jieba_words(text)


def test_eval_warns_when_the_model_was_trained_on_the_scored_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.cli import eval_command
    from nlp.corpus import corpus_fingerprint, read_examples, sorted_examples
    from nlp.intents import default_model

    scored = tmp_path / "scored.jsonl"
    scored.write_text(
        '{"text": "5栋电梯坏了", "label": "repair"}\n{"text": "早上好", "label": "none"}\n',
        encoding="utf-8",
    )
    assert "NOTE" not in eval_command(scored)
    fingerprint = corpus_fingerprint(sorted_examples(read_examples(scored)))
    monkeypatch.setitem(default_model().metadata, "extra_sha256", fingerprint)
    assert "in-sample" in eval_command(scored)


def test_eval_scores_with_another_model_file(tmp_path: Path) -> None:
    from nlp.cli import eval_command
    from nlp.intents import default_model

    scored = tmp_path / "scored.jsonl"
    scored.write_text(
        '{"text": "5栋电梯坏了", "label": "repair"}\n{"text": "早上好", "label": "none"}\n',
        encoding="utf-8",
    )
    other = tmp_path / "other.npz"
    default_model().save(other)
    report = eval_command(scored, other)
    assert report.startswith(f"{scored} (model {other})\n")
    assert report.split("\n", 1)[1] == eval_command(scored).split("\n", 1)[1]


def test_eval_with_a_model_file_that_is_not_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    scored = tmp_path / "scored.jsonl"
    scored.write_text('{"text": "早上好", "label": "none"}\n', encoding="utf-8")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not weights")
    assert main(["eval", str(scored), "--model", str(broken)]) == 2
    assert "broken.npz: cannot read classifier weights" in capsys.readouterr().err
