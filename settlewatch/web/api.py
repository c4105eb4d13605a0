"""The JSON API: the queue, a finding, its evidence, decisions, sources and the audit log.

Integrations send ``Authorization: Bearer <token>`` (each user's token is on their account
page and from `settlewatch users token NAME`). A browser session works too, and then a POST
needs the CSRF token like any form. Decisions go through review.decide, the same code path
and audit log as the web pages and the CLI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.review import decide
from settlewatch.store.db import begin_write, utcnow
from settlewatch.web.audit import audit_rows, entry_json
from settlewatch.web.auth import require
from settlewatch.web.change import change_or_404
from settlewatch.web.dashboard import return_stale
from settlewatch.web.evidence import pack_or_404
from settlewatch.web.finding_query import parse_filter, queue_page
from settlewatch.web.state import state

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def csrf_for_sessions() -> None:
    if not g.via_token:
        from settlewatch.web.app import csrf

        csrf.protect()


@bp.get("/me")
def me() -> ResponseReturnValue:
    return {"name": g.user.name, "role": g.user.role}


@bp.get("/findings")
def findings_list() -> ResponseReturnValue:
    st = state()
    try:
        f = parse_filter(request.args, st.taxonomy)
    except UsageError as exc:
        return {"error": str(exc)}, 400
    return_stale()
    with st.engine.connect() as conn:
        page = queue_page(conn, f, utcnow())
    return {
        "filter": f.args(),
        "page": f.page,
        "pages": page.pages,
        "total": page.total,
        "counts": page.counts,
        "findings": [r.as_json() for r in page.rows],
    }


@bp.get("/findings/<int:finding_id>")
def finding_detail(finding_id: int) -> ResponseReturnValue:
    c = change_or_404(finding_id, f"no finding {finding_id}")
    version = c.text_version
    return {
        "id": finding_id,
        "status": c.finding["status"],
        "category": c.finding["category"],
        "severity": c.finding["severity"],
        "flows": list(c.finding["flows"] or []),
        "dates": c.finding["dates"],
        "hits": list(c.hits),
        "confidence": c.finding["confidence"],
        "deferred_until": _iso(c.finding["deferred_until"]),
        "change": {"id": c.change["id"], "kind": c.change["kind"], "diff": c.change["diff"]},
        "source": {"id": c.source["id"], "name": c.source["name"]},
        "url": c.notice["url"],
        "title": version["title"],
        "body": version["body"],
        "snapshot": {
            "sha256": c.snapshot["sha256"] if c.snapshot else None,
            "fetched_at": _iso(c.snapshot["fetched_at"]) if c.snapshot else None,
        },
        "action": {
            "zh": c.action_zh,
            "en": c.action_en,
            "corrected": bool(c.finding["action_text"]),
        },
        "affected_merchants": [i.merchant.id for i in c.merchants],
        "approvals": list(c.approvals),
        "approvals_needed": c.needed,
        "fingerprint": c.fingerprint,
        "stale": c.stale,
        "reviews": [
            {
                **{k: r[k] for k in ("id", "decision", "reviewer", "reason", "corrections")},
                "created_at": _iso(r["created_at"]),
            }
            for r in c.reviews
        ],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@bp.get("/findings/<int:finding_id>/evidence")
def finding_evidence(finding_id: int) -> ResponseReturnValue:
    with state().engine.connect() as conn:
        return pack_or_404(conn, finding_id, f"no finding {finding_id}")


@bp.post("/findings/<int:finding_id>/decision")
@require("officer")
def finding_decision(finding_id: int) -> ResponseReturnValue:
    """Body: {"decision": approve|dismiss|correct|defer, "reason", "corrections", "until",
    "fingerprint"}."""
    st = state()
    data: dict[str, Any] = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        return {"error": "send a JSON object"}, 400
    try:
        until = None
        if data.get("decision") == "defer":
            try:
                until = dt.datetime.fromisoformat(str(data.get("until", "")))
            except ValueError as exc:
                raise UsageError("until: not an ISO date or time (fix: 2026-12-31)") from exc
            until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
        with begin_write(st.engine) as conn:
            result = decide(
                conn,
                finding_id,
                str(data.get("decision", "")),
                g.user.name,
                utcnow(),
                str(data.get("reason", "")),
                corrections=data.get("corrections") if data.get("decision") == "correct" else None,
                until=until,
                seen=data.get("fingerprint"),
                taxonomy=st.taxonomy,
            )
    except UsageError as exc:
        return {"error": str(exc)}, 409 if "changed since" in str(exc) else 400
    return {
        "id": finding_id,
        "decision": result.decision,
        "status": result.status,
        "approvals": list(result.approvers),
        "approvals_needed": result.needed,
        "message": result.message,
    }


@bp.get("/sources")
def sources_list() -> ResponseReturnValue:
    from settlewatch.web.dashboard_data import source_health

    with state().engine.connect() as conn:
        rows = source_health(conn)
    keys = ("id", "name", "kind", "health", "health_reason", "consecutive_failures")
    return {
        "sources": [
            {
                **{k: r[k] for k in keys},
                "last_attempt": _iso(r["last_attempt"]),
                "last_success": _iso(r["last_success"]),
            }
            for r in rows
        ]
    }


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    try:
        limit = min(1000, max(1, int(request.args.get("limit", "100"))))
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        return {"error": "limit and offset must be whole numbers"}, 400
    with state().engine.connect() as conn:
        rows = audit_rows(conn, request.args, limit, offset)
    return {"entries": [entry_json(r) for r in rows], "limit": limit, "offset": offset}
