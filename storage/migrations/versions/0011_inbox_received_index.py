"""An index for forgetting old messages: the inbox by the time a message was received.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ix_inbox_received_at (received_at)."""
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"])


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_index("ix_inbox_received_at", table_name="inbox")
