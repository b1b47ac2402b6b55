"""Outbox rows remember whose message a group reply answers, so WeChat can @mention them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add outbox.reply_to_user_id (NULL for every existing row)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reply_to_user_id", sa.String(128)))


def downgrade() -> None:
    """Drop what the upgrade added."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reply_to_user_id")
