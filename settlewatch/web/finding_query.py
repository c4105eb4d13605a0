"""The review queue as a query: filters, counts per status, one page of rows.

Built to stay fast with tens of thousands of findings: the ordering (severity, then newest)
follows the findings(status, severity, id) index, only one page of rows is joined to notices
and sources, and the review log is read for that page only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, Text, and_, cast, func, or_, select
from sqlalchemy.orm import aliased

from settlewatch.errors import UsageError
from settlewatch.review import approvers, evidence_fingerprints, histories, needed_approvals
from settlewatch.store.schema import changes, findings, notices, sources, versions
from settlewatch.taxonomy import Taxonomy

STATUSES = ("pending", "deferred", "approved", "dismissed", "history", "technical", "all")
SEVERITIES = ("S4", "S3", "S2", "S1", "S0")
PER_PAGE = 50
new_v = aliased(versions)
old_v = aliased(versions)


@dataclass(frozen=True)
class QueueFilter:
    status: str = "pending"
    category: str = ""
    severity: str = ""
    source: str = ""
    flow: str = ""
    since: dt.date | None = None  # detected on or after
    until: dt.date | None = None  # detected on or before
    page: int = 1
    per_page: int = PER_PAGE

    def args(self) -> dict[str, str]:
        """The query-string form, for links and the API's echo."""
        out = {
            "status": self.status,
            "category": self.category,
            "severity": self.severity,
            "source": self.source,
            "flow": self.flow,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class QueueRow:
    id: int
    change_id: int
    severity: str
    category: str
    status: str
    flows: tuple[str, ...]
    kind: str
    baseline: bool
    title: str
    source_id: str
    source_name: str
    url: str
    created_at: dt.datetime
    deferred_until: dt.datetime | None
    approvals: tuple[str, ...] = ()
    needed: int = 1
    stale: bool = False
    last_decision: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "change_id": self.change_id,
            "severity": self.severity,
            "category": self.category,
            "status": self.status,
            "flows": list(self.flows),
            "kind": self.kind,
            "baseline": self.baseline,
            "title": self.title,
            "source": self.source_id,
            "url": self.url,
            "detected_at": self.created_at.isoformat(),
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "approvals": list(self.approvals),
            "approvals_needed": self.needed,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class QueuePage:
    filter: QueueFilter
    rows: tuple[QueueRow, ...]
    total: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filter.per_page))


