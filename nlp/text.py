"""Text normalisation for residents' chat messages.

Folds full-width ASCII letters/digits to half-width, drops invisible characters and collapses
whitespace, while leaving Chinese punctuation (，。！？) as residents typed it.
"""

from __future__ import annotations

import re
import unicodedata

# Full-width forms U+FF01..U+FF5E mirror ASCII 0x21..0x7E. Only letters and digits (and the few
# symbols that carry meaning in "+1", "5-2-301", "#3" or "@") are folded; full-width Chinese
# punctuation stays so that the text still reads naturally in tickets.
_FOLDED_SYMBOLS = "+-#@%&*/=_.~"
_FULL_WIDTH_TABLE: dict[int, str] = {
    0xFF00 + ord(char) - 0x20: char
    for char in ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + _FOLDED_SYMBOLS)
}
# Invisible characters: zero-width space/joiners, word joiner, BOM, soft hyphen and emoji
# variation selectors. They split words for jieba and break keyword matching.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0e\ufe0f"
_TRANSLATION: dict[int, str | None] = {
    **_FULL_WIDTH_TABLE,
    **dict.fromkeys(map(ord, _INVISIBLE)),
    # The ideographic space and WeChat's mention separator (U+2005) are ordinary spaces.
    0x3000: " ",
    0x2005: " ",
    0x00A0: " ",
}
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return `text` with half-width letters/digits, no invisible characters, single spaces."""
    # NFC first so that decomposed characters (rare, from some Android keyboards) compare equal.
    folded = unicodedata.normalize("NFC", text).translate(_TRANSLATION)
    return _WHITESPACE.sub(" ", folded).strip()
