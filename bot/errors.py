"""Errors raised for users; the pipeline turns them into a friendly Chinese reply.

The domain holds no user-facing text (STYLE.md §3). An error names what went wrong with a
stable English `key` and the `params` its wording needs, e.g.
`raise InvalidInput("vote.option_out_of_range", number=12, count=3)`, and
`handlers/texts/errors.py` words every key (`render(error)`). Keep keys literal strings at the
raise site: a test collects them from the source and checks each has a template.

Handlers already hold their texts (`handlers/texts/`), so they raise a ready text instead:
`raise InvalidInput.literal(texts.USAGE_RESOLVE)`. That is the only other way to build one,
and the domain never uses it.
"""

from __future__ import annotations

from typing import Self

LITERAL = "literal"
"""The key of an error built by `literal`; its reply is `text`."""


class UserError(Exception):
    """A problem the user can fix or should know about, named by `key` and worded by `render`."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = params
        self.text: str | None = None

    @classmethod
    def literal(cls, text: str) -> Self:
        """An error whose reply is `text`, already worded in `handlers/texts/`."""
        error = cls(LITERAL)
        error.text = text
        return error

    def __str__(self) -> str:
        if self.text is not None:
            return self.text
        params = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.key} ({params})" if params else self.key


class NotFound(UserError):
    """The ticket, vote or reminder asked for does not exist (or is not visible to the user)."""


class NotAllowed(UserError):
    """The user's role does not allow this action here."""


class InvalidInput(UserError):
    """The command or reply could not be understood."""


class Conflict(UserError):
    """The action clashes with the current state (already resolved, vote closed, ...)."""
