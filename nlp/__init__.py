"""Linli's language tools: normalise text, classify requests, flag urgency, parse locations.

Everything here is pure and synchronous; call `warm_up()` once (off the event loop) at start-up.
"""

from __future__ import annotations

from nlp.intents import Classification, classify, warm_up
from nlp.labels import REQUEST_LABELS, Label
from nlp.locations import Location, parse_location
from nlp.text import normalize
from nlp.urgency import Urgency, detect_urgency, is_urgent

__all__ = [
    "REQUEST_LABELS",
    "Classification",
    "Label",
    "Location",
    "Urgency",
    "classify",
    "detect_urgency",
    "is_urgent",
    "normalize",
    "parse_location",
    "warm_up",
]
