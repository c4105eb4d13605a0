"""Read models: the joined rows that the CLI, digests and the web app show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import aliased

from settlewatch.store.schema import changes, crawl_runs, findings, notices, sources, versions

new_v = aliased(versions)
old_v = aliased(versions)


def change_rows_query() -> Select[Any]:
    """Every change with its notice, newest Version title, source and Finding."""
    return (
        select(
            changes.c.id,
            changes.c.kind,
            changes.c.baseline,
            changes.c.technical,
            changes.c.created_at,
            changes.c.diff,
            changes.c.run_id,
            notices.c.source_id,
            notices.c.url,
            new_v.c.title.label("new_title"),
            old_v.c.title.label("old_title"),
            new_v.c.published.label("published"),
            new_v.c.body.label("body"),
            findings.c.id.label("finding_id"),
            findings.c.category,
            findings.c.severity,
            findings.c.flows,
            findings.c.dates,
            findings.c.status,
            findings.c.hits,
            findings.c.confidence,
            findings.c.secondary,
            sources.c.name.label("source_name"),
            sources.c.authority,
            sources.c.kind.label("source_kind"),
            sources.c.jurisdiction,
        )
        .join(notices, notices.c.id == changes.c.notice_id)
        .join(sources, sources.c.id == notices.c.source_id)
        .outerjoin(new_v, new_v.c.id == changes.c.new_version_id)
        .outerjoin(old_v, old_v.c.id == changes.c.old_version_id)
        .outerjoin(findings, findings.c.change_id == changes.c.id)
        .order_by(changes.c.id)
    )


def list_changes(
    conn: Connection,
    *,
    source: str | None = None,
    kind: str | None = None,
    run_id: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    q = change_rows_query()
    if source:
        q = q.where(notices.c.source_id == source)
    if kind:
        q = q.where(changes.c.kind == kind)
    if run_id is not None:
        q = q.where(changes.c.run_id == run_id)
    if limit is not None:
        q = q.limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def change_json(row: dict[str, Any]) -> dict[str, Any]:
    """The `changes list --json` contract: keep these keys stable."""
    return {
        "id": row["id"],
        "source": row["source_id"],
        "url": row["url"],
        "kind": row["kind"],
        "title": row["new_title"] or row["old_title"] or "",
        "category": row["category"],
        "severity": row["severity"],
        "flows": list(row["flows"] or []),
        "dates": {
            k: v.get("value") if isinstance(v, dict) else v for k, v in (row["dates"] or {}).items()
        },
        "status": row["status"],
        "baseline": bool(row["baseline"]),
        "technical": bool(row["technical"]),
        "published": row["published"],
        "detected_at": row["created_at"].isoformat() if row["created_at"] else None,
    }


def source_rows(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(sources).order_by(sources.c.id))]


def recent_runs(conn: Connection, source_ids: list[str], n: int) -> dict[str, list[dict[str, Any]]]:
    """Each source's ``n`` newest crawl runs, newest first: one indexed read per source, so a
    store with years of runs answers as fast as a new one."""
    out: dict[str, list[dict[str, Any]]] = {}
    for sid in source_ids:
        rows = conn.execute(
            select(crawl_runs)
            .where(crawl_runs.c.source_id == sid)
            .order_by(crawl_runs.c.id.desc())
            .limit(n)
        )
        out[sid] = [dict(r._mapping) for r in rows]
    return out
