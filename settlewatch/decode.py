"""Turn fetched bytes into text, whatever the site claims its encoding is.

Order: a forced encoding from the declaration; the BOM, the HTTP header and <meta charset>
(via w3lib, which maps GB2312/GBK onto GB18030); and when that decoding is damaged (a page
labelled UTF-8 that is really GBK), a GB18030 retry and charset detection.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding


def _damage(text: str) -> int:
    return text.count("\ufffd")


def decode_html(body: bytes, content_type: str | None = None, forced: str | None = None) -> str:
    if forced:
        return body.decode(resolve_encoding(forced) or forced, errors="replace")
    _, text = html_to_unicode(content_type, body)
    if _damage(text) == 0:
        return text
    candidates = ["gb18030", "utf-8"]
    declared = html_body_declared_encoding(body)
    if declared:
        candidates.insert(0, resolve_encoding(declared) or declared)
    for enc in candidates:
        try:
            return body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(body).best()
    return str(best) if best is not None else text
