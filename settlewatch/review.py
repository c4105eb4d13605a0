"""Reviews: append-only decisions on Findings, bound to the evidence fingerprint."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from settlewatch.errors import UsageError
from settlewatch.store.notices import add_review
from settlewatch.store.schema import findings

DECISION_STATUS = {"approve": "approved", "dismiss": "dismissed"}


def decide(
    conn: Connection,
    finding_id: int,
    decision: str,
    reviewer: str,
    now: dt.datetime,
    reason: str = "",
) -> None:
    """Record a decision and move the Finding to the status it implies."""
    if decision not in DECISION_STATUS:
        raise UsageError(
            f"unknown decision {decision!r} (fix: one of {', '.join(DECISION_STATUS)})"
        )
    if decision == "dismiss" and not reason.strip():
        raise UsageError("dismissing a finding needs a reason")
    fingerprint = conn.scalar(select(findings.c.fingerprint).where(findings.c.id == finding_id))
    if fingerprint is None:
        raise UsageError(f"no finding {finding_id}")
    add_review(conn, finding_id, decision, reviewer, reason, fingerprint, now)
    conn.execute(
        update(findings).where(findings.c.id == finding_id).values(status=DECISION_STATUS[decision])
    )


def pending_ids(conn: Connection) -> list[int]:
    return list(
        conn.scalars(
            select(findings.c.id).where(findings.c.status == "pending").order_by(findings.c.id)
        )
    )
