"""The public classifier: text -> request type, confidence, runner-up, urgency and cue words.

Acknowledgements are settled by rule (`chatter`), urgency by rule (`urgency`), and everything
else by the trained linear model (`linear`). An urgent message is never left as `none`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from nlp.chatter import acknowledgement
from nlp.features import WORD_PREFIX, canonical, extract
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
    default_model()


def _probabilities(model: LinearModel, scores: Scores) -> dict[Label, float]:
    logits = scores.logits.tolist()
    top = max(logits)
    exponentials = [math.exp(logit - top) for logit in logits]
    total = sum(exponentials)
    return {label: value / total for label, value in zip(model.labels, exponentials, strict=True)}


def _cues(model: LinearModel, scores: Scores, label: Label) -> list[str]:
    """Readable features that pushed hardest towards `label`: words first, then character runs."""
    positive = model.strongest(scores, label)
    words = [name[len(WORD_PREFIX) :] for name in positive if name.startswith(WORD_PREFIX)]
    # Digits were folded to "0" and one Latin letter says nothing: neither makes a readable cue.
    cues = [word for word in words if "0" not in word and not (word.isascii() and len(word) < 2)]
    cues = cues[:MAX_CUES]
    for name in positive:
        if len(cues) >= MAX_CUES:
            break
        readable = len(name) > 1 and name.isalpha() and not name.isascii()
        if readable and not any(name in cue or cue in name for cue in cues):
            cues.append(name)
    return cues


def classify(text: str) -> Classification:
    """Classify one resident message; pure and deterministic."""
    normalized = normalize(text)
    urgency = detect_urgency(normalized)
    acknowledged = acknowledgement(normalized)
    if acknowledged is not None and urgency is None:
        return Classification(
            Label.NONE, _ACKNOWLEDGEMENT_CONFIDENCE, Label.INQUIRY, False, (acknowledged,)
        )
    model = default_model()
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
    cues = _cues(model, scores, label)
    if urgency is not None:
        cues = list(dict.fromkeys([*urgency.evidence, *cues]))
    urgent = urgency is not None
    return Classification(label, round(confidence, 4), runner_up, urgent, tuple(cues[:MAX_CUES]))
