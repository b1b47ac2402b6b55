"""Train the request classifier on the corpus and export its weights (training time only).

This is the only module that imports scikit-learn. Training is deterministic: inputs are
sorted, folds and solver are seeded, and the vocabulary is sorted.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from tqdm import tqdm

from nlp.corpus import Example
from nlp.features import (
    CATEGORY_PREFIX,
    STRONG_CATEGORY_PREFIX,
    MessageFeatures,
    canonical,
    extract,
)
from nlp.labels import Label
from nlp.linear import FORMAT_VERSION, LinearModel
from nlp.text import normalize
from nlp.tokenizer import tokenize

MIN_DOCUMENT_FREQUENCY = 2
# Lexicon categories count this many times an ordinary feature of the same IDF: they are what
# carries the corpus's group-chat knowledge over to formally written requests.
CATEGORY_WEIGHT = 4.0
CATEGORY_PREFIXES = (CATEGORY_PREFIX, STRONG_CATEGORY_PREFIX)
C_GRID = (10.0, 30.0, 100.0)
FOLDS = 5
MAX_ITERATIONS = 3000


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """The exported model and its cross-validated (out-of-fold) predictions on the corpus."""

    model: LinearModel
    regularization: float
    cross_validated: tuple[Label, ...]


def featurize(texts: Sequence[str], *, progress: bool) -> list[MessageFeatures]:
    """Features of each text, exactly as inference computes them."""
    features = []
    for text in tqdm(texts, desc="features", unit="msg", disable=not progress):
        text_form = canonical(normalize(text))
        features.append(extract(text_form, tokenize(text_form)))
    return features


def build_vocabulary(features: Sequence[MessageFeatures]) -> list[str]:
    """Features seen in at least MIN_DOCUMENT_FREQUENCY messages, sorted."""
    frequency: Counter[str] = Counter()
    for message in features:
        frequency.update(message.names)
    return sorted(name for name, count in frequency.items() if count >= MIN_DOCUMENT_FREQUENCY)


def feature_scales(features: Sequence[MessageFeatures], vocabulary: Sequence[str]) -> np.ndarray:
    """Smoothed IDF of every feature, with lexicon categories boosted by CATEGORY_WEIGHT."""
    frequency: Counter[str] = Counter()
    for message in features:
        frequency.update(message.names)
    total = len(features)
    scales = np.array([math.log((1 + total) / (1 + frequency[name])) + 1 for name in vocabulary])
    categories = [name.startswith(CATEGORY_PREFIXES) for name in vocabulary]
    scales[np.array(categories, dtype=bool)] *= CATEGORY_WEIGHT
    return scales


def design_matrix(
    features: Sequence[MessageFeatures], vocabulary: Sequence[str], scales: np.ndarray
) -> sparse.csr_matrix:
    """One L2-normalised row per message, each known feature at its scale (as at inference)."""
    index = {name: column for column, name in enumerate(vocabulary)}
    indptr, columns, values = [0], [], []
    for message in features:
        row = sorted(index[name] for name in message.names if name in index)
        cells = scales[row]
        norm = float(np.sqrt((cells * cells).sum())) or 1.0
        columns.extend(row)
        values.extend((cells / norm).tolist())
        indptr.append(len(columns))
    return sparse.csr_matrix(
        (np.array(values), np.array(columns, dtype=np.int64), np.array(indptr, dtype=np.int64)),
        shape=(len(features), len(vocabulary)),
    )


def _classifier(regularization: float, seed: int) -> LogisticRegression:
    return LogisticRegression(
        C=regularization, class_weight="balanced", max_iter=MAX_ITERATIONS, random_state=seed
    )


def _cross_validate(
    matrix: sparse.csr_matrix, targets: np.ndarray, *, seed: int, progress: bool
) -> tuple[float, np.ndarray]:
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    splits = list(folds.split(np.zeros(len(targets)), targets))
    best: tuple[float, float, np.ndarray] | None = None
    with tqdm(total=len(C_GRID) * FOLDS, desc="cross-validation", disable=not progress) as bar:
        for regularization in C_GRID:
            predicted = np.empty_like(targets)
            for train_rows, test_rows in splits:
                model = _classifier(regularization, seed).fit(
                    matrix[train_rows], targets[train_rows]
                )
                predicted[test_rows] = model.predict(matrix[test_rows])
                bar.update()
            score = float(f1_score(targets, predicted, average="macro"))
            if best is None or score > best[0]:
                best = (score, regularization, predicted)
    assert best is not None
    return best[1], best[2]


def corpus_fingerprint(examples: Sequence[Example]) -> str:
    """SHA-256 over the sorted (label, text) pairs the model was trained on."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.label.value}\t{example.text}\n".encode())
    return digest.hexdigest()


def train(examples: Sequence[Example], *, seed: int, progress: bool = True) -> TrainingResult:
    """Fit the classifier on `examples` (already sorted and deduplicated)."""
    labels = tuple(label for label in Label if any(ex.label is label for ex in examples))
    if len(labels) < 2:
        raise ValueError("the corpus needs examples of at least two labels")
    targets = np.array([labels.index(example.label) for example in examples])
    features = featurize([example.text for example in examples], progress=progress)
    vocabulary = build_vocabulary(features)
    scales = feature_scales(features, vocabulary)
    matrix = design_matrix(features, vocabulary, scales)
    regularization, predicted = _cross_validate(matrix, targets, seed=seed, progress=progress)
    final = _classifier(regularization, seed).fit(matrix, targets)
    metadata: dict[str, object] = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "regularization": regularization,
        "category_weight": CATEGORY_WEIGHT,
        "examples": len(examples),
        "label_counts": {label.value: int((targets == i).sum()) for i, label in enumerate(labels)},
        "corpus_sha256": corpus_fingerprint(examples),
    }
    model = LinearModel(
        labels=tuple(labels[index] for index in final.classes_),
        vocabulary=vocabulary,
        scales=scales,
        weights=np.ascontiguousarray(final.coef_.T, dtype=np.float64),
        bias=np.asarray(final.intercept_, dtype=np.float64),
        metadata=metadata,
    )
    return TrainingResult(model, regularization, tuple(labels[index] for index in predicted))
