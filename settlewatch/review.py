"""Reviews: append-only decisions on Findings, bound to the evidence fingerprint.

Every decision is one new `reviews` row; nothing here updates or deletes a review. The
Finding's own columns (status, corrected fields, deferral) are the current state, and the
reviews are the history that explains it.

A decision is bound to the *evidence fingerprint*: the Finding's fingerprint (the texts it was
read from) plus the notice's newest Version and state. When the notice changes again, the
evidence fingerprint moves, approvals given under the old one no longer count, and
``refresh_stale`` returns the Finding to the queue with a `stale` entry in the log.

Critical findings (FOUR_EYES severities) need approvals from two different people under the
same evidence; a correction resets the count to its author, because the others approved
something else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update
from sqlalchemy.sql.functions import coalesce

from settlewatch.errors import UsageError
from settlewatch.review_correct import apply_corrections, check_corrections
from settlewatch.store.notices import add_review
from settlewatch.store.schema import changes, findings, notices, reviews, versions
from settlewatch.taxonomy import Taxonomy

DECISIONS = ("approve", "dismiss", "correct", "defer")
DECISION_STATUS = {"approve": "approved", "dismiss": "dismissed"}
FOUR_EYES = frozenset({"S4"})
SYSTEM = "system"


@dataclass(frozen=True)
class Decision:
    """What a decision did: the Finding's new status and who has approved it so far."""

    finding_id: int
    decision: str
    status: str
    approvers: tuple[str, ...]
    needed: int

    @property
    def message(self) -> str:
        if self.decision == "approve" and self.status != "approved":
            return (
                f"finding {self.finding_id}: approval {len(self.approvers)} of {self.needed} "
                "recorded; a second officer must approve (four-eyes)"
            )
        if self.decision == "correct" and self.status != "approved":
            return (
                f"finding {self.finding_id}: corrected and approved by {self.approvers[0]}; "
                "a second officer must approve (four-eyes)"
            )
        return f"finding {self.finding_id}: {self.decision} recorded, now {self.status}"


@dataclass(frozen=True)
class ReviewEntry:
    decision: str
    reviewer: str
    fingerprint: str


def needed_approvals(severity: str) -> int:
    return 2 if severity in FOUR_EYES else 1


def approvers(history: list[ReviewEntry], fingerprint: str) -> tuple[str, ...]:
    """Who has approved under the current evidence, reading the log oldest first."""
    names: list[str] = []
    for r in history:
        if r.decision in ("stale", "defer", "dismiss"):
            names = []
        elif r.decision == "correct":
            names = [r.reviewer] if r.fingerprint == fingerprint else []
        elif r.decision == "approve" and r.fingerprint == fingerprint and r.reviewer not in names:
            names.append(r.reviewer)
    return tuple(names)


def _digest(finding_fp: str, text_hash: str | None, state: str) -> str:
    raw = f"{finding_fp}:{text_hash or '-'}:{state}"
    return hashlib.sha256(raw.encode()).hexdigest()


def evidence_fingerprints(conn: Connection, finding_ids: list[int]) -> dict[int, str]:
    """finding id → the fingerprint a decision made now would be bound to."""
    if not finding_ids:
        return {}
    rows = conn.execute(
        select(findings.c.id, findings.c.fingerprint, notices.c.id.label("nid"), notices.c.state)
        .join(changes, changes.c.id == findings.c.change_id)
        .join(notices, notices.c.id == changes.c.notice_id)
        .where(findings.c.id.in_(finding_ids))
    ).all()
    nids = sorted({r.nid for r in rows})
    newest = (
        select(versions.c.notice_id, func.max(versions.c.id).label("vid"))
        .where(versions.c.notice_id.in_(nids))
        .group_by(versions.c.notice_id)
        .subquery()
    )
    hashes = dict(
        conn.execute(
            select(versions.c.notice_id, versions.c.text_hash).join(
                newest, newest.c.vid == versions.c.id
            )
        ).all()
    )
    return {r.id: _digest(r.fingerprint, hashes.get(r.nid), r.state) for r in rows}


def histories(conn: Connection, finding_ids: list[int]) -> dict[int, list[ReviewEntry]]:
    out: dict[int, list[ReviewEntry]] = {i: [] for i in finding_ids}
    if not finding_ids:
        return out
    q = (
        select(reviews.c.finding_id, reviews.c.decision, reviews.c.reviewer, reviews.c.fingerprint)
        .where(reviews.c.finding_id.in_(finding_ids))
        .order_by(reviews.c.id)
    )
    for fid, decision, reviewer, fp in conn.execute(q):
        out[fid].append(ReviewEntry(decision, reviewer, fp))
    return out


