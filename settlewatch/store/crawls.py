"""Sources, leases, crawl runs and Snapshots in the store."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, update

from settlewatch.errors import LockedError
from settlewatch.models import Fetch, SourceDecl, decl_to_json
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import blobs, crawl_runs, newest_fetches, snapshots, sources
from settlewatch.store.sql import insert_ignore, upsert_on

DECL_COLUMNS = ("name", "authority", "kind", "jurisdiction", "decl")


def sync_sources(conn: Connection, decls: Iterable[SourceDecl]) -> None:
    """Record the declarations the crawl uses, keeping health and lease columns."""
    rows = [
        {
            "id": d.id,
            "name": d.name,
            "authority": d.authority,
            "kind": d.kind,
            "jurisdiction": d.jurisdiction,
            "decl": decl_to_json(d),
        }
        for d in decls
    ]
    existing = set(
        conn.scalars(select(sources.c.id).where(sources.c.id.in_([r["id"] for r in rows])))
    )
    known = [{f"b_{k}": v for k, v in r.items()} for r in rows if r["id"] in existing]
    if known:  # one statement, many parameter sets
        conn.execute(
            update(sources)
            .where(sources.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}", type_=sources.c[c].type) for c in DECL_COLUMNS}),
            known,
        )
    new = [
        {**r, "health": "unknown", "health_reason": "", "consecutive_failures": 0}
        | {"baselined": False}
        for r in rows
        if r["id"] not in existing
    ]
    if new:
        conn.execute(sources.insert(), new)


def acquire_leases(
    engine: Engine, source_ids: list[str], owner: str, seconds: int
) -> dict[str, str]:
    """Take the per-source crawl lease of each source that is free (or already ``owner``'s),
    in one transaction. Returns the sources refused: id → who holds the lease, until when."""
    now = utcnow()
    with begin_write(engine) as conn:
        conn.execute(
            update(sources)
            .where(sources.c.id.in_(source_ids))
            .where(
                or_(
                    sources.c.lease_until.is_(None),
                    sources.c.lease_until < now,
                    sources.c.lease_owner == owner,
                )
            )
            .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=seconds))
        )
        rows = conn.execute(
            select(sources.c.id, sources.c.lease_owner, sources.c.lease_until).where(
                sources.c.id.in_(source_ids)
            )
        ).all()
    return {
        row.id: (
            f"source '{row.id}' is already being crawled by {row.lease_owner} "
            f"(lease until {row.lease_until:%Y-%m-%d %H:%M:%S} UTC); try again when it finishes"
        )
        for row in rows
        if row.lease_owner != owner
    }


def acquire_lease(engine: Engine, source_id: str, owner: str, seconds: int) -> None:
    """Take the per-source crawl lease, or raise LockedError naming the holder."""
    refused = acquire_leases(engine, [source_id], owner, seconds)
    if refused:
        raise LockedError(refused[source_id])


def renew_leases(engine: Engine, source_ids: list[str], owner: str, seconds: int) -> None:
    with begin_write(engine) as conn:
        conn.execute(
            update(sources)
            .where(and_(sources.c.id.in_(source_ids), sources.c.lease_owner == owner))
            .values(lease_until=utcnow() + dt.timedelta(seconds=seconds))
        )


def release_leases(engine: Engine, source_ids: list[str], owner: str) -> None:
    with begin_write(engine) as conn:
        conn.execute(
            update(sources)
            .where(and_(sources.c.id.in_(source_ids), sources.c.lease_owner == owner))
            .values(lease_owner=None, lease_until=None)
        )


def create_run(conn: Connection, source_id: str, trigger: str) -> int:
    # A run left 'running' by a killed crawl can never finish: close it first.
    conn.execute(
        update(crawl_runs)
        .where(and_(crawl_runs.c.source_id == source_id, crawl_runs.c.status == "running"))
        .values(
            status="aborted",
            finished_at=utcnow(),
            message="crawl process ended before the run finished",
        )
    )
    res = conn.execute(
        crawl_runs.insert().values(
            source_id=source_id,
            status="running",
            trigger=trigger,
            started_at=utcnow(),
            pages=0,
            message="",
            stats={},
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def save_fetches(
    conn: Connection, run_id: int, fetches: list[Fetch], reused_sha: dict[str, str] | None = None
) -> None:
    """Store Snapshots: the body once per content hash, and one row per fetch. A 200 with a
    body also becomes its URL's newest fetch, whose validators the next crawl sends."""
    reused_sha = reused_sha or {}
    blob_rows: dict[str, dict[str, Any]] = {}
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    snap_rows = []
    for f in fetches:
        digest = None
        if f.body:
            digest = sha256(f.body)
            blob_rows.setdefault(digest, {"sha256": digest, "size": len(f.body), "content": f.body})
            if f.status == 200:
                newest[(f.source_id, f.url)] = _newest_row(f, digest)
        elif f.status == 304:
            digest = reused_sha.get(f.url)
        snap_rows.append(
            {
                "run_id": run_id,
                "source_id": f.source_id,
                "url": f.url,
                "role": f.role,
                "status": f.status,
                "headers": f.headers,
                "sha256": digest,
                "fetched_at": f.fetched_at,
                "error": f.error,
                "listing_title": f.listing_title,
                "listing_date": f.listing_date,
                "parent_url": f.parent_url,
            }
        )
    insert_ignore(conn, blobs, list(blob_rows.values()))
    if snap_rows:
        conn.execute(snapshots.insert(), snap_rows)
    upsert_on(conn, newest_fetches, list(newest.values()), ("source_id", "url"))


def _newest_row(f: Fetch, digest: str) -> dict[str, Any]:
    h = {k.lower(): v for k, v in f.headers.items()}
    return {
        "source_id": f.source_id,
        "url": f.url,
        "role": f.role,
        "sha256": digest,
        "etag": h.get("etag"),
        "last_modified": h.get("last-modified"),
    }


def finish_fetch(conn: Connection, run_id: int, stats: dict[str, Any]) -> None:
    pages = (
        conn.scalar(select(func.count()).select_from(snapshots).where(snapshots.c.run_id == run_id))
        or 0
    )
    conn.execute(
        update(crawl_runs)
        .where(crawl_runs.c.id == run_id)
        .where(crawl_runs.c.status == "running")
        .values(status="fetched", pages=pages, stats=stats)
    )


Prior = dict[str, tuple[str | None, str | None, str, str]]


def prior_fetches(conn: Connection, source_id: str) -> Prior:
    """url → (ETag, Last-Modified, sha256, role) of the newest stored 200 fetch.

    The crawler sends conditional requests from it, and re-reads a listing that answers 304.
    One row per URL the source ever answered with a body, however long its history.
    """
    rows = conn.execute(
        select(
            newest_fetches.c.url,
            newest_fetches.c.etag,
            newest_fetches.c.last_modified,
            newest_fetches.c.sha256,
            newest_fetches.c.role,
        ).where(newest_fetches.c.source_id == source_id)
    )
    return {url: (etag, modified, digest, role) for url, etag, modified, digest, role in rows}


_BLOB = select(blobs.c.content).where(blobs.c.sha256 == bindparam("_sha"))


def blob(conn: Connection, digest: str) -> bytes:
    return bytes(conn.scalar(_BLOB, {"_sha": digest}) or b"")
