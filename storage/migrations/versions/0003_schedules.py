"""Schedules: the ledger of scheduled sends, reminders set by command, and the duty roster.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the schedule tables."""
    op.create_table(
        "scheduled_sends",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("done_at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("creator_id", sa.String(128), nullable=False),
        sa.Column("creator_name", sa.String(128), nullable=False),
        sa.Column("group_id", sa.String(64)),
        sa.Column("recurrence_kind", sa.String(16)),
        sa.Column("recurrence_day", sa.Integer, nullable=False),
        sa.Column("recurrence_time", sa.String(5)),
        sa.Column("next_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("cancelled_at", UtcDateTime),
    )
    op.create_index("ix_reminders_next_at", "reminders", ["next_at"])
    op.create_table(
        "visitor_duty",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("names", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop the schedule tables."""
    op.drop_index("ix_reminders_next_at", table_name="reminders")
    for table in ("visitor_duty", "reminders", "scheduled_sends"):
        op.drop_table(table)
