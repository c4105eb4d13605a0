"""The evidence pack of one Finding: what was fetched, what changed, who decided, who was told.

As JSON (the API and `evidence.json`) or as a zip that adds the raw Snapshot bytes and the
diff, so that an auditor can check every claim without access to settlewatch.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from flask import Blueprint, Response, abort, g
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection, Text, cast, select

from settlewatch.review import evidence_fingerprints
from settlewatch.store.crawls import blob
from settlewatch.store.db import utcnow
from settlewatch.store.schema import (
    changes,
    digest_entries,
    digests,
    findings,
    notices,
    outbox,
    reviews,
    snapshots,
    sources,
    versions,
)
from settlewatch.web.state import state

bp = Blueprint("evidence", __name__)
MAX_FETCHES = 1000
_EXT = {
    "text/html": "html",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "application/xml": "xml",
}


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _one(conn: Connection, table: Any, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    row = conn.execute(select(table).where(table.c.id == value)).first()
    return dict(row._mapping) if row else None


def evidence_pack(conn: Connection, finding_id: int, who: str) -> dict[str, Any] | None:
    finding = _one(conn, findings, finding_id)
    if finding is None:
        return None
    change = _one(conn, changes, finding["change_id"])
    assert change is not None
    notice = _one(conn, notices, change["notice_id"])
    assert notice is not None
    source = conn.execute(
        select(sources.c.id, sources.c.name, sources.c.authority, sources.c.kind).where(
            sources.c.id == notice["source_id"]
        )
    ).one()
    vers = {k: _one(conn, versions, change[f"{k}_version_id"]) for k in ("old", "new")}
    snap_ids = [v["snapshot_id"] for v in vers.values() if v and v["snapshot_id"]]
    snaps = [
        dict(r._mapping)
        for r in conn.execute(select(snapshots).where(snapshots.c.id.in_(snap_ids)))
    ]
    fetches = [
        dict(r._mapping)
        for r in conn.execute(
            select(snapshots.c.id, snapshots.c.fetched_at, snapshots.c.status, snapshots.c.sha256)
            .where(snapshots.c.source_id == notice["source_id"], snapshots.c.url == notice["url"])
            .order_by(snapshots.c.id)
            .limit(MAX_FETCHES)
        )
    ]
    decisions = [
        dict(r._mapping)
        for r in conn.execute(
            select(reviews).where(reviews.c.finding_id == finding_id).order_by(reviews.c.id)
        )
    ]
    included = [
        dict(r._mapping)
        for r in conn.execute(
            select(digests).where(cast(digests.c.finding_ids, Text).like(f"%{finding_id}%"))
        )
        if finding_id in (r.finding_ids or [])
    ]
    deliveries = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                digest_entries.c.merchant_id,
                outbox.c.id.label("outbox_id"),
                outbox.c.kind,
                outbox.c.channel,
                outbox.c.period,
                outbox.c.state,
                outbox.c.sent_at,
            )
            .join(outbox, outbox.c.id == digest_entries.c.outbox_id)
            .where(digest_entries.c.finding_id == finding_id)
        )
    ]
    return _json(
        {
            "generated_at": utcnow(),
            "generated_by": who,
            "source": dict(source._mapping),
            "notice": notice,
            "url": notice["url"],
            "finding": finding,
            "evidence_fingerprint": evidence_fingerprints(conn, [finding_id])[finding_id],
            "change": change,
            "versions": vers,
            "snapshots": snaps,
            "fetches": fetches,
            "decisions": decisions,
            "digests": included,
            "deliveries": deliveries,
        }
    )


def evidence_zip(conn: Connection, pack: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("evidence.json", json.dumps(pack, ensure_ascii=False, indent=2))
        zf.writestr("diff.txt", pack["change"]["diff"] or "(first version: no earlier text)\n")
        for snap in pack["snapshots"]:
            if not snap["sha256"]:
                continue
            ctype = next(
                (v for k, v in (snap["headers"] or {}).items() if k.lower() == "content-type"), ""
            )
            ext = _EXT.get(ctype.split(";")[0].strip().lower(), "bin")
            zf.writestr(
                f"snapshots/{snap['id']}-{snap['sha256']}.{ext}", blob(conn, snap["sha256"])
            )
    return buf.getvalue()


def pack_or_404(conn: Connection, finding_id: int, missing: str) -> dict[str, Any]:
    """The evidence pack of a finding for the signed-in user; 404 with ``missing`` if none."""
    pack = evidence_pack(conn, finding_id, g.user.name)
    if pack is None:
        abort(404, missing)
    return pack


@bp.get("/findings/<int:finding_id>/evidence.json")
def as_json(finding_id: int) -> ResponseReturnValue:
    with state().engine.connect() as conn:
        pack = pack_or_404(conn, finding_id, f"There is no finding {finding_id}.")
    body = json.dumps(pack, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=finding-{finding_id}.json"},
    )


@bp.get("/findings/<int:finding_id>/evidence.zip")
def as_zip(finding_id: int) -> ResponseReturnValue:
    with state().engine.connect() as conn:
        pack = pack_or_404(conn, finding_id, f"There is no finding {finding_id}.")
        data = evidence_zip(conn, pack)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f"attachment; filename=finding-{finding_id}-evidence.zip"},
    )
