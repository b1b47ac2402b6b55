"""Print the corpus counts table for corpus/README.md (markdown).

Usage: python corpus/tools/counts.py [CORPUS_DIR]
Counts lines per file and label, urgent lines, lines with a note, generated lines (a note that
starts with "generated"), duplicates across files, and message lengths.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

LABELS = ("repair", "complaint", "incident", "dispute", "inquiry", "suggestion", "none")
EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF]|\[[^\[\]]{1,4}\]")
LATIN = re.compile(r"[A-Za-z]{2,}")
PUNCTUATION = re.compile(r"[，。！？、；：,.!?;:]")


def emit(line: str) -> None:
    """Write one line of the report to standard output."""
    sys.stdout.write(line + "\n")


def main() -> None:
    """Read every parts/*.jsonl file and print the tables."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    files = sorted((root / "parts").glob("*.jsonl"))
    per_label: Counter[str] = Counter()
    urgent: Counter[str] = Counter()
    generated: Counter[str] = Counter()
    noted: Counter[str] = Counter()
    texts: Counter[str] = Counter()
    lengths: list[int] = []
    style: Counter[str] = Counter()
    emit("| file | lines | labels |")
    emit("|---|---:|---|")
    for path in files:
        records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        labels = Counter(record["label"] for record in records)
        shown = ", ".join(f"{label} {labels[label]}" for label in LABELS if labels[label])
        emit(f"| `{path.name}` | {len(records)} | {shown} |")
        for record in records:
            label, text, note = record["label"], record["text"], record.get("note") or ""
            per_label[label] += 1
            urgent[label] += bool(record.get("urgent"))
            noted[label] += bool(note)
            generated[label] += note.lower().startswith("generated")
            texts[text] += 1
            lengths.append(len(text))
            style["emoji or sticker"] += bool(EMOJI.search(text))
            style["Latin letters (English, pinyin)"] += bool(LATIN.search(text))
            style["no punctuation at all"] += not PUNCTUATION.search(text)
            style["question mark"] += "？" in text or "?" in text
    emit("")
    emit("| label | lines | urgent | with note | generated |")
    emit("|---|---:|---:|---:|---:|")
    for label in LABELS:
        emit(
            f"| {label} | {per_label[label]} | {urgent[label]} | {noted[label]} "
            f"| {generated[label]} |"
        )
    total = sum(per_label.values())
    emit(
        f"| **total** | **{total}** | {sum(urgent.values())} | {sum(noted.values())} "
        f"| {sum(generated.values())} |"
    )
    emit("")
    duplicates = sum(count - 1 for count in texts.values() if count > 1)
    emit(
        f"Lengths: median {statistics.median(lengths):.0f} characters, "
        f"shortest {min(lengths)}, longest {max(lengths)}; {duplicates} exact duplicate lines."
    )
    emit("Style markers: " + ", ".join(f"{name} {count}" for name, count in style.items()) + ".")


if __name__ == "__main__":
    main()
