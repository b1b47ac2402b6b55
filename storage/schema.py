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
Index("ix_inbox_received_at", inbox.c.received_at)

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
    # In a group, whose message the reply answers (WeChat @mentions them).
    Column("reply_to_user_id", String(128)),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("image", String(512)),
    Column("buttons", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("not_before_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("failed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    # Parts (picture, text pieces) delivered by failed attempts: a retry sends the rest only.
    Column("parts_sent", Integer, nullable=False, server_default="0"),
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
    # 0004 (ticket loop): how to reach the reporter again, merges, referrals, escalation.
    Column("reporter_user_id", String(128), nullable=False, server_default=""),
    Column("merged_into", Integer),
    Column("referred_to", String(128)),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
)
Index("ix_tickets_node_state", tickets.c.node, tickets.c.state)
Index("ix_tickets_merged_into", tickets.c.merged_into)
# Duplicate search and the rates read tickets of some nodes opened in a span of time.
Index("ix_tickets_node_created", tickets.c.node, tickets.c.created_at)
Index("ix_tickets_source", tickets.c.platform, tickets.c.chat_id, tickets.c.message_id)
# 0008: every new request looks for an active ticket of its type at related nodes
# (storage/tickets.py _DUPLICATE_CANDIDATES): visit only those rows.
Index(
    "ix_tickets_duplicates",
    tickets.c.request_type,
    tickets.c.node,
    tickets.c.state,
    tickets.c.created_at,
)

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

# Follow-up questions (回访) to each reporter of a resolved ticket, and their answers.
ticket_followups = Table(
    "ticket_followups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("person_id", String(128), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("is_group", Boolean, nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("rating", String(24)),
    Column("rated_at", UtcDateTime),
    Column("expired_at", UtcDateTime),
)
Index("ix_ticket_followups_person", ticket_followups.c.person_id, ticket_followups.c.rating)

# Reminders, escalations and unrated closures of tickets: due once, marked done when done.
ticket_due = Table(
    "ticket_due",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("level", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    # Failed attempts so far: a failing action is tried again later, up to a limit.
    Column("failures", Integer, nullable=False, server_default="0"),
)
Index("ix_ticket_due_pending", ticket_due.c.done_at, ticket_due.c.due_at)

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
# 0009: every batch of messages reads the flows of its senders by user; 0010: starting a flow
# deletes the expired ones (SqlConversationRepository)
Index("ix_conversations_user", conversations.c.user_id)
Index("ix_conversations_expires_at", conversations.c.expires_at)

# Every scheduled send (visitor-day reminder, reminder occurrence, digest) by a deterministic key,
# written in the same transaction as its outbox rows: the key makes it happen exactly once.
scheduled_sends = Table(
    "scheduled_sends",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
)

# Reminders set by /remind: the row is the schedule (next_at), so nothing lives in memory.
reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("creator_id", String(128), nullable=False),
    Column("creator_name", String(128), nullable=False),
    Column("group_id", String(64)),
    Column("recurrence_kind", String(16)),
    Column("recurrence_day", Integer, nullable=False, default=0),
    Column("recurrence_time", String(5)),
    Column("next_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime),
)
Index("ix_reminders_next_at", reminders.c.next_at)

# Who receives visitors on a visitor day, set in chat with /duty (overrides the config roster).
visitor_duty = Table(
    "visitor_duty",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("names", Text, nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
)

# 0002 (votes): owners' registers in versions, so a decision is counted against the register
# it opened with; votes with their chain head; one current ballot per voter; the audit chain.
owner_registers = Table(
    "owner_registers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("source", String(512), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
)
Index("ix_owner_registers_scope", owner_registers.c.scope, owner_registers.c.id)

owner_units = Table(
    "owner_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("register_id", Integer, ForeignKey("owner_registers.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("room", String(64), nullable=False),
    # Decimal text ("89.50"): exact, and SQLite has no decimal type.
    Column("area", String(24), nullable=False),
    Column("owner_name", String(128), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("owner_key", String(64), nullable=False),
    Column("telegram_user_ids", String(512), nullable=False),
    Column("wechat_ids", String(1024), nullable=False),
    Column("developer_unsold", Boolean, nullable=False),
    UniqueConstraint("register_id", "position", name="uq_owner_units_position"),
)

# Platform ids of a register version -> owner key, for finding a voter's owner in one query.
owner_accounts = Table(
    "owner_accounts",
    metadata,
    Column("register_id", Integer, ForeignKey("owner_registers.id"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("owner_key", String(64), nullable=False),
)

votes = Table(
    "votes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("title", String(256), nullable=False),
    Column("options", Text, nullable=False),
    Column("matter", String(32)),
    Column("group_id", String(64), nullable=False),
    Column("node", String(64), nullable=False),
    Column("starter_id", String(128), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("register_id", Integer, ForeignKey("owner_registers.id")),
    Column("head_hash", String(64), nullable=False),
    Column("ended_at", UtcDateTime),
    Column("result", Text),
)
Index("ix_votes_state_closes", votes.c.state, votes.c.closes_at)
Index("ix_votes_group_state", votes.c.group_id, votes.c.state)

vote_ballots = Table(
    "vote_ballots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("vote_id", Integer, ForeignKey("votes.id"), nullable=False),
    Column("voter", String(128), nullable=False),
    Column("choice", Integer, nullable=False),
    Column("cast_at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("room", String(64)),
    UniqueConstraint("vote_id", "voter", name="uq_vote_ballots_voter"),
)

# Append-only and hash-chained (bot/domain/audit.py): nothing ever updates or deletes a row.
vote_audit = Table(
    "vote_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("vote_id", Integer, ForeignKey("votes.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("voter", String(128)),
    Column("choice", Integer),
    Column("note", Text, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("vote_id", "seq", name="uq_vote_audit_seq"),
)

# One row per decision and local day on which its non-voters were reminded: at most one a day.
vote_reminders = Table(
    "vote_reminders",
    metadata,
    Column("vote_id", Integer, ForeignKey("votes.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("owners", Integer, nullable=False),
)

# 0005 (tags): tags set or taken back by /tag and /untag, on top of the config's `tags`.
tag_overrides = Table(
    "tag_overrides",
    metadata,
    Column("target_kind", String(16), primary_key=True),
    Column("target_id", String(128), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Column("present", Boolean, nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)
