"""Ticket loop: reporters' reach, merges, referrals, escalation level, follow-ups, due actions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the ticket-loop columns and tables."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("reporter_user_id", sa.String(128), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("merged_into", sa.Integer))
        batch.add_column(sa.Column("referred_to", sa.String(128)))
        batch.add_column(
            sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0")
        )
    op.create_index("ix_tickets_merged_into", "tickets", ["merged_into"])
    op.create_index("ix_tickets_node_created", "tickets", ["node", "created_at"])
    op.create_table(
        "ticket_followups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("person_id", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("is_group", sa.Boolean, nullable=False),
        sa.Column("asked_at", UtcDateTime, nullable=False),
        sa.Column("rating", sa.String(24)),
        sa.Column("rated_at", UtcDateTime),
        sa.Column("expired_at", UtcDateTime),
    )
    op.create_index("ix_ticket_followups_ticket_id", "ticket_followups", ["ticket_id"])
    op.create_index("ix_ticket_followups_person", "ticket_followups", ["person_id", "rating"])
    op.create_table(
        "ticket_due",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("done_at", UtcDateTime),
    )
    op.create_index("ix_ticket_due_ticket_id", "ticket_due", ["ticket_id"])
    op.create_index("ix_ticket_due_pending", "ticket_due", ["done_at", "due_at"])


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_table("ticket_due")
    op.drop_table("ticket_followups")
    op.drop_index("ix_tickets_node_created", "tickets")
    op.drop_index("ix_tickets_merged_into", "tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in ("escalation_level", "referred_to", "merged_into", "reporter_user_id"):
            batch.drop_column(column)
