"""The unit of work the domain asks for: one transaction that repositories join."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol


class UnitOfWork(Protocol):
    """The database transaction (storage/db.py `Database`): repositories called inside it join
    it, so everything one action causes commits together or not at all."""

    def transaction(self) -> AbstractAsyncContextManager[object]:
        """One transaction, or the one already open in this task."""
        ...
