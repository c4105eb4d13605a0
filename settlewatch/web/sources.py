"""The sources page: health, recent runs and errors, "crawl now", and (admins) new sources."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection, func, select

from settlewatch.errors import LockedError, SettlewatchError, SourceDeclError
from settlewatch.models import SourceDecl
from settlewatch.source import load_source, load_sources
from settlewatch.store.db import utcnow
from settlewatch.store.queries import recent_runs
from settlewatch.store.schema import snapshots, sources
from settlewatch.web.auth import require
from settlewatch.web.state import state

bp = Blueprint("sources", __name__)
RECENT_RUNS = 5


def declared() -> dict[str, SourceDecl]:
    """The declarations "crawl now" uses; an unreadable folder shows as none."""
    try:
        return load_sources(state().sources_dir)
    except SettlewatchError:
        return {}


def _progress(conn: Connection, run_ids: list[int]) -> dict[int, int]:
    """Snapshots stored so far by running crawls."""
    if not run_ids:
        return {}
    q = (
        select(snapshots.c.run_id, func.count())
        .where(snapshots.c.run_id.in_(run_ids))
        .group_by(snapshots.c.run_id)
    )
    return {run_id: n for run_id, n in conn.execute(q)}


@bp.get("/sources")
def index() -> ResponseReturnValue:
    st = state()
    now = utcnow()
    decls = declared()
    with st.engine.connect() as conn:
        rows = {r.id: dict(r._mapping) for r in conn.execute(select(sources))}
        runs = recent_runs(conn, sorted(rows), RECENT_RUNS)
        running = [r["id"] for rs in runs.values() for r in rs if r["status"] == "running"]
        progress = _progress(conn, running)
    items = []
    for sid in sorted(set(rows) | set(decls)):
        row = rows.get(sid, {})
        lease = row.get("lease_until")
        launch = st.launcher.launches.get(sid)
        items.append(
            {
                "id": sid,
                "name": row.get("name") or (decls[sid].name if sid in decls else sid),
                "kind": row.get("kind") or (decls[sid].kind if sid in decls else ""),
                "health": row.get("health", "unknown"),
                "reason": row.get("health_reason", ""),
                "last_attempt": row.get("last_attempt"),
                "last_success": row.get("last_success"),
                "failures": row.get("consecutive_failures", 0),
                "crawling": bool(lease and lease > now) or bool(launch and launch.running),
                "lease_owner": row.get("lease_owner") if lease and lease > now else None,
                "declared": sid in decls,
                "runs": runs.get(sid, []),
                "errors": [r for r in runs.get(sid, []) if r["message"]],
                "launch": launch,
            }
        )
    return render_template(
        "sources.html",
        items=items,
        progress=progress,
        any_running=any(i["crawling"] for i in items),
        writable=st.sources_dir is not None,
    )


@bp.post("/sources/<source_id>/crawl")
@require("officer")
def crawl_now(source_id: str) -> ResponseReturnValue:
    st = state()
    if source_id not in declared():
        abort(404, f"No declared source '{source_id}' in the configured sources folder.")
    try:
        st.launcher.start(st.engine, source_id, g.user.name)
    except LockedError as exc:
        flash(f"Not started: {exc}", "error")
        return redirect(url_for("sources.index"))
    flash(f"Crawl of {source_id} started in the background; this page follows its progress.", "ok")
    return redirect(url_for("sources.index"))


@bp.route("/sources/new", methods=["GET", "POST"])
@require("admin")
def new() -> ResponseReturnValue:
    """Add or replace a declaration: validated exactly as the crawler will load it."""
    st = state()
    if st.sources_dir is None:
        abort(
            409,
            "Sources are the bundled, read-only declarations: start the app with "
            "SETTLEWATCH_SOURCES set to a writable folder to add sources here.",
        )
    text = request.form.get("yaml", "") if request.method == "POST" else ""
    if request.method == "GET":
        return render_template("source_new.html", text="", error=None, source_id="")
    source_id = request.form.get("id", "").strip()
    tmp = tempfile.mkdtemp(prefix="settlewatch-decl-")
    try:
        if (
            not source_id
            or not source_id.replace("_", "").isascii()
            or not source_id.replace("_", "").isalnum()
        ):
            raise SourceDeclError(
                "id", "source id must be letters, digits and '_'", fix="e.g. acme_acquirer"
            )
        path = Path(tmp) / f"{source_id}.yaml"
        path.write_text(text, encoding="utf-8")
        load_source(path)  # the crawler's own loader: schema, selectors, filters
    except SourceDeclError as exc:
        message = str(exc).replace(str(Path(tmp)) + "/", "")  # name the file, not our temp dir
        return render_template(
            "source_new.html", text=text, error=message, source_id=source_id
        ), 400
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    st.sources_dir.mkdir(parents=True, exist_ok=True)
    (st.sources_dir / f"{source_id}.yaml").write_text(text, encoding="utf-8")
    flash(f"Source {source_id} saved to {st.sources_dir}; crawl it to take its baseline.", "ok")
    return redirect(url_for("sources.index"))
