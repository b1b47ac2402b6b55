"""Votes: owners' registers (in versions), votes, ballots, the hash-chained audit log, and the
days on which owners were reminded.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the vote tables."""
    op.create_table(
        "owner_registers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("imported_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_owner_registers_scope", "owner_registers", ["scope", "id"])
    op.create_table(
        "owner_units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("owner_registers.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("room", sa.String(64), nullable=False),
        sa.Column("area", sa.String(24), nullable=False),
        sa.Column("owner_name", sa.String(128), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("owner_key", sa.String(64), nullable=False),
        sa.Column("telegram_user_ids", sa.String(512), nullable=False),
        sa.Column("wechat_ids", sa.String(1024), nullable=False),
        sa.Column("developer_unsold", sa.Boolean, nullable=False),
        sa.UniqueConstraint("register_id", "position", name="uq_owner_units_position"),
    )
    op.create_table(
        "owner_accounts",
        sa.Column("register_id", sa.Integer, sa.ForeignKey("owner_registers.id"), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("owner_key", sa.String(64), nullable=False),
    )
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("matter", sa.String(32)),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("starter_id", sa.String(128), nullable=False),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("opens_at", UtcDateTime, nullable=False),
        sa.Column("closes_at", UtcDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("owner_registers.id")),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("ended_at", UtcDateTime),
        sa.Column("result", sa.Text),
    )
    op.create_index("ix_votes_state_closes", "votes", ["state", "closes_at"])
    op.create_index("ix_votes_group_state", "votes", ["group_id", "state"])
    op.create_table(
        "vote_ballots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vote_id", sa.Integer, sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("voter", sa.String(128), nullable=False),
        sa.Column("choice", sa.Integer, nullable=False),
        sa.Column("cast_at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("room", sa.String(64)),
        sa.UniqueConstraint("vote_id", "voter", name="uq_vote_ballots_voter"),
    )
    op.create_table(
        "vote_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vote_id", sa.Integer, sa.ForeignKey("votes.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("voter", sa.String(128)),
        sa.Column("choice", sa.Integer),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("vote_id", "seq", name="uq_vote_audit_seq"),
    )
    op.create_table(
        "vote_reminders",
        sa.Column("vote_id", sa.Integer, sa.ForeignKey("votes.id"), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("sent_at", UtcDateTime, nullable=False),
        sa.Column("owners", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    """Drop the vote tables."""
    op.drop_index("ix_votes_group_state", table_name="votes")
    op.drop_index("ix_votes_state_closes", table_name="votes")
    op.drop_index("ix_owner_registers_scope", table_name="owner_registers")
    for table in (
        "vote_reminders",
        "vote_audit",
        "vote_ballots",
        "votes",
        "owner_accounts",
        "owner_units",
        "owner_registers",
    ):
        op.drop_table(table)
