"""Outbox rows remember how many parts of a long message went out before a send failed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add outbox.parts_sent (0 for every existing row)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("parts_sent", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop what the upgrade added."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parts_sent")
