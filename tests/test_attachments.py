"""Attachments linked from a notice (PDF, DOCX, XLSX) are part of its Version."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from openpyxl import Workbook
from sqlalchemy import create_engine, select

from settlewatch.attachment import attachment_kind, attachment_text
from settlewatch.store.schema import versions
from tests.httpfixture import FixtureServer, Route
from tests.sitekit import changes, declare, listing_html, notice_html, run


def make_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, written by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF".encode()
    )
    return out.getvalue()


def make_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_xlsx(rows: list[tuple[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_readers_extract_text() -> None:
    assert "T+1 resumes" in attachment_text("https://x/a.pdf", make_pdf("T+1 resumes"))[0]
    assert "节后首个工作日" in attachment_text("https://x/a.docx", make_docx("节后首个工作日"))[0]
    table = attachment_text(
        "https://x/a.xlsx", make_xlsx([("交易日期", "划付日期"), ("2月5日", "2月13日")])
    )[0]
    assert "2月5日 | 2月13日" in table
    text, problem = attachment_text("https://x/a.pdf", b"not a pdf")
    assert text == "" and "unreadable" in problem
    assert attachment_kind("https://x/files/notice.PDF?v=2") == "pdf"
    assert attachment_kind("https://x/page.html") is None


def test_attachment_text_is_tracked_and_edits_are_caught(
    site: FixtureServer, sqlite_url: str, tmp_path: Path
) -> None:
    def publish(payout: str) -> None:
        site.routes["/files/schedule.xlsx"] = Route(
            make_xlsx([("交易日期", "划付日期"), ("2月5日至2月12日", payout)]),
            headers={
                "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            },
        )

    site.routes["/files/rules.pdf"] = Route(
        make_pdf("Settlement resumes on the first working day"),
        headers={"Content-Type": "application/pdf"},
    )
    publish("2月13日")
    body = (
        '<p>春节期间资金结算安排详见附件。</p><p><a href="/files/schedule.xlsx">结算安排表</a>'
        ' <a href="/files/rules.pdf">规则</a></p>'
    )
    site.html("/n/1.html", notice_html("关于春节期间资金结算安排的公告", "2026-11-20", body))
    site.html("/list/index.html", listing_html([("/n/1.html", "春节结算安排", "2026-11-20")]))
    declare(tmp_path / "src", "acq", site.base)
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    assert [c["kind"] for c in changes(sqlite_url)] == ["new"]
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        body = conn.scalar(select(versions.c.body))
    engine.dispose()
    assert body is not None
    assert "[附件 schedule.xlsx]" in body and "2月5日至2月12日 | 2月13日" in body
    assert "Settlement resumes on the first working day" in body

    # the page is byte-for-byte the same; only the attached table moved the payout date
    publish("2月14日")
    assert run(["crawl"], sqlite_url, tmp_path / "src").exit_code == 0
    edited = [c for c in changes(sqlite_url) if c["kind"] == "edited"]
    assert len(edited) == 1
    res = run(["changes", "list", "--json"], sqlite_url)
    assert res.exit_code == 0
