"""An index for reading the flows of a batch's senders: conversations by user.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ix_conversations_user (user_id)."""
    op.create_index("ix_conversations_user", "conversations", ["user_id"])


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_index("ix_conversations_user", table_name="conversations")
