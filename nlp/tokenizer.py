"""The jieba word segmenter with Linli's community vocabulary.

This is the only module that imports jieba. jieba's prefix-dictionary cache goes under a cache
directory Linli controls (not the system tempdir), so a warm start reads it instead of
rebuilding it from the 5 MB dictionary. Segmentation is jieba's own dictionary-only algorithm
(`cut(text, HMM=False)`: prefix DAG, best route by word log-frequency), re-written here as
one tight loop over jieba's loaded dictionary, because it is most of the classifier's time;
the unit tests check that it gives exactly jieba's words.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from importlib import resources
from pathlib import Path

import jieba

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "linli"
_CACHE_FILE_NAME = "jieba.cache"

_lock = threading.Lock()

# jieba's own block patterns (jieba/__init__.py: re_han_default, re_skip_default, re_eng):
# runs of Han characters, Latin letters, digits and +#&._%- are segmented; anything else is
# split into single characters (whitespace is dropped); single Latin letters or digits that
# the route leaves alone are glued back together.
_HAN_BLOCK = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_LATIN_OR_DIGIT = re.compile("[a-zA-Z0-9]")

# jieba logs "Building prefix dict ..." at DEBUG through its own stderr handler; keep it quiet
# so that CLI output and test logs stay clean.
jieba.setLogLevel(logging.WARNING)


def user_dictionary_path() -> Path:
    """Path of the community vocabulary shipped in `nlp/dicts/community.txt`."""
    return Path(str(resources.files("nlp") / "dicts" / "community.txt"))


class Tokenizer:
    """A jieba tokenizer loaded with the community vocabulary; thread-safe to initialise."""

    __slots__ = ("_cache_dir", "_frequencies", "_jieba", "_log_total", "_ready")

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self._cache_dir = cache_dir
        self._jieba = jieba.Tokenizer()
        self._frequencies: dict[str, int] = {}
        self._log_total = 0.0
        self._ready = False

    def load(self) -> None:
        """Load the main dictionary (from the cache when present) and the user dictionary."""
        if self._ready:
            return
        with _lock:
            if self._ready:
                return
            try:
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                self._jieba.cache_file = str(self._cache_dir / _CACHE_FILE_NAME)
            except OSError:
                # A read-only home still works: jieba then rebuilds into the system tempdir.
                self._jieba.cache_file = None
            self._jieba.initialize()
            with user_dictionary_path().open("rb") as words:
                self._jieba.load_userdict(words)
            # jieba's prefix dictionary: every word with its count, every proper prefix with 0.
            self._frequencies = self._jieba.FREQ
            self._log_total = math.log(self._jieba.total)
            self._ready = True

    def is_word(self, text: str) -> bool:
        """True when `text` is an entry of the loaded dictionaries (main or community)."""
        if not self._ready:
            self.load()
        return bool(self._jieba.FREQ.get(text))

    def words(self, text: str) -> list[str]:
        """Segment `text` into words (no HMM guessing, so results are stable and fast).

        The same words as `jieba.Tokenizer.cut(text, HMM=False)`, without whitespace tokens.
        """
        if not self._ready:
            self.load()
        words: list[str] = []
        for block in _HAN_BLOCK.split(text):
            if not block:
                continue
            if _HAN_BLOCK.match(block):
                self._segment(block, words)
            else:
                words.extend(char for char in block if not char.isspace())
        return words

    def _segment(self, block: str, words: list[str]) -> None:
        """jieba's `__cut_DAG_NO_HMM`: the most probable split of `block` into known words."""
        frequencies = self._frequencies
        log_total = self._log_total
        length = len(block)
        score = [0.0] * (length + 1)
        end = list(range(length + 1))
        for start in range(length - 1, -1, -1):
            # Longest candidates last: on equal scores jieba keeps the later (longer) one.
            best = -log_total + score[start + 1]
            best_end = start
            found = False
            stop = start
            fragment = block[start]
            while fragment in frequencies:
                count = frequencies[fragment]
                if count:
                    candidate = math.log(count) - log_total + score[stop + 1]
                    if not found or candidate >= best:
                        best, best_end, found = candidate, stop, True
                stop += 1
                if stop >= length:
                    break
                fragment = block[start : stop + 1]
            score[start] = best
            end[start] = best_end
        position = 0
        glued = ""
        while position < length:
            after = end[position] + 1
            word = block[position:after]
            if after - position == 1 and _LATIN_OR_DIGIT.match(word):
                glued += word
            else:
                if glued:
                    words.append(glued)
                    glued = ""
                words.append(word)
            position = after
        if glued:
            words.append(glued)

    def jieba_words(self, text: str) -> list[str]:
        """`words` computed by jieba itself (the reference the fast path must equal)."""
        if not self._ready:
            self.load()
        return [word for word in self._jieba.cut(text, HMM=False) if not word.isspace()]


@functools.cache
def default_tokenizer() -> Tokenizer:
    """The process-wide tokenizer used by `classify` (created lazily, loaded on first use)."""
    return Tokenizer()


def tokenize(text: str) -> list[str]:
    """Segment already-normalised `text` with the default tokenizer."""
    return default_tokenizer().words(text)


def raw_lcut(text: str) -> list[str]:
    """Plain `jieba.lcut` (global dictionary, HMM on): the baseline benchmarks compare against."""
    return list(jieba.lcut(text))


def warm_up_raw() -> None:
    """Load jieba's global dictionary, so that `raw_lcut` timings exclude the first-use load."""
    jieba.initialize()
