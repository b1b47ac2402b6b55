"""Errors the domain raises for users; the pipeline turns them into a friendly Chinese reply."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix or should know about; `message` is shown to them verbatim."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    """The ticket, vote or reminder asked for does not exist (or is not visible to the user)."""


class NotAllowed(UserError):
    """The user's role does not allow this action here."""


class InvalidInput(UserError):
    """The command or reply could not be understood."""


class Conflict(UserError):
    """The action clashes with the current state (already resolved, vote closed, ...)."""
