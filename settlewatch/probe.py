"""One-off live checks of a listing URL, for `sources check` and `sources add`.

This is an edge (network in) that runs in the CLI process, outside Scrapy: a single polite GET
with the configured User-Agent, a timeout, a size cap and verified TLS.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from settlewatch.decode import decode_html
from settlewatch.health import judge_page
from settlewatch.listing import parse_listing
from settlewatch.models import ListingEntry, ListingRule


@dataclass(frozen=True)
class Probe:
    url: str
    state: str  # ok | failing | blocked | broken | unreachable
    reason: str
    entries: tuple[ListingEntry, ...] = ()
    text: str = ""


def fetch(url: str, user_agent: str, timeout: float, max_bytes: int) -> tuple[int, str, bytes]:
    """(status, content type, body). Raises OSError/URLError when nothing answered."""
    req = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(
            req, timeout=timeout
        ) as resp:  # http(s) only: checked by the callers
            return resp.status, resp.headers.get("Content-Type", ""), resp.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read(max_bytes + 1)


def _unreachable(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return f"name lookup failed ({reason}); no network or DNS here?"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason}"
    return f"{type(reason).__name__}: {reason}"


def probe_listing(
    rule: ListingRule,
    user_agent: str,
    timeout: float,
    max_bytes: int,
    forced_encoding: str | None = None,
    today: dt.date | None = None,
) -> Probe:
    try:
        status, ctype, body = fetch(rule.url, user_agent, timeout, max_bytes)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return Probe(rule.url, "unreachable", _unreachable(exc))
    if len(body) > max_bytes:
        return Probe(rule.url, "failing", f"response larger than {max_bytes} bytes")
    text = decode_html(body, ctype, forced_encoding)
    verdict = judge_page(status, text)
    if verdict.state != "ok":
        return Probe(rule.url, verdict.state, verdict.reason, text=text)
    page = parse_listing(rule, rule.url, body, text, today or dt.date.today())
    if not page.entries:
        return Probe(rule.url, "broken", "the listing selectors match no notice", text=text)
    return Probe(rule.url, "ok", f"{len(page.entries)} notices", page.entries, text)
