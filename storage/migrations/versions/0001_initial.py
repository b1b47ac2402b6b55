"""Initial schema: inbox, outbox, tickets with their history, group bindings, conversations.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first tables."""
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(160), nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "message_id", name="uq_inbox_message"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("is_group", sa.Boolean, nullable=False),
        sa.Column("group_id", sa.String(64)),
        sa.Column("person_id", sa.String(128)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reply_to_id", sa.String(160)),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("image", sa.String(512)),
        sa.Column("buttons", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("not_before_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("failed_at", UtcDateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "failed_at", "not_before_at"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("request_type", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("location", sa.String(64)),
        sa.Column("cues", sa.String(256), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("reporter_id", sa.String(128), nullable=False),
        sa.Column("reporter_name", sa.String(128), nullable=False),
        sa.Column("group_id", sa.String(64)),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("assignees", sa.String(512), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(160), nullable=False),
        sa.Column("image", sa.String(512)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("respond_by_at", UtcDateTime, nullable=False),
        sa.Column("resolve_by_at", UtcDateTime, nullable=False),
        sa.Column("accepted_at", UtcDateTime),
        sa.Column("resolved_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
    )
    op.create_index("ix_tickets_node_state", "tickets", ["node", "state"])
    op.create_index("ix_tickets_source", "tickets", ["platform", "chat_id", "message_id"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])
    op.create_table(
        "group_bindings",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(128), primary_key=True),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("bound_by", sa.String(128), nullable=False),
        sa.Column("bound_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("chat_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("slots", sa.Text, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop everything the upgrade created."""
    for table in ("conversations", "group_bindings", "ticket_events", "tickets", "outbox", "inbox"):
        op.drop_table(table)
