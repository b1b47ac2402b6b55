"""Command functions behind `linli train`, `linli classify` and `linli eval`.

`nlp/commands.py` declares their arguments for the `linli` command and calls these; they
print (train) or return text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from nlp.commands import DEFAULT_SEED
from nlp.corpus import (
    Corpus,
    CorpusError,
    Example,
    corpus_fingerprint,
    load_corpus,
    read_examples,
    sorted_examples,
)
from nlp.evaluation import evaluate, format_evaluation
from nlp.intents import classify, classify_with_model, default_model
from nlp.linear import LinearModel


def _load_training(corpus_dir: Path, extra: Sequence[Path]) -> tuple[Corpus, list[Example]]:
    corpus = load_corpus(corpus_dir)
    if not corpus.examples:
        raise CorpusError(f"{corpus_dir}: no *.jsonl examples found")
    added = [example for path in extra for example in read_examples(path)]
    return corpus, added


def train_command(
    corpus_dir: Path,
    out_path: Path,
    *,
    seed: int = DEFAULT_SEED,
    extra: Sequence[Path] = (),
    extra_weight: float | None = None,
) -> int:
    """Train on `corpus_dir` (plus labelled `extra` files), write the weights to `out_path`,
    print the cross-validated report."""
    # scikit-learn is a training-only extra; import it here so that inference never pays for it.
    from nlp.training import EXTRA_WEIGHT, train

    try:
        corpus, added = _load_training(corpus_dir, extra)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    weight = EXTRA_WEIGHT if extra_weight is None else extra_weight
    print(
        f"corpus: {len(corpus.examples)} examples from {corpus_dir} "
        f"({corpus.duplicates} duplicates merged, {len(corpus.conflicts)} conflicting dropped)"
    )
    for path in extra:
        print(f"extra: {path} (each line weighs {weight:g} corpus lines)")
    result = train(corpus.examples, seed=seed, extra=added, extra_weight=weight)
    result.model.save(out_path)
    predicted = list(result.cross_validated)
    print(
        f"model: {result.model.feature_count} features, C={result.regularization:g}, "
        f"seed {seed} -> {out_path} ({out_path.stat().st_size // 1024} KiB)"
    )
    note = " (extra lines in every training fold, never scored)" if added else ""
    print(f"cross-validated on the corpus (5 folds, out-of-fold predictions){note}:")
    print(format_evaluation(evaluate(corpus.examples, predicted)))
    return 0


def cross_eval_command(
    path: Path,
    corpus_dir: Path,
    *,
    folds: int = 5,
    seed: int = DEFAULT_SEED,
    extra_weight: float | None = None,
) -> str:
    """Score every line of `path` with a model trained on the corpus plus the other folds of
    `path` (so no scored line was trained on); return the pooled evaluation report."""
    from nlp.training import EXTRA_WEIGHT, cross_evaluate

    corpus, held = _load_training(corpus_dir, [path])
    weight = EXTRA_WEIGHT if extra_weight is None else extra_weight
    result = cross_evaluate(corpus.examples, held, seed=seed, folds=folds, extra_weight=weight)
    header = (
        f"{path}: {folds}-fold cross-evaluation; each fold scored by a model trained on "
        f"{corpus_dir} + the other folds (weight {weight:g}), C={result.regularization:g}"
    )
    return header + "\n" + format_evaluation(evaluate(held, list(result.predicted)))


def _texts(lines: Iterable[str], *, jsonl: bool) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not jsonl:
            yield line.rstrip("\r\n")
            continue
        record = json.loads(line)
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str):
            raise CorpusError(f"line {number}: expected a JSON object with a string 'text'")
        yield text


def classify_command(lines: Iterable[str], *, jsonl: bool = False) -> Iterator[str]:
    """One JSON object per input text: text, label, confidence, urgent, cues (and runner-up)."""
    for text in _texts(lines, jsonl=jsonl):
        result = classify(text)
        yield json.dumps(
            {
                "text": text,
                "label": result.label.value,
                "confidence": result.confidence,
                "runner_up": result.runner_up.value,
                "urgent": result.urgent,
                "cues": list(result.cues),
            },
            ensure_ascii=False,
        )


def eval_command(path: Path, model_path: Path | None = None) -> str:
    """Classify every line of a labelled JSONL file and return the evaluation report, with
    the shipped model or the one at `model_path` (e.g. a corpus-only `linli train --out`)."""
    examples = read_examples(path)
    model = default_model() if model_path is None else LinearModel.load(model_path)
    predicted = [classify_with_model(model, example.text).label for example in examples]
    header = f"{path}\n" if model_path is None else f"{path} (model {model_path})\n"
    trained_on = model.metadata.get("extra_sha256")
    if trained_on and trained_on == corpus_fingerprint(sorted_examples(examples)):
        header += (
            "NOTE: the model was trained on this very file (linli train --with), so these "
            "figures are in-sample and say nothing; `linli eval --cross FILE` scores each line "
            "with a model that never saw it.\n"
        )
    return header + format_evaluation(evaluate(examples, predicted))
