"""Feature extraction shared by training and inference: jieba words, character 1-3-grams,
domain-lexicon categories, and the message's first and last characters.

Both sides must see exactly the same features, so this is the one place that defines them.
Digits are folded to "0": a building or room number says nothing about the request type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlp.lexicon import cue_index

# Word features start with a space. Character n-grams are taken from the text with its spaces
# removed, so they never contain one: the two kinds cannot collide, and no prefix has to be
# built for the far more numerous n-grams.
WORD_PREFIX = " "
CATEGORY_PREFIX = "k:"
STRONG_CATEGORY_PREFIX = "k2:"
# How a message opens and ends ("请问…", "…吗？") says much about what it is. These names hold a
# space after the marker, so they can equal neither a word (which starts with one) nor an
# n-gram (which has none).
START_PREFIX = "^ "
END_PREFIX = "$ "
# Features that stand for a property of the message, not for text in it.
SIGNAL_PREFIXES = (
    CATEGORY_PREFIX,
    STRONG_CATEGORY_PREFIX,
    START_PREFIX,
    END_PREFIX,
)
MAX_CHAR_NGRAM = 3

_DIGIT_RUN = re.compile(r"\d+")
# Runs of the same punctuation ("！！！", "？？") mean the same as one.
_REPEATED_MARK = re.compile(r"([!?！？。，,.~～…])\1+")
_KEPT_MARKS = frozenset("?？!！")
_CUE_INDEX = cue_index(WORD_PREFIX)
_CUE_NAMES = frozenset(_CUE_INDEX)


@dataclass(frozen=True, slots=True)
class MessageFeatures:
    """The distinct features of one message (the model weighs and normalises them)."""

    names: tuple[str, ...]


def canonical(text: str) -> str:
    """Lower-case, digit-folded, punctuation-squeezed form of a normalised message.

    Segmentation and features both work on this form, so words come out already canonical.
    """
    return _REPEATED_MARK.sub(r"\1", _DIGIT_RUN.sub("0", text.lower()))


def _is_word(token: str) -> bool:
    # Punctuation-only tokens are noise as words (the n-grams keep them), except ? and !.
    return token.isalnum() or token in _KEPT_MARKS or any(char.isalnum() for char in token)


def extract(text: str, words: list[str]) -> MessageFeatures:
    """Features of `canonical` text given the jieba `words` segmented from that same text."""
    compact = text.replace(" ", "")
    length = len(compact)
    grams = list(compact)
    grams += [compact[start : start + 2] for start in range(length - 1)]
    grams += [compact[start : start + 3] for start in range(length - 2)]
    # `isalnum` first: it settles most tokens without a function call.
    grams += [WORD_PREFIX + word for word in words if word.isalnum() or _is_word(word)]
    # The opening and closing one and two characters.
    grams += (
        START_PREFIX + compact[:1],
        START_PREFIX + compact[:2],
        END_PREFIX + compact[-1:],
        END_PREFIX + compact[-2:],
    )
    names = dict.fromkeys(grams)
    names.update(dict.fromkeys(_categories(names.keys() & _CUE_NAMES)))
    return MessageFeatures(tuple(names))


def _categories(cues: Iterable[str]) -> list[str]:
    """ "k:<label>" when a cue word of that label occurs, "k2:<label>" when two or more do."""
    hits: dict[str, int] = {}
    # Sorted so that the categories come out in the same order whatever the set order was.
    for cue in sorted(cues):
        for label in _CUE_INDEX[cue]:
            hits[label.value] = hits.get(label.value, 0) + 1
    categories = [CATEGORY_PREFIX + label for label in hits]
    categories += [STRONG_CATEGORY_PREFIX + label for label, count in hits.items() if count > 1]
    return categories
