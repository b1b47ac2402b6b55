"""An index for duplicate detection: active tickets of one type at some nodes since a time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ix_tickets_duplicates (request_type, node, state, created_at)."""
    op.create_index(
        "ix_tickets_duplicates", "tickets", ["request_type", "node", "state", "created_at"]
    )


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_index("ix_tickets_duplicates", table_name="tickets")
