"""Command functions behind `linli train`, `linli classify` and `linli eval`.

The lead's CLI parses arguments and calls these; they print (train) or return text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from nlp.corpus import CorpusError, load_corpus, read_examples
from nlp.evaluation import evaluate, format_evaluation
from nlp.intents import classify

DEFAULT_SEED = 13


def train_command(corpus_dir: Path, out_path: Path, *, seed: int = DEFAULT_SEED) -> int:
    """Train on `corpus_dir`, write the weights to `out_path`, print the cross-validated report."""
    # scikit-learn is a training-only extra; import it here so that inference never pays for it.
    from nlp.training import train

    try:
        corpus = load_corpus(corpus_dir)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not corpus.examples:
        print(f"error: {corpus_dir}: no *.jsonl examples found", file=sys.stderr)
        return 2
    print(
        f"corpus: {len(corpus.examples)} examples from {corpus_dir} "
        f"({corpus.duplicates} duplicates merged, {len(corpus.conflicts)} conflicting dropped)"
    )
    result = train(corpus.examples, seed=seed)
    result.model.save(out_path)
    predicted = list(result.cross_validated)
    print(
        f"model: {result.model.feature_count} features, C={result.regularization:g}, "
        f"seed {seed} -> {out_path} ({out_path.stat().st_size // 1024} KiB)"
    )
    print("cross-validated on the corpus (5 folds, out-of-fold predictions):")
    print(format_evaluation(evaluate(corpus.examples, predicted)))
    return 0


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


def eval_command(path: Path) -> str:
    """Classify every line of a labelled JSONL file and return the evaluation report."""
    examples = read_examples(path)
    predicted = [classify(example.text).label for example in examples]
    return f"{path}\n" + format_evaluation(evaluate(examples, predicted))
