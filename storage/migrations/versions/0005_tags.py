"""Tags: tags set or taken back in chat by /tag and /untag, on top of the config.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tag overrides table."""
    op.create_table(
        "tag_overrides",
        sa.Column("target_kind", sa.String(16), primary_key=True),
        sa.Column("target_id", sa.String(128), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_table("tag_overrides")
