"""The jieba word segmenter with Linli's community vocabulary.

This is the only module that imports jieba. jieba's prefix-dictionary cache goes under a cache
directory Linli controls (not the system tempdir), so a warm start reads it instead of
rebuilding it from the 5 MB dictionary.
"""

from __future__ import annotations

import functools
import logging
import threading
from importlib import resources
from pathlib import Path

import jieba

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "linli"
_CACHE_FILE_NAME = "jieba.cache"

_lock = threading.Lock()

# jieba logs "Building prefix dict ..." at DEBUG through its own stderr handler; keep it quiet
# so that CLI output and test logs stay clean.
jieba.setLogLevel(logging.WARNING)


def user_dictionary_path() -> Path:
    """Path of the community vocabulary shipped in `nlp/dicts/community.txt`."""
    return Path(str(resources.files("nlp") / "dicts" / "community.txt"))


class Tokenizer:
    """A jieba tokenizer loaded with the community vocabulary; thread-safe to initialise."""

    __slots__ = ("_cache_dir", "_jieba", "_ready")

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self._cache_dir = cache_dir
        self._jieba = jieba.Tokenizer()
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
            self._ready = True

    def words(self, text: str) -> list[str]:
        """Segment `text` into words (no HMM guessing, so results are stable and fast)."""
        if not self._ready:
            self.load()
        return [word for word in self._jieba.lcut(text, HMM=False) if not word.isspace()]


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