def decide(
    conn: Connection,
    finding_id: int,
    decision: str,
    reviewer: str,
    now: dt.datetime,
    reason: str = "",
    *,
    corrections: dict[str, Any] | None = None,
    until: dt.datetime | None = None,
    seen: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> Decision:
    """Record one decision and move the Finding to the status it implies.

    ``seen`` is the evidence fingerprint the reviewer was shown: if the notice changed since,
    the decision is refused rather than bound to evidence nobody looked at.
    """
    if decision not in DECISIONS:
        raise UsageError(f"unknown decision {decision!r} (fix: one of {', '.join(DECISIONS)})")
    row = conn.execute(
        select(findings).where(findings.c.id == finding_id).with_for_update()
    ).first()
    if row is None:
        raise UsageError(f"no finding {finding_id} (fix: see `settlewatch review list`)")
    if row.status == "technical":
        raise UsageError(f"finding {finding_id} comes from a re-extraction and is never reviewed")
    fp = evidence_fingerprints(conn, [finding_id])[finding_id]
    if seen is not None and seen != fp:
        raise UsageError(
            f"finding {finding_id}: the notice changed since you opened it (fix: reload the "
            "page and decide on the new evidence)"
        )
    current = approvers(histories(conn, [finding_id])[finding_id], fp)
    needed = needed_approvals(row.severity)
    values: dict[str, Any] = {"deferred_until": None}
    recorded: dict[str, Any] = {}
    if decision == "dismiss":
        if not reason.strip():
            raise UsageError("dismissing a finding needs a reason (fix: say why it is dismissed)")
        status, current = "dismissed", ()
    elif decision == "defer":
        if row.status != "pending":
            raise UsageError(
                f"finding {finding_id} is {row.status}; only a pending one is deferred"
            )
        if until is None or until <= now:
            raise UsageError("deferring needs a date in the future (fix: give --until / a date)")
        status, current = "pending", ()
        values["deferred_until"] = until
    elif decision == "approve":
        if row.status == "approved" and len(current) >= needed:
            raise UsageError(f"finding {finding_id} is already approved")
        if reviewer in current:
            raise UsageError(
                f"finding {finding_id}: {reviewer} has already approved it; a critical finding "
                "needs a second, different officer (four-eyes)"
            )
        current = (*current, reviewer)
        status = "approved" if len(current) >= needed else "pending"
    else:
        if taxonomy is None:
            raise UsageError("a correction needs the taxonomy to check categories and flows")
        recorded = check_corrections(taxonomy, dict(row._mapping), corrections or {}, reviewer)
        values.update(apply_corrections(recorded))
        current = (reviewer,)
        status = "approved" if needed <= 1 else "pending"
    add_review(conn, finding_id, decision, reviewer, reason.strip(), fp, now, recorded)
    conn.execute(
        update(findings).where(findings.c.id == finding_id).values(status=status, **values)
    )
    return Decision(finding_id, decision, status, current, needed)


def find_stale(conn: Connection) -> dict[int, str]:
    """Approved Findings whose notice changed again: id → the current evidence fingerprint.

    Cheap enough for every queue view: SQL narrows to approved findings whose notice has a
    newer Version (or was withdrawn since), then the fingerprints decide.
    """
    own_version = coalesce(changes.c.new_version_id, changes.c.old_version_id)
    newer = exists().where(
        and_(versions.c.notice_id == changes.c.notice_id, versions.c.id > own_version)
    )
    ids = list(
        conn.scalars(
            select(findings.c.id)
            .join(changes, changes.c.id == findings.c.change_id)
            .join(notices, notices.c.id == changes.c.notice_id)
            .where(findings.c.status == "approved")
            .where(or_(newer, and_(notices.c.state == "withdrawn", changes.c.kind != "withdrawn")))
        )
    )
    fps = evidence_fingerprints(conn, ids)
    logs = histories(conn, ids)
    return {i: fps[i] for i in ids if not approvers(logs[i], fps[i])}


def refresh_stale(conn: Connection, now: dt.datetime) -> list[int]:
    """Return stale approvals to the queue, each with a `stale` entry in the log; their ids."""
    stale = find_stale(conn)
    for fid, fp in stale.items():
        reason = "the notice changed again after this decision; review the new evidence"
        add_review(conn, fid, "stale", SYSTEM, reason, fp, now)
        conn.execute(update(findings).where(findings.c.id == fid).values(status="pending"))
    return sorted(stale)


def pending_ids(conn: Connection) -> list[int]:
    return list(
        conn.scalars(
            select(findings.c.id).where(findings.c.status == "pending").order_by(findings.c.id)
        )
    )
