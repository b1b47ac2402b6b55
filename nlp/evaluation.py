"""Scoring the classifier on a labelled set: per-class P/R/F1, macro-F1, confusion, ticket rates.

Strict scoring compares with `label` only; lenient scoring also accepts `alt` on lines marked
ambiguous. The false-ticket rate is the share of `none` lines predicted as a request, and the
miss rate the share of request lines predicted `none` (both computed strictly and leniently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nlp.corpus import Example
from nlp.labels import Label


@dataclass(frozen=True, slots=True)
class ClassScores:
    """Precision, recall and F1 of one label, and how many gold lines it has."""

    label: Label
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Scoring:
    """Per-class scores, macro-F1 and ticket rates under one way of reading the gold labels."""

    per_class: tuple[ClassScores, ...]
    macro_f1: float
    accuracy: float
    false_ticket_rate: float
    miss_rate: float
    confusion: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Strict and lenient scoring of one prediction run."""

    size: int
    ambiguous: int
    strict: Scoring
    lenient: Scoring


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _score(gold: Sequence[Label], predicted: Sequence[Label]) -> Scoring:
    labels = list(Label)
    position = {label: index for index, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for truth, guess in zip(gold, predicted, strict=True):
        confusion[position[truth]][position[guess]] += 1
    per_class = []
    for index, label in enumerate(labels):
        hits = confusion[index][index]
        predicted_count = sum(row[index] for row in confusion)
        support = sum(confusion[index])
        precision, recall = _ratio(hits, predicted_count), _ratio(hits, support)
        total = precision + recall
        f1 = 2 * precision * recall / total if total else 0.0
        per_class.append(ClassScores(label, precision, recall, f1, support))
    present = [scores for scores in per_class if scores.support or scores.precision]
    none_row = confusion[position[Label.NONE]]
    none_column = position[Label.NONE]
    request_rows = [confusion[position[label]] for label in labels if label is not Label.NONE]
    return Scoring(
        per_class=tuple(per_class),
        macro_f1=sum(scores.f1 for scores in present) / len(present) if present else 0.0,
        accuracy=_ratio(sum(confusion[i][i] for i in range(len(labels))), len(gold)),
        false_ticket_rate=_ratio(sum(none_row) - none_row[none_column], sum(none_row)),
        miss_rate=_ratio(
            sum(row[none_column] for row in request_rows), sum(sum(row) for row in request_rows)
        ),
        confusion=tuple(tuple(row) for row in confusion),
    )


def evaluate(examples: Sequence[Example], predicted: Sequence[Label]) -> Evaluation:
    """Score `predicted` labels against the gold `examples`, strictly and leniently."""
    strict_gold = [example.label for example in examples]
    lenient_gold = [
        guess if example.alt is not None and guess is example.alt else example.label
        for example, guess in zip(examples, predicted, strict=True)
    ]
    return Evaluation(
        size=len(examples),
        ambiguous=sum(example.alt is not None for example in examples),
        strict=_score(strict_gold, predicted),
        lenient=_score(lenient_gold, predicted),
    )


def format_evaluation(evaluation: Evaluation) -> str:
    """Plain-text report: per-class table, macro-F1, ticket rates and the confusion matrix."""
    strict, lenient = evaluation.strict, evaluation.lenient
    lines = [
        f"lines: {evaluation.size} (ambiguous: {evaluation.ambiguous})",
        "",
        f"{'label':<11} {'P':>6} {'R':>6} {'F1':>6} {'P*':>6} {'R*':>6} {'F1*':>6} {'n':>5}",
    ]
    for plain, soft in zip(strict.per_class, lenient.per_class, strict=True):
        lines.append(
            f"{plain.label.value:<11} {plain.precision:6.3f} {plain.recall:6.3f} {plain.f1:6.3f} "
            f"{soft.precision:6.3f} {soft.recall:6.3f} {soft.f1:6.3f} {plain.support:5d}"
        )
    lines += [
        "(* = lenient: an ambiguous line also counts as right when the prediction is its alt)",
        "",
        f"macro-F1      strict {strict.macro_f1:.3f}   lenient {lenient.macro_f1:.3f}",
        f"accuracy      strict {strict.accuracy:.3f}   lenient {lenient.accuracy:.3f}",
        f"false-ticket  strict {strict.false_ticket_rate:.1%}   lenient "
        f"{lenient.false_ticket_rate:.1%}   (none predicted as a request / all none)",
        f"miss          strict {strict.miss_rate:.1%}   lenient "
        f"{lenient.miss_rate:.1%}   (request predicted none / all requests)",
        "",
        "confusion (strict; rows = gold, columns = predicted)",
    ]
    short = [label.value[:6] for label in Label]
    lines.append(" " * 11 + "".join(f"{name:>7}" for name in short))
    for label, row in zip(Label, strict.confusion, strict=True):
        lines.append(f"{label.value:<11}" + "".join(f"{count:7d}" for count in row))
    return "\n".join(lines)
