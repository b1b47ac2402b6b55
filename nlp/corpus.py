"""Reading labelled messages: the training corpus (`corpus/parts/*.jsonl`) and evaluation sets.

Training lines are {"text", "label", "urgent", "note"?}; evaluation lines may also carry
"ambiguous" and "alt" (a second defensible label, used for lenient scoring).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.labels import Label
from nlp.text import normalize


class CorpusError(ValueError):
    """A labelled file has a line that is not a valid example (message names file and line)."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message and where it came from."""

    text: str
    label: Label
    alt: Label | None
    urgent: bool | None
    origin: str


def _label(value: object, where: str, key: str) -> Label:
    try:
        return Label(str(value))
    except ValueError:
        expected = ", ".join(label.value for label in Label)
        message = f"{where}: key {key!r} is {value!r}, expected one of {expected}"
        raise CorpusError(message) from None


def _example(line: str, where: str) -> Example:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{where}: not a JSON object: {error.msg}") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: key 'text' must be a non-empty string")
    label = _label(record.get("label"), where, "label")
    alt_value = record.get("alt")
    alt = _label(alt_value, where, "alt") if alt_value is not None else None
    urgent = record.get("urgent")
    if urgent is not None and not isinstance(urgent, bool):
        raise CorpusError(f"{where}: key 'urgent' must be true or false")
    return Example(text, label, alt, urgent, where)


def read_examples(path: Path) -> list[Example]:
    """All examples of one JSONL file, in file order (blank lines are skipped)."""
    examples = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                examples.append(_example(line, f"{path}:{number}"))
    return examples


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The JSONL files of a corpus directory (its `parts/` when present), sorted by name."""
    parts = corpus_dir / "parts"
    root = parts if parts.is_dir() else corpus_dir
    return sorted(root.glob("*.jsonl"))


@dataclass(frozen=True, slots=True)
class Corpus:
    """Deduplicated training examples sorted by (label, text), plus what was dropped."""

    examples: tuple[Example, ...]
    duplicates: int
    conflicts: tuple[str, ...]


def load_corpus(corpus_dir: Path) -> Corpus:
    """Load every file of a corpus; same-text lines are merged, contradictory ones dropped."""
    by_text: dict[str, list[Example]] = {}
    total = 0
    for path in corpus_files(corpus_dir):
        for example in read_examples(path):
            by_text.setdefault(normalize(example.text), []).append(example)
            total += 1
    kept: list[Example] = []
    conflicts: list[str] = []
    for text, group in by_text.items():
        if len({example.label for example in group}) > 1:
            conflicts.append(text)
        else:
            kept.append(group[0])
    kept.sort(key=lambda example: (example.label.value, normalize(example.text)))
    duplicates = total - len(kept) - sum(len(by_text[text]) for text in conflicts)
    return Corpus(tuple(kept), duplicates, tuple(sorted(conflicts)))


def sorted_examples(examples: Sequence[Example]) -> list[Example]:
    """Examples in (label, text) order: files come in any order, the fit must not depend on it."""
    return sorted(examples, key=lambda example: (example.label.value, example.text))


def corpus_fingerprint(examples: Sequence[Example]) -> str:
    """SHA-256 over the sorted (label, text) pairs the model was trained on."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.label.value}\t{example.text}\n".encode())
    return digest.hexdigest()
