"""Every table, declared once (SQLAlchemy Core); migrations in storage/migrations/ build them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime from database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per platform message seen: the durable dedupe record, written before any side effect.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("message_id", String(160), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("platform", "chat_id", "message_id", name="uq_inbox_message"),
)

# Everything Linli sends, written in the same transaction as the change that caused it.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("is_group", Boolean, nullable=False),
    Column("group_id", String(64)),
    Column("person_id", String(128)),
    Column("text", Text, nullable=False),
    Column("reply_to_id", String(160)),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("image", String(512)),
    Column("buttons", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("not_before_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("failed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
)
Index("ix_outbox_pending", outbox.c.sent_at, outbox.c.failed_at, outbox.c.not_before_at)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("request_type", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("location", String(64)),
    Column("cues", String(256), nullable=False, default=""),
    Column("confidence", Float, nullable=False, default=0.0),
    Column("reporter_id", String(128), nullable=False),
    Column("reporter_name", String(128), nullable=False, default=""),
    Column("group_id", String(64)),
    Column("node", String(64), nullable=False),
    Column("assignees", String(512), nullable=False, default=""),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("message_id", String(160), nullable=False),
    Column("image", String(512)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("respond_by_at", UtcDateTime, nullable=False),
    Column("resolve_by_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
)
Index("ix_tickets_node_state", tickets.c.node, tickets.c.state)
Index("ix_tickets_source", tickets.c.platform, tickets.c.chat_id, tickets.c.message_id)

# Append-only history of a ticket: every transition with who, when and a note.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("actor_id", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
)

# Groups bound at run time by `/bind` (config bindings live in the config file).
group_bindings = Table(
    "group_bindings",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(128), primary_key=True),
    Column("group_id", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("bound_by", String(128), nullable=False),
    Column("bound_at", UtcDateTime, nullable=False),
)

# Multi-step flows (STYLE E8): one named state with slots per user in a chat, with an expiry.
conversations = Table(
    "conversations",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(128), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("slots", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
