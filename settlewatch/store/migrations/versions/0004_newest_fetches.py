"""newest_fetches (validators per URL), indexes on crawl_runs.status and outbox (kind, id)

Planning a crawl read the newest 200 fetch of each URL out of the whole Snapshot history, and
tracking looked for a source's last operator alert by walking back through the outbox: both
grew with every crawl and every digest. The table is filled from the Snapshots here.

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    table = op.create_table(
        "newest_fetches",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blobs.sha256"], name=op.f("fk_newest_fetches_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("source_id", "url", name=op.f("pk_newest_fetches")),
    )
    op.create_index(op.f("ix_crawl_runs_status"), "crawl_runs", ["status"], unique=False)
    op.create_index("ix_outbox_kind_id", "outbox", ["kind", "id"], unique=False)
    _fill(op.get_bind(), table)


def _fill(conn: sa.Connection, table: sa.Table) -> None:
    """Every URL's newest 200 Snapshot with a body, as the crawler used to compute it."""
    snaps = sa.table(
        "snapshots",
        sa.column("id", sa.Integer),
        sa.column("source_id", sa.String),
        sa.column("url", sa.Text),
        sa.column("role", sa.String),
        sa.column("status", sa.Integer),
        sa.column("headers", sa.JSON),
        sa.column("sha256", sa.String),
    )
    newest = (
        sa.select(sa.func.max(snaps.c.id).label("id"))
        .where(snaps.c.status == 200, snaps.c.sha256.is_not(None))
        .group_by(snaps.c.source_id, snaps.c.url)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            snaps.c.source_id, snaps.c.url, snaps.c.role, snaps.c.sha256, snaps.c.headers
        ).join(newest, newest.c.id == snaps.c.id)
    ).all()  # one row per URL: read before writing on the same connection
    batch: list[dict[str, Any]] = []
    for source_id, url, role, digest, headers in rows:
        h = {str(k).lower(): v for k, v in (headers or {}).items()}
        batch.append(
            {
                "source_id": source_id,
                "url": url,
                "role": role,
                "sha256": digest,
                "etag": h.get("etag"),
                "last_modified": h.get("last-modified"),
            }
        )
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def downgrade() -> None:
    op.drop_index("ix_outbox_kind_id", table_name="outbox")
    op.drop_index(op.f("ix_crawl_runs_status"), table_name="crawl_runs")
    op.drop_table("newest_fetches")
