"""Feature extraction: how a message opens and ends, and the lexicon's `none` category."""

from __future__ import annotations

from nlp.features import END_PREFIX, START_PREFIX, WORD_PREFIX, canonical, extract
from nlp.tokenizer import tokenize


def names_of(text: str) -> set[str]:
    form = canonical(text)
    return set(extract(form, tokenize(form)).names)


def test_opening_and_closing_characters_are_features() -> None:
    names = names_of("请问电梯什么时候修好")
    expected = {START_PREFIX + "请", START_PREFIX + "请问", END_PREFIX + "好", END_PREFIX + "修好"}
    assert expected <= names


def test_edge_features_never_equal_words_or_ngrams() -> None:
    # Markers the text itself may contain: an n-gram "^请" is not the edge feature "^ 请".
    names = names_of("^请问$")
    edges = {name for name in names if name.startswith((START_PREFIX, END_PREFIX))}
    assert edges == {START_PREFIX + "^", START_PREFIX + "^请", END_PREFIX + "$", END_PREFIX + "问$"}
    assert not any(name.startswith(WORD_PREFIX) for name in edges)
    assert "^请" in names


def test_chat_cues_mark_the_none_category() -> None:
    assert "k:none" in names_of("明天上午小区团购的水果到了")
    assert "k2:none" in names_of("通知：明天上午小区团购的水果到了")
    assert "k:none" not in names_of("5栋电梯坏了三天了")
