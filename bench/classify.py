"""Classifier benchmark: warm single-message latency, batch rate, cold start, raw jieba rate.

Usage: python bench/classify.py [--texts FILE.jsonl ...] [--passes N]
Texts default to the dev set (../shared/data/requests-dev.jsonl) plus the training corpus.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp import classify, warm_up  # noqa: E402
from nlp.corpus import corpus_files  # noqa: E402
from nlp.tokenizer import raw_lcut, warm_up_raw  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "data" / "requests-dev.jsonl"
COLD_START_RUNS = 5
COLD_START_SCRIPT = """
import time
started = time.perf_counter()
import nlp
nlp.warm_up()
nlp.classify("5栋电梯坏了三天了")
print(time.perf_counter() - started)
"""


def load_texts(paths: list[Path]) -> list[str]:
    """The `text` field of every JSONL line in `paths`."""
    texts: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            texts.extend(json.loads(line)["text"] for line in lines if line.strip())
    return texts


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def cold_start() -> tuple[float, float]:
    """Median in-process and median whole-process seconds for import + load + first classify."""
    inside, whole = [], []
    for _ in range(COLD_START_RUNS):
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, "-c", COLD_START_SCRIPT],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        whole.append(time.perf_counter() - started)
        inside.append(float(output.strip()))
    return statistics.median(inside), statistics.median(whole)


def rate(function: object, texts: list[str], passes: int) -> float:
    """Messages per second of `function` over `passes` runs through `texts`."""
    assert callable(function)
    started = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            function(text)
    return passes * len(texts) / (time.perf_counter() - started)


def main() -> None:
    """Run every measurement on the same texts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=Path, nargs="*")
    parser.add_argument("--passes", type=int, default=5)
    arguments = parser.parse_args()
    paths = arguments.texts or [DEV_SET, *corpus_files(ROOT / "corpus")]
    texts = load_texts([path for path in paths if path.exists()])
    print(f"texts: {len(texts)} (median {statistics.median(map(len, texts)):.0f} characters)")

    inside, whole = cold_start()
    print(f"cold start: {inside * 1000:.0f} ms in-process (import + jieba + model + 1st classify),")
    print(f"            {whole * 1000:.0f} ms whole process including interpreter start")

    warm_up()
    warm_up_raw()
    for text in texts:
        classify(text)
    latencies = []
    for text in texts:
        started = time.perf_counter_ns()
        classify(text)
        latencies.append((time.perf_counter_ns() - started) / 1e6)
    print(
        f"single message (warm): p50 {percentile(latencies, 0.5):.3f} ms, "
        f"p99 {percentile(latencies, 0.99):.3f} ms, max {max(latencies):.3f} ms"
    )
    classify_rate = rate(classify, texts, arguments.passes)
    jieba_rate = rate(raw_lcut, texts, arguments.passes)
    print(f"batch classify: {classify_rate:,.0f} messages/s")
    print(f"raw jieba.lcut: {jieba_rate:,.0f} messages/s (same texts, same run)")
    print(f"ratio classify / raw jieba: {classify_rate / jieba_rate:.2f}")


if __name__ == "__main__":
    main()
