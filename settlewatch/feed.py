"""An Atom feed of approved findings, per flow or per acquirer, for people who use feed readers.

The feed is read with a user's API token (``?token=sw_…``, the same token as
``Authorization: Bearer``; a new password revokes it), because feed readers cannot log in.
``feed_for_token`` is what a web route serves; it returns None for a bad token.
Entries are built with ElementTree, so scraped titles are escaped as XML text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Connection

from settlewatch.digest_build import entry_for, finding_from_row
from settlewatch.digest_text import when_text
from settlewatch.models import Merchant
from settlewatch.store.queries import change_rows_query
from settlewatch.store.schema import changes, findings, sources
from settlewatch.taxonomy import Taxonomy
from settlewatch.users import user_for_token

ATOM = "http://www.w3.org/2005/Atom"
TITLES = {"zh": "结算变更", "en": "Settlement changes"}


def feed_rows(
    conn: Connection, *, flow: str | None = None, acquirer: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Approved, non-technical findings, newest first, touching ``flow`` / from ``acquirer``."""
    q = (
        change_rows_query()
        .add_columns(findings.c.action_text)
        .where(findings.c.status == "approved", changes.c.technical.is_(False))
    )
    if acquirer:
        q = q.where((sources.c.id == acquirer) | (sources.c.authority == acquirer))
    rows = [dict(r._mapping) for r in conn.execute(q.order_by(None).order_by(changes.c.id.desc()))]
    if flow:
        rows = [r for r in rows if flow in (r["flows"] or ())]
    return rows[:limit]


def _text(parent: ET.Element, tag: str, text: str | None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    el.text = text
    return el


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(
    rows: Sequence[Mapping[str, Any]],
    taxonomy: Taxonomy,
    *,
    self_url: str,
    title: str,
    language: str = "en",
    now: dt.datetime,
    tz: str = "Asia/Shanghai",
) -> bytes:
    """Atom 1.0 XML for ``rows`` (pure)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-CN" if language == "zh" else "en"})
    _text(root, "id", self_url.split("token=")[0].rstrip("?&"))  # the id never holds the token
    _text(root, "title", title)
    newest = max((r["created_at"] for r in rows), default=now)
    _text(root, "updated", _stamp(newest))
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "href": self_url})
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", "settlewatch")
    lang: Literal["zh", "en"] = "zh" if language == "zh" else "en"
    # an entry is written for a reader, not for a merchant: every flow is "theirs"
    reader = Merchant("feed", "feed", "feed@example.invalid", lang, (), ())
    for row in rows:
        flows = tuple(row["flows"] or ()) or ("",)
        e = entry_for(row, dataclasses.replace(reader, flows=flows), taxonomy, tz)
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "id", f"tag:settlewatch,2026:finding:{row['finding_id']}")
        _text(entry, "title", " ".join(e.title.split()))
        _text(entry, "updated", _stamp(row["created_at"]))
        if e.url.startswith(("http://", "https://")):
            ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": e.url})
        _text(entry, "category", None, term=e.category, label=e.category_label)
        for flow in row["flows"] or ():
            _text(entry, "category", None, term=f"flow:{flow}")
        when = when_text(finding_from_row(row), lang, tz)
        lines = [e.what, when, e.action, f"{e.source_name} · {e.evidence_date}"]
        _text(entry, "summary", "\n".join(" ".join(x.split()) for x in lines if x))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def feed_for_token(
    conn: Connection,
    token: str,
    taxonomy: Taxonomy,
    *,
    self_url: str,
    flow: str | None = None,
    acquirer: str | None = None,
    language: str = "en",
    now: dt.datetime,
) -> bytes | None:
    """The feed for a valid, enabled user's token; None otherwise (the route answers 401)."""
    if user_for_token(conn, token) is None:
        return None
    scope = " · ".join(x for x in (flow, acquirer) if x)
    title = TITLES.get(language, TITLES["en"]) + (f" ({scope})" if scope else "")
    rows = feed_rows(conn, flow=flow, acquirer=acquirer)
    return atom_feed(rows, taxonomy, self_url=self_url, title=title, language=language, now=now)
