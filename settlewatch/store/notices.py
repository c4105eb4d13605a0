"""Notices, Versions, Changes and Findings in the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from settlewatch.models import Extracted, Finding
from settlewatch.store.schema import changes, findings, notices, reviews, versions

# Tracking runs these once per notice. Built once and executed with parameters, a statement
# costs ~80 µs on SQLite instead of ~400 µs for building it anew (.values(...)) on every call.
_UPDATE_NOTICE = update(notices).where(notices.c.id == bindparam("_id"))
_LATEST_VERSION = (
    select(versions)
    .where(versions.c.notice_id == bindparam("_notice"))
    .order_by(versions.c.seq.desc())
    .limit(1)
)


@dataclass(frozen=True)
class NoticeRef:
    """What tracking reads of a notice row it has just created."""

    id: int
    state: str
    last_sha256: str | None
    missing_count: int


def create_notice(
    conn: Connection, source_id: str, url: str, now: dt.datetime, last_sha256: str | None = None
) -> int:
    res = conn.execute(
        notices.insert(),
        {
            "source_id": source_id,
            "url": url,
            "state": "active",
            "missing_count": 0,
            "first_seen": now,
            "last_seen": now,
            "last_sha256": last_sha256,
        },
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def notices_by_url(conn: Connection, source_id: str) -> dict[str, Row[Any]]:
    return {r.url: r for r in conn.execute(select(notices).where(notices.c.source_id == source_id))}


def update_notice(conn: Connection, notice_id: int, **values: Any) -> None:
    conn.execute(_UPDATE_NOTICE, {"_id": notice_id, **values})


def mark_seen(conn: Connection, notice_ids: list[int], now: dt.datetime) -> None:
    """Notices whose page answered 304: still there, as they were."""
    for i in range(0, len(notice_ids), 500):
        conn.execute(
            update(notices)
            .where(notices.c.id.in_(notice_ids[i : i + 500]))
            .values(last_seen=now, missing_count=0)
        )


def latest_version(conn: Connection, notice_id: int) -> Row[Any] | None:
    return conn.execute(_LATEST_VERSION, {"_notice": notice_id}).first()


def text_hash(extracted: Extracted) -> str:
    return hashlib.sha256(extracted.normalised().encode("utf-8")).hexdigest()


def add_version(
    conn: Connection,
    notice_id: int,
    seq: int,
    extracted: Extracted,
    snapshot_id: int | None,
    now: dt.datetime,
) -> int:
    res = conn.execute(
        versions.insert(),
        {
            "notice_id": notice_id,
            "seq": seq,
            "text_hash": text_hash(extracted),
            "title": extracted.title,
            "published": extracted.published.isoformat() if extracted.published else None,
            "body": extracted.body,
            "snapshot_id": snapshot_id,
            "created_at": now,
        },
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def add_change(conn: Connection, **values: Any) -> int:
    res = conn.execute(changes.insert(), values)
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def finding_fingerprint(change_id: int, old_hash: str | None, new_hash: str | None) -> str:
    """The evidence a review is bound to: which texts the finding was read from."""
    raw = f"{change_id}:{old_hash or '-'}:{new_hash or '-'}"
    return hashlib.sha256(raw.encode()).hexdigest()


def finding_to_row(finding: Finding) -> dict[str, Any]:
    return {
        "category": finding.category,
        "secondary": list(finding.secondary),
        "severity": finding.severity,
        "flows": list(finding.flows),
        "dates": {k: dataclasses.asdict(v) for k, v in finding.dates.items()},
        "hits": [
            {
                "rule": h.rule_id,
                "category": h.category,
                "weight": h.weight,
                "field": h.span.field,
                "start": h.span.start,
                "end": h.span.end,
                "text": h.span.text,
            }
            for h in finding.hits
        ],
        "confidence": finding.confidence,
    }


def add_finding(
    conn: Connection,
    change_id: int,
    finding: Finding,
    status: str,
    fingerprint: str,
    now: dt.datetime,
) -> int:
    res = conn.execute(
        findings.insert(),
        {
            "change_id": change_id,
            "status": status,
            "fingerprint": fingerprint,
            "created_at": now,
            **finding_to_row(finding),
        },
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def add_review(
    conn: Connection,
    finding_id: int,
    decision: str,
    reviewer: str,
    reason: str,
    fingerprint: str,
    now: dt.datetime,
    corrections: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        reviews.insert(),
        {
            "finding_id": finding_id,
            "decision": decision,
            "reviewer": reviewer,
            "reason": reason,
            "corrections": corrections or {},
            "fingerprint": fingerprint,
            "created_at": now,
        },
    )
