"""The request types the classifier tells apart (shared by scorers, training and evaluation)."""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    """The six request types and `none` (ordinary chat)."""

    REPAIR = "repair"
    COMPLAINT = "complaint"
    INCIDENT = "incident"
    DISPUTE = "dispute"
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"
    NONE = "none"


REQUEST_LABELS: tuple[Label, ...] = tuple(label for label in Label if label is not Label.NONE)
