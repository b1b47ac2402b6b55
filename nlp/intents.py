"""The public classifier: text -> request type, confidence, runner-up, urgency and cue words.

Acknowledgements are settled by rule (`chatter`), urgency by rule (`urgency`), and everything
else by the trained linear model (`linear`). An urgent message is never left as `none`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nlp.chatter import acknowledgement
from nlp.features import SIGNAL_PREFIXES, WORD_PREFIX, canonical, extract
from nlp.labels import Label
from nlp.linear import LinearModel, Scores, default_model_path
from nlp.text import normalize
from nlp.tokenizer import default_tokenizer, tokenize
from nlp.urgency import detect_urgency

MAX_CUES = 5
_ACKNOWLEDGEMENT_CONFIDENCE = 0.99
# Label order for ties: `none` first (a false ticket costs more than silence), then enum order.
_TIE_ORDER = {label: (label is not Label.NONE, index) for index, label in enumerate(Label)}


@dataclass(frozen=True, slots=True)
class Classification:
    """What a message asks for, how sure we are, and the words that decided it."""

    label: Label
    confidence: float
    runner_up: Label
    urgent: bool
    cues: tuple[str, ...]


@functools.cache
def default_model() -> LinearModel:
    """The model shipped in `nlp/model/`, loaded once per process."""
    return LinearModel.load(default_model_path())


def warm_up() -> None:
    """Load the jieba dictionaries and the model; blocking, so call it off the event loop."""
    default_tokenizer().load()
    _cue_table(default_model())


def _probabilities(model: LinearModel, scores: Scores) -> dict[Label, float]:
    logits = scores.logits.tolist()
    top = max(logits)
    exponentials = [math.exp(logit - top) for logit in logits]
    total = sum(exponentials)
    return {label: value / total for label, value in zip(model.labels, exponentials, strict=True)}


# Words that occur in requests and chat alike: never shown to staff as a reason.
_STOP_WORD_TEXT = """
    我们 你们 他们 她们 咱们 大家 自己 这个 那个 这些 那些 这里 那里 这边 那边 这样
    那样 这么 那么 一个 一下 一些 有点 什么 还是 就是 已经 现在 今天 昨天 明天 时候
    因为 所以 但是 而且 然后 如果 还有 可是 不过 只是 这种 那种 一直 一样 一点 一次
    的话 为了 对于 关于 其实 真是
"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def _readable(cue: str) -> bool:
    # Digits were folded to "0", single characters are mostly function words (的, 了, 栋),
    # and short Latin fragments say nothing.
    return (
        len(cue) >= 2
        and "0" not in cue
        and cue not in _STOP_WORDS
        and not (cue.isascii() and len(cue) < 3)
        and any(char.isalnum() for char in cue)
    )


@dataclass(frozen=True, slots=True)
class _CueTable:
    """Per model row: the text shown to staff, whether it may be shown, whether it is a word."""

    texts: tuple[str, ...]
    shown: npt.NDArray[np.bool_]
    words: npt.NDArray[np.bool_]


@functools.cache
def _cue_table(model: LinearModel) -> _CueTable:
    """Which features make meaningful cues: readable segmented words, and character n-grams
    that spell a dictionary word (decided once per model, not per message)."""
    tokenizer = default_tokenizer()
    texts: list[str] = []
    shown, words = [], []
    for name in model.vocabulary:
        is_word = name.startswith(WORD_PREFIX)
        text = name[len(WORD_PREFIX) :] if is_word else name
        signal = name.startswith(SIGNAL_PREFIXES)
        ok = not signal and _readable(text) and (is_word or tokenizer.is_word(text))
        texts.append(text)
        shown.append(ok)
        words.append(is_word)
    # The extra last entry stands for `model.missing_row` (features the model does not know).
    return _CueTable(
        tuple(texts), np.array([*shown, False], dtype=bool), np.array([*words, False], dtype=bool)
    )


def _cues(model: LinearModel, scores: Scores, label: Label, runner_up: Label) -> list[str]:
    """Meaningful words that pushed hardest towards `label` rather than `runner_up`.

    Segmented words only; when none qualifies, the strongest character n-gram that spells a
    dictionary word.
    """
    table = _cue_table(model)
    rows = scores.rows[table.shown[scores.rows]]
    if not rows.size:
        return []
    push = model.pushes(rows, label, runner_up)
    keep = push > 0
    rows, push = rows[keep], push[keep]
    # Words before n-grams, then the strongest push, then the row (for determinism).
    order = np.lexsort((rows, -push, ~table.words[rows]))
    cues: list[str] = []
    for row in rows[order].tolist():
        if not table.words[row]:
            # An n-gram can straddle two words ("下饭" in "楼下饭店"): only when no segmented
            # word qualified does the strongest dictionary-word n-gram stand in.
            return cues or [table.texts[row]]
        cues.append(table.texts[row])
        if len(cues) >= MAX_CUES:
            break
    return cues


def classify(text: str) -> Classification:
    """Classify one resident message; pure and deterministic."""
    return classify_with_model(default_model(), text)


def classify_with_model(model: LinearModel, text: str) -> Classification:
    """`classify` with a given model (used to evaluate models that are not shipped)."""
    normalized = normalize(text)
    urgency = detect_urgency(normalized)
    acknowledged = acknowledgement(normalized)
    if acknowledged is not None and urgency is None:
        return Classification(
            Label.NONE, _ACKNOWLEDGEMENT_CONFIDENCE, Label.INQUIRY, False, (acknowledged,)
        )
    text_form = canonical(normalized)
    features = extract(text_form, tokenize(text_form))
    scores = model.score(features)
    probabilities = _probabilities(model, scores)
    ranked = sorted(probabilities, key=lambda label: (-probabilities[label], _TIE_ORDER[label]))
    label, runner_up = ranked[0], ranked[1]
    confidence = probabilities[label]
    if urgency is not None and label is Label.NONE:
        # The rules know it is a request; the model still picks which type, and the confidence
        # becomes that type's probability among the request types.
        label, runner_up = [other for other in ranked if other is not Label.NONE][:2]
        confidence = probabilities[label] / (1.0 - probabilities[Label.NONE])
    cues = _cues(model, scores, label, runner_up)
    if urgency is not None:
        cues = list(dict.fromkeys([*urgency.evidence, *cues]))
    urgent = urgency is not None
    return Classification(label, round(confidence, 4), runner_up, urgent, tuple(cues[:MAX_CUES]))