def _date(name: str, text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{name}: {text!r} is not a date (fix: use YYYY-MM-DD)") from exc


def parse_filter(args: Mapping[str, str], taxonomy: Taxonomy) -> QueueFilter:
    """Read filters from a query string; a bad value names the field and the fix."""
    status = args.get("status", "pending") or "pending"
    if status not in STATUSES:
        raise UsageError(f"status {status!r} is unknown (fix: one of {', '.join(STATUSES)})")
    category, flow = args.get("category", ""), args.get("flow", "")
    if category and category not in taxonomy.by_id:
        raise UsageError(f"category {category!r} is not in the taxonomy")
    if flow and flow not in {f.id for f in taxonomy.flows}:
        raise UsageError(f"flow {flow!r} is not a known flow")
    severity = args.get("severity", "")
    if severity and severity not in SEVERITIES:
        raise UsageError(f"severity {severity!r} is unknown (fix: one of S0..S4)")
    try:
        page = max(1, int(args.get("page", "1") or 1))
    except ValueError as exc:
        raise UsageError("page must be a whole number") from exc
    return QueueFilter(
        status=status,
        category=category,
        severity=severity,
        source=args.get("source", "").strip(),
        flow=flow,
        since=_date("since", args.get("since", "")),
        until=_date("until", args.get("until", "")),
        page=page,
    )


def _status_clause(status: str, now: dt.datetime) -> Any:
    not_deferred = or_(findings.c.deferred_until.is_(None), findings.c.deferred_until <= now)
    if status == "pending":
        return and_(findings.c.status == "pending", not_deferred)
    if status == "deferred":
        return and_(findings.c.status == "pending", findings.c.deferred_until > now)
    if status == "all":
        return None
    return findings.c.status == status


def _filtered(q: Select[Any], f: QueueFilter, now: dt.datetime) -> Select[Any]:
    clause = _status_clause(f.status, now)
    if clause is not None:
        q = q.where(clause)
    if f.category:
        q = q.where(findings.c.category == f.category)
    if f.severity:
        q = q.where(findings.c.severity == f.severity)
    if f.flow:
        # flows is a JSON list of taxonomy ids (no quotes in them): portable across backends
        q = q.where(cast(findings.c.flows, Text).like(f'%"{f.flow}"%'))
    if f.since:
        q = q.where(findings.c.created_at >= dt.datetime.combine(f.since, dt.time(), dt.UTC))
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        q = q.where(findings.c.created_at < end)
    if f.source:
        q = q.where(
            findings.c.change_id.in_(
                select(changes.c.id)
                .join(notices, notices.c.id == changes.c.notice_id)
                .where(notices.c.source_id == f.source)
            )
        )
    return q


def status_counts(conn: Connection, now: dt.datetime) -> dict[str, int]:
    later = findings.c.deferred_until > now  # one expression: PostgreSQL groups by it as selected
    rows = conn.execute(
        select(findings.c.status, later.label("deferred"), func.count()).group_by(
            findings.c.status, later
        )
    ).all()
    counts = dict.fromkeys(STATUSES[:-1], 0)
    for status, deferred, n in rows:
        key = "deferred" if status == "pending" and deferred else status
        counts[key] = counts.get(key, 0) + n
    counts["all"] = sum(counts.values())
    return counts


def queue_page(
    conn: Connection, f: QueueFilter, now: dt.datetime, *, with_counts: bool = True
) -> QueuePage:
    total = conn.scalar(_filtered(select(func.count()).select_from(findings), f, now)) or 0
    page_ids = _filtered(select(findings.c.id), f, now).order_by(
        findings.c.severity.desc(), findings.c.id.desc()
    )
    page_ids = page_ids.limit(f.per_page).offset((f.page - 1) * f.per_page)
    ids = list(conn.scalars(page_ids))
    rows = _rows(conn, ids)
    counts = status_counts(conn, now) if with_counts else {}
    return QueuePage(f, tuple(rows), total, counts)


def _rows(conn: Connection, ids: list[int]) -> list[QueueRow]:
    if not ids:
        return []
    q = (
        select(
            findings.c.id,
            findings.c.change_id,
            findings.c.severity,
            findings.c.category,
            findings.c.status,
            findings.c.flows,
            findings.c.created_at,
            findings.c.deferred_until,
            changes.c.kind,
            changes.c.baseline,
            func.coalesce(new_v.c.title, old_v.c.title, "").label("title"),
            notices.c.source_id,
            notices.c.url,
            sources.c.name.label("source_name"),
        )
        .join(changes, changes.c.id == findings.c.change_id)
        .join(notices, notices.c.id == changes.c.notice_id)
        .join(sources, sources.c.id == notices.c.source_id)
        .outerjoin(new_v, new_v.c.id == changes.c.new_version_id)
        .outerjoin(old_v, old_v.c.id == changes.c.old_version_id)
        .where(findings.c.id.in_(ids))
    )
    by_id = {r.id: r for r in conn.execute(q)}
    fps = evidence_fingerprints(conn, ids)
    logs = histories(conn, ids)
    out = []
    for i in ids:
        r = by_id[i]
        log = logs[i]
        row = QueueRow(
            id=r.id,
            change_id=r.change_id,
            severity=r.severity,
            category=r.category,
            status=r.status,
            flows=tuple(r.flows or ()),
            kind=r.kind,
            baseline=bool(r.baseline),
            title=r.title,
            source_id=r.source_id,
            source_name=r.source_name,
            url=r.url,
            created_at=r.created_at,
            deferred_until=r.deferred_until,
        )
        out.append(
            replace(
                row,
                approvals=approvers(log, fps[i]),
                needed=needed_approvals(r.severity),
                stale=any(e.decision == "stale" for e in log[-1:]),
                last_decision=log[-1].decision if log else "",
            )
        )
    return out
