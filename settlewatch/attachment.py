"""Attachment text: PDF, DOCX, XLSX, XLS and legacy DOC files linked from notice pages.

Holiday schedules and statistics often live only in an attachment, so its text is part of the
notice's Version. A file that cannot be read yields "" and a reason, never an exception.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from urllib.parse import urlparse

from settlewatch import noise

KINDS = ("pdf", "docx", "doc", "xlsx", "xls", "et", "wps")
_LINK = re.compile(r"\.(" + "|".join(KINDS) + r")(?:$|[?#])", re.IGNORECASE)
MAX_CHARS = 200_000  # a 300-page PDF is not a notice; keep Versions bounded


def attachment_kind(url: str) -> str | None:
    """'pdf', 'docx', … when ``url`` names a supported attachment, else None."""
    m = _LINK.search(urlparse(url).path + ("?" if urlparse(url).query else ""))
    return m.group(1).lower() if m else None


_ANY_KIND = re.compile(r"\.(?:" + "|".join(KINDS) + ")", re.IGNORECASE)


def attachment_links(html_text: str, base_url: str) -> list[str]:
    """Absolute URLs of the attachments a notice page links to, in page order."""
    from settlewatch.htmltext import parse_html

    if not _ANY_KIND.search(html_text):  # most notices link no file: skip parsing the page
        return []

    doc = parse_html(html_text, base_url)
    seen: dict[str, None] = {}
    for a in doc.iter("a"):
        href = (a.get("href") or "").split("#")[0]
        if href.startswith(("http://", "https://")) and attachment_kind(href):
            seen.setdefault(href, None)
    return list(seen)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return "\n".join(parts)


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = [str(c) for c in row if c is not None]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)


def _xls(data: bytes) -> str:
    import xlrd

    book = xlrd.open_workbook(file_contents=data)
    lines = []
    for sheet in book.sheets():
        for r in range(sheet.nrows):
            cells = [str(v) for v in sheet.row_values(r) if v not in ("", None)]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)


_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e\n\r\t]\x00|[\x00-\xff][\x4e-\x9f]){4,}")


def _legacy_doc(data: bytes) -> str:
    """Word 97–2003 and WPS files: their text is stored as UTF-16LE runs."""
    return "\n".join(run.decode("utf-16-le", errors="ignore") for run in _UTF16_RUN.findall(data))


READERS: dict[str, Callable[[bytes], str]] = {
    "pdf": _pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "xls": _xls,
    "doc": _legacy_doc,
    "et": _xls,
    "wps": _legacy_doc,
}


def attachment_text(url: str, data: bytes) -> tuple[str, str]:
    """(text, problem): the normalised text of an attachment, or "" and why not."""
    kind = attachment_kind(url)
    if kind is None:
        return "", "not an attachment type settlewatch reads"
    try:
        text = READERS[kind](data)
    except Exception as exc:  # a damaged file must not stop the notice being tracked
        return "", f"{kind} unreadable: {type(exc).__name__}: {exc}"[:300]
    return noise.apply(text)[:MAX_CHARS], ""
