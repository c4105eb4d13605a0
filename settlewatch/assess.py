"""What a notice page says and what its change means: pure functions of stored data.

Tracking calls them inline; settlewatch.prepare calls them in worker processes ahead of the
tracking transaction. Both must give the same answer for the same input, so everything that
decides a Version, a diff or a classification lives here once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Connection, Row

from settlewatch.attachment import attachment_text
from settlewatch.classify import classify
from settlewatch.diff import TextDiff, diff_texts
from settlewatch.extract import extract_text
from settlewatch.models import ChangeKind, Extracted, Finding, SourceDecl
from settlewatch.pubdate import parse_date
from settlewatch.store.crawls import blob
from settlewatch.store.notices import text_hash
from settlewatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class Assessed:
    delta: TextDiff | None  # for an edit
    finding: Finding


@dataclass(frozen=True)
class PreparedPage:
    """A page read and assessed against the Version ``old_version_id`` (None: a new notice).
    ``assessed`` is None when its text equals that Version's: no change."""

    extracted: Extracted
    old_version_id: int | None = None
    assessed: Assessed | None = None


def same_bytes(notice: Any, key: str) -> bool:
    """The notice is active and its page (with attachments) is byte for byte as last time:
    nothing to read. ``notice`` is a notices row (or NoticeRef), None when first seen."""
    return notice is not None and notice.state == "active" and notice.last_sha256 == key


def attachments_by_parent(snaps: list[Row[Any]]) -> dict[str, list[Row[Any]]]:
    """The stored attachments of a run, by the notice page that links them."""
    out: dict[str, list[Row[Any]]] = {}
    for snap in snaps:
        if snap.role == "attachment" and snap.status == 200 and snap.sha256 and snap.parent_url:
            out.setdefault(snap.parent_url, []).append(snap)
    return out


def content_key(snap: Row[Any], attachments: list[Row[Any]]) -> str:
    """What the page and its attachments were, as bytes: equal keys need no extraction."""
    shas = sorted(a.sha256 for a in attachments)
    if not shas:
        return str(snap.sha256)
    return hashlib.sha256(",".join([snap.sha256, *shas]).encode()).hexdigest()


def extract_page(
    conn: Connection, decl: SourceDecl, snap: Row[Any], text: str, attachments: list[Row[Any]]
) -> Extracted:
    """The notice text of a page, followed by the text of each attachment it links to.

    A pure function of the stored bytes and the declaration (settlewatch.prepare relies on it).
    """
    listing_date = parse_date(snap.listing_date) if snap.listing_date else None
    extracted = extract_text(decl.notice, snap.url, text, snap.listing_title, listing_date)
    parts = [extracted.body]
    for att in sorted(attachments, key=lambda a: a.url):
        body, problem = attachment_text(att.url, blob(conn, att.sha256))
        name = unquote(att.url.rsplit("/", 1)[-1])
        parts.append(f"[附件 {name}]\n{body or '(' + problem + ')'}")
    return Extracted(extracted.title, extracted.published, "\n\n".join(parts))


def version_text(version: Row[Any]) -> str:
    """A stored Version's normalised text, as an edit is diffed against it."""
    return Extracted(version.title, parse_date(version.published), version.body).normalised()


def assess_page(
    extracted: Extracted, old: Row[Any] | None, taxonomy: Taxonomy, now: dt.datetime
) -> PreparedPage:
    """The change a page's text makes against the notice's latest Version ``old``, if any."""
    if old is None:
        return PreparedPage(extracted, None, assess(taxonomy, "new", extracted, "", now))
    if old.text_hash == text_hash(extracted):
        return PreparedPage(extracted, old.id)
    return PreparedPage(
        extracted, old.id, assess(taxonomy, "edited", extracted, version_text(old), now)
    )


def assess(
    taxonomy: Taxonomy, kind: ChangeKind, extracted: Extracted, old_text: str, now: dt.datetime
) -> Assessed:
    """The diff (for an edit) and the classification of a change."""
    delta = diff_texts(old_text, extracted.normalised()) if kind == "edited" else None
    finding = classify(
        taxonomy,
        extracted.title,
        extracted.body,
        kind=kind,
        diff_added=delta.added if delta else "",
        diff_removed=delta.removed if delta else "",
        published=extracted.published,
        now=now,
    )
    return Assessed(delta, finding)
