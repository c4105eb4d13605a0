"""Tables. Changes here need an Alembic migration in store/migrations/versions/."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sources = Table(
    "sources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("authority", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("jurisdiction", String(16), nullable=False, default="CN"),
    Column("decl", JSON, nullable=False),
    Column("health", String(16), nullable=False, default="unknown"),
    Column("health_reason", Text, nullable=False, default=""),
    Column("last_attempt", UTCDateTime()),
    Column("last_success", UTCDateTime()),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("baselined", Boolean, nullable=False, default=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime()),
)

crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False, index=True),
    # running → fetched → tracked; or failed / aborted. Indexed for the few unfinished runs
    # that each crawl and health check looks for among a history of finished ones.
    Column("status", String(16), nullable=False, index=True),
    Column("trigger", String(16), nullable=False, default="cli"),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("pages", Integer, nullable=False, default=0),
    Column("health", String(16)),
    Column("message", Text, nullable=False, default=""),
    Column("stats", JSON, nullable=False, default=dict),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("crawl_runs.id"), nullable=False, index=True),
    Column("source_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", Integer, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("sha256", String(64), ForeignKey("blobs.sha256")),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("error", Text),
    Column("listing_title", Text),
    Column("listing_date", String(10)),
    Column("parent_url", Text),  # for an attachment: the notice page that links to it
    Index("ix_snapshots_source_url", "source_id", "url"),
)

# The newest 200 fetch with a body of each URL: the validators (ETag, Last-Modified) that the
# next crawl's conditional requests carry, and the body a 304 stands for. Derived from the
# Snapshots (migration 0004 builds it from them) and written beside them, in the same
# transaction: planning a crawl then reads one row per page, not the source's whole history.
newest_fetches = Table(
    "newest_fetches",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("url", Text, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
)

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("state", String(16), nullable=False, default="active"),
    Column("missing_count", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("last_sha256", String(64)),
    UniqueConstraint("source_id", "url", name="uq_notices_source_url"),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("notices.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("published", String(10)),
    Column("body", Text, nullable=False),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("notice_id", "seq", name="uq_versions_notice_seq"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("notices.id"), nullable=False, index=True),
    Column("run_id", Integer, ForeignKey("crawl_runs.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("old_version_id", Integer, ForeignKey("versions.id")),
    Column("new_version_id", Integer, ForeignKey("versions.id")),
    Column("diff", Text, nullable=False, default=""),
    Column("baseline", Boolean, nullable=False, default=False),
    Column("technical", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_id", Integer, ForeignKey("changes.id"), nullable=False, unique=True),
    Column("category", String(32), nullable=False, index=True),
    Column("secondary", JSON, nullable=False, default=list),
    Column("severity", String(4), nullable=False),
    Column("flows", JSON, nullable=False, default=list),
    Column("dates", JSON, nullable=False, default=dict),
    Column("hits", JSON, nullable=False, default=list),
    Column("confidence", Float, nullable=False),
    # pending | approved | dismissed | history (baseline, not for review) | technical
    Column("status", String(16), nullable=False, index=True),
    Column("fingerprint", String(64), nullable=False),
    Column("deferred_until", UTCDateTime()),
    Column("action_text", Text),  # an officer's corrected merchant action, else the default
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_findings_status_severity_id", "status", "severity", "id"),
)

merchants = Table(
    "merchants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("acquirers", JSON, nullable=False, default=list),
    Column("flows", JSON, nullable=False, default=list),
    Column("channels", JSON, nullable=False, default=list),
    Column("region", String(16), nullable=False, default="CN"),
    Column("webhooks", JSON, nullable=False, default=list),  # apprise URLs
    Column("send_empty", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", Integer, ForeignKey("findings.id"), nullable=False, index=True),
    Column("decision", String(16), nullable=False),  # approve | dismiss | correct | defer
    Column("reviewer", String(64), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("corrections", JSON, nullable=False, default=dict),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(64), ForeignKey("merchants.id"), nullable=False),
    Column("period", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("finding_ids", JSON, nullable=False, default=list),
    Column("state", String(16), nullable=False, default="rendered"),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("merchant_id", "period", name="uq_digests_merchant_period"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # admin | officer | viewer
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # digest | alert | operator
    Column("channel", String(16), nullable=False),  # email | webhook
    Column("recipient", Text, nullable=False),
    Column("merchant_id", String(64), ForeignKey("merchants.id")),
    Column("period", String(32), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("body_text", Text, nullable=False, default=""),
    Column("body_html", Text, nullable=False, default=""),
    Column("attachments", JSON, nullable=False, default=list),
    Column("content_hash", String(64), nullable=False),
    # the same key is never delivered twice: Message-ID for mail, idempotency key for webhooks
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("state", String(16), nullable=False, index=True),  # pending|sending|sent|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    # each tracked run asks for its source's newest operator alert: found among the operator
    # rows, not by walking back through every digest ever queued
    Index("ix_outbox_kind_id", "kind", "id"),
)

digest_entries = Table(
    "digest_entries",
    metadata,
    Column("merchant_id", String(64), ForeignKey("merchants.id"), primary_key=True),
    Column("finding_id", Integer, ForeignKey("findings.id"), primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
)
