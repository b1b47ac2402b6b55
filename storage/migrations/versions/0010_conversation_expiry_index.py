"""An index for deleting expired flows: conversations by expiry.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ix_conversations_expires_at (expires_at)."""
    op.create_index("ix_conversations_expires_at", "conversations", ["expires_at"])


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_index("ix_conversations_expires_at", table_name="conversations")
