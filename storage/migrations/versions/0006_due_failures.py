"""Due actions count their failures, so one that keeps failing is dropped, not retried forever.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ticket_due.failures (0 for every existing action)."""
    with op.batch_alter_table("ticket_due") as batch:
        batch.add_column(sa.Column("failures", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop what the upgrade added."""
    with op.batch_alter_table("ticket_due") as batch:
        batch.drop_column("failures")
