"""The review queue: pending findings, most severe and newest first, with filters and pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from settlewatch.errors import UsageError
from settlewatch.store.db import utcnow
from settlewatch.store.schema import findings, sources
from settlewatch.web.dashboard import return_stale
from settlewatch.web.finding_query import SEVERITIES, STATUSES, parse_filter, queue_page
from settlewatch.web.format import url_with
from settlewatch.web.state import state

bp = Blueprint("queue", __name__)


@bp.get("/queue")
def index() -> ResponseReturnValue:
    st = state()
    try:
        f = parse_filter(request.args, st.taxonomy)
    except UsageError as exc:
        flash(f"Filter ignored: {exc}", "error")
        return redirect(url_for("queue.index"))
    return_stale()
    with st.engine.connect() as conn:
        page = queue_page(conn, f, utcnow())
        source_ids = list(conn.execute(select(sources.c.id, sources.c.name).order_by(sources.c.id)))
    if f.page > page.pages and page.total:
        return redirect(url_with(page=page.pages))
    return render_template(
        "queue.html",
        page=page,
        f=f,
        statuses=STATUSES,
        severities=SEVERITIES,
        categories=st.taxonomy.categories,
        flows=st.taxonomy.flows,
        sources=source_ids,
    )


@bp.get("/changes/<int:change_id>")
def by_change(change_id: int) -> ResponseReturnValue:
    """A change's page is its finding's page."""
    with state().engine.connect() as conn:
        fid = conn.scalar(select(findings.c.id).where(findings.c.change_id == change_id))
    if fid is None:
        flash(f"Change {change_id} has no finding.", "error")
        return redirect(url_for("queue.index"))
    return redirect(url_for("change.show", finding_id=fid))
