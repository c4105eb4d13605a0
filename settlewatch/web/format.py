"""Template helpers: times in the configured zone, labels from the taxonomy, safe links."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request

from settlewatch.web.diffview import render_segs

SEVERITY_LABELS = {"S4": "Critical", "S3": "High", "S2": "Medium", "S1": "Low", "S0": "Info"}
_HTTP_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_app.extensions["settlewatch"].config.get("timezone"))
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def when(value: dt.datetime | None, with_seconds: bool = False) -> str:
    """A stored UTC time shown in the configured zone, e.g. '2026-11-27 15:31'."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone()).strftime("%Y-%m-%d %H:%M" + (":%S" if with_seconds else ""))


def http_url(value: object) -> str:
    """The URL if it is http(s), else "": a scraped javascript: link is never clickable."""
    text = str(value or "").strip()
    return text if _HTTP_URL.match(text) else ""


def oneline(value: object) -> str:
    return " ".join(str(value or "").split())


def truncate(value: object, n: int = 80) -> str:
    text = oneline(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def category_label(category_id: str | None) -> str:
    if not category_id:
        return "—"
    tax = current_app.extensions["settlewatch"].taxonomy
    cat = tax.by_id.get(category_id)
    return f"{cat.en} · {cat.zh}" if cat else category_id


def flow_label(flow_id: str) -> str:
    tax = current_app.extensions["settlewatch"].taxonomy
    flow = next((f for f in tax.flows if f.id == flow_id), None)
    return f"{flow.en} · {flow.zh}" if flow else flow_id


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


def url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = {k: v for k, v in request.args.items()}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = str(value)
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


def can(role: str) -> bool:
    user = g.get("user")
    return bool(user and user.can(role))


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when,
        http_url=http_url,
        oneline=oneline,
        truncate_text=truncate,
        category_label=category_label,
        flow_label=flow_label,
        severity_label=lambda s: SEVERITY_LABELS.get(s or "", s or "—"),
    )
    app.jinja_env.globals.update(
        csp_nonce=csp_nonce,
        url_with=url_with,
        can=can,
        render_segs=render_segs,
        tz_name=lambda: str(zone()),
    )
