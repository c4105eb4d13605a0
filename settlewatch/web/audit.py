"""The audit log: every review entry, newest first; viewable, filterable and exportable as CSV.

The log is the `reviews` table, which nothing updates or deletes: a correction or a change of
mind is a new entry. The CSV neutralises cells that a spreadsheet would run as a formula,
since titles come from scraped pages.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import aliased

from settlewatch.store.schema import changes, findings, notices, reviews, versions
from settlewatch.web.state import state

bp = Blueprint("audit", __name__)
PER_PAGE = 100
COLUMNS = (
    "id",
    "created_at",
    "reviewer",
    "decision",
    "finding_id",
    "change_id",
    "severity",
    "source",
    "title",
    "reason",
    "corrections",
    "fingerprint",
)
new_v = aliased(versions)
old_v = aliased(versions)


def audit_query(args: Mapping[str, str]) -> Select[Any]:
    q = (
        select(
            reviews.c.id,
            reviews.c.created_at,
            reviews.c.reviewer,
            reviews.c.decision,
            reviews.c.finding_id,
            findings.c.change_id,
            findings.c.severity,
            notices.c.source_id.label("source"),
            func.coalesce(new_v.c.title, old_v.c.title, "").label("title"),
            reviews.c.reason,
            reviews.c.corrections,
            reviews.c.fingerprint,
        )
        .join(findings, findings.c.id == reviews.c.finding_id)
        .join(changes, changes.c.id == findings.c.change_id)
        .join(notices, notices.c.id == changes.c.notice_id)
        .outerjoin(new_v, new_v.c.id == changes.c.new_version_id)
        .outerjoin(old_v, old_v.c.id == changes.c.old_version_id)
        .order_by(reviews.c.id.desc())
    )
    if args.get("reviewer"):
        q = q.where(reviews.c.reviewer == args["reviewer"])
    if args.get("decision"):
        q = q.where(reviews.c.decision == args["decision"])
    finding = args.get("finding", "")
    if finding.isdigit():
        q = q.where(reviews.c.finding_id == int(finding))
    return q


def audit_rows(
    conn: Connection, args: Mapping[str, str], limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    q = audit_query(args)
    if limit is not None:
        q = q.limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(q)]


def entry_json(row: Mapping[str, Any] | Any) -> dict[str, Any]:
    out = {k: row[k] for k in COLUMNS}
    out["created_at"] = row["created_at"].isoformat()
    return out


def _cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text  # a spreadsheet would evaluate it as a formula
    return text


def csv_lines(conn: Connection, args: Mapping[str, str]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for row in conn.execute(audit_query(args)):
        data = entry_json(row._mapping)
        writer.writerow([_cell(data[k]) for k in COLUMNS])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@bp.get("/audit")
def index() -> ResponseReturnValue:
    args = request.args
    try:
        page = max(1, int(args.get("page", "1")))
    except ValueError:
        page = 1
    with state().engine.connect() as conn:
        rows = audit_rows(conn, args, PER_PAGE + 1, (page - 1) * PER_PAGE)
        reviewers = list(
            conn.scalars(select(reviews.c.reviewer).distinct().order_by(reviews.c.reviewer))
        )
    return render_template(
        "audit.html",
        rows=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        page=page,
        reviewers=reviewers,
        args=args,
    )


@bp.get("/audit.csv")
def export() -> ResponseReturnValue:
    args = request.args.to_dict()
    engine = state().engine  # the generator runs after the request context is gone

    def generate() -> Iterator[str]:
        with engine.connect() as conn:
            yield from csv_lines(conn, args)

    return Response(
        generate(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=settlewatch-audit.csv"},
    )
