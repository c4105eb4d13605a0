"""The pages: dashboard, queue, change page (diff, evidence, escaping), evidence pack, API."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from settlewatch.store.crawls import blob
from settlewatch.store.db import open_store
from settlewatch.store.schema import findings, reviews
from settlewatch.web import create_app
from settlewatch.web.diffview import Mark, diff_rows, highlight, render_segs, tokenise
from tests import webseed
from tests.webseed import login, post_form

FEE = "<p>自2026年12月1日起，扫码支付手续费率调整为0.38%。</p>"
HOSTILE_TITLE = '关于调整手续费率的公告<script>alert("t")</script>'
HOSTILE_BODY = (
    "<p>自2026年12月{day}日起，扫码支付手续费率调整为{fee}。</p>"
    '<img src=x onerror="alert(1)"><a href="javascript:alert(2)">点此</a>'
)


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    engine = open_store(sqlite_url)
    webseed.add_users(engine, alice="officer", vic="viewer")
    webseed.add_merchants(engine)
    return engine


@pytest.fixture
def app(engine: Engine, sqlite_url: str) -> Flask:
    return create_app(sqlite_url, secret_key="k")


@pytest.fixture
def officer(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "alice")
    return client


def text(client: FlaskClient, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def test_tokens_are_characters_for_chinese_and_words_for_english() -> None:
    assert tokenise("费率调整为0.38%") == ["费", "率", "调", "整", "为", "0.38", "%"]
    assert tokenise("Fee rises to 0.60%.") == [
        "Fee",
        " ",
        "rises",
        " ",
        "to",
        " ",
        "0.60",
        "%",
        ".",
    ]
    (row,) = [r for r in diff_rows("fee is 0.38% now", "fee is 0.60% now") if r.kind == "chg"]
    assert str(render_segs(row.left)) == "fee is <del>0.38</del>% now"
    assert str(render_segs(row.right)) == "fee is <ins>0.60</ins>% now"
    (row,) = [r for r in diff_rows("自12月1日起调整", "自12月3日起调整") if r.kind == "chg"]
    assert str(render_segs(row.inline)) == "自12月<del>1</del><ins>3</ins>日起调整"


def test_highlight_escapes_before_marking() -> None:
    out = str(highlight("<b>费率</b>调整", [Mark(3, 5, "hit", "fee.rate")]))
    assert out == '&lt;b&gt;<mark class="hit" title="fee.rate">费率</mark>&lt;/b&gt;调整'


def test_long_unchanged_runs_are_collapsed() -> None:
    old = "\n".join(f"line {i}" for i in range(40))
    rows = diff_rows(old, old.replace("line 20", "line twenty"))
    assert [r.kind for r in rows] == ["skip", "eq", "eq", "chg", "eq", "eq", "skip"]
    assert rows[0].skipped == 18


def test_dashboard_shows_calendar_chart_health_and_pending(
    engine: Engine, officer: FlaskClient
) -> None:
    webseed.add_version(
        engine, "关于系统维护的公告", "我司将于2026年12月5日凌晨2:00至6:00进行系统维护。"
    )
    webseed.add_version(engine, "关于调整商户手续费率的公告", FEE, url="http://x/fee")
    page = text(officer, "/")
    assert re.search(r'id="pending-count">\s*<div class="n">2</div>', page)
    assert "2026-12-05 02:00 → 2026-12-05 06:00" in page  # the window, in the agenda
    assert '<rect class="window' in page  # ... and on the SVG timeline
    assert "Findings per category per week" in page and "<svg" in page
    assert "Planned maintenance / upgrade" in page  # chart legend
    assert "Test acquirer acq_test" in page and "hs-ok" in page  # health strip


def test_queue_filters_counts_and_pages(engine: Engine, officer: FlaskClient) -> None:
    webseed.bulk_findings(engine, 120)
    page = text(officer, "/queue")
    assert "120 finding(s) · page 1 of 3" in page
    ids = [int(i) for i in re.findall(r'id="finding-(\d+)"', page)]
    assert len(ids) == 50
    with engine.connect() as conn:
        sev = dict(conn.execute(select(findings.c.id, findings.c.severity)).all())
    order = [(sev[i], i) for i in ids]
    assert order == sorted(order, reverse=True)  # most severe, then newest, first
    page3 = text(officer, "/queue?page=3")
    assert len(re.findall(r'id="finding-(\d+)"', page3)) == 20
    assert "24 finding(s)" in text(officer, "/queue?severity=S4")
    assert "30 finding(s)" in text(officer, "/queue?category=fee_change")
    assert "60 finding(s)" in text(officer, "/queue?flow=refund")
    assert "12 finding(s)" in text(officer, "/queue?flow=refund&severity=S0")
    assert "120 finding(s)" in text(officer, "/queue?source=bulk")
    assert "0 finding(s)" in text(officer, "/queue?source=acq_test")
    assert "0 finding(s)" in text(officer, "/queue?since=2099-01-01")
    webseed.set_status(engine, ids[0], status="dismissed")
    page = text(officer, "/queue?status=dismissed")
    assert "1 finding(s)" in page
    assert re.search(r'id="tab-pending">pending<span class="count">119<', page)
    resp = officer.get("/queue?severity=S9")
    assert resp.status_code == 302  # a bad filter is reported, not a crash
    assert "severity &#39;S9&#39; is unknown" in text(officer, resp.headers["Location"])


def test_change_page_shows_evidence_diff_and_merchants(
    engine: Engine, officer: FlaskClient
) -> None:
    url = "http://127.0.0.1:9/notice/fee.html"
    webseed.add_version(engine, "关于调整商户手续费率的公告", FEE, url=url)
    fid = webseed.add_version(
        engine, "关于调整商户手续费率的公告", FEE.replace("0.38", "0.60"), url=url
    )
    page = text(officer, f"/findings/{fid}")
    assert url in page and "Test acquirer acq_test" in page
    with engine.connect() as conn:
        digest = conn.scalar(select(findings.c.fingerprint).where(findings.c.id == fid))
    snap = re.search(r'id="snapshot-hash">([0-9a-f]{64})<', page)
    assert snap and digest
    # character-level diff of the Chinese text: only the changed number is marked
    assert "<del>0.38</del>" in page and "<ins>0.60</ins>" in page
    inline = text(officer, f"/findings/{fid}?view=inline")
    assert 'id="diff-inline"' in inline and "<del>0.38</del><ins>0.60</ins>" in inline
    # the rules that fired, and their spans highlighted in the notice text
    assert re.search(r'<mark class="hit" title="[^"]*fee\.zh\.[^"]*">手续费</mark>', page)
    assert '<mark class="hit" title="edit.rate-changed">0.60%</mark>' in page  # in the added lines
    assert "edit.rate-changed" in page
    # m1 takes QR payments at this acquirer; m2 only card payments; m3 is another acquirer's
    assert 'id="merchant-count">1<' in page and "Tea House" in page and "Book Shop" not in page
    assert "Other acquirer" not in page


def test_scraped_markup_is_inert_in_every_page(engine: Engine, officer: FlaskClient) -> None:
    url = "javascript:alert(3)//notice"
    webseed.add_version(engine, HOSTILE_TITLE, HOSTILE_BODY.format(day=1, fee="0.38%"), url=url)
    fid = webseed.add_version(
        engine, HOSTILE_TITLE, HOSTILE_BODY.format(day=3, fee="0.60%"), url=url
    )
    for path in (f"/findings/{fid}", f"/findings/{fid}?view=inline", "/queue", "/", "/audit"):
        page = text(officer, path)
        assert "<script" not in page, path
        assert "<img" not in page and "onerror=" not in page.replace("onerror=&#34;", ""), path
        assert 'href="javascript:' not in page, path
    page = text(officer, f"/findings/{fid}")
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page  # shown as text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;a href=&#34;javascript:alert(2)&#34;&gt;" in page
    assert f"<dd>{url}</dd>" in page  # the notice URL is text, not a link


def test_decisions_from_the_change_page(engine: Engine, officer: FlaskClient) -> None:
    fid = webseed.add_version(engine, "关于调整商户手续费率的公告", FEE)
    page = text(officer, f"/findings/{fid}")
    fp = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page)
    assert fp
    resp = post_form(
        officer,
        f"/findings/{fid}/decide",
        {"decision": "dismiss", "reason": "", "fingerprint": fp[1]},
    )
    assert "needs a reason" in text(officer, resp.headers["Location"])
    resp = post_form(
        officer,
        f"/findings/{fid}/decide",
        {
            "decision": "correct",
            "fingerprint": fp[1],
            "flows_submitted": "1",
            "flows": ["fee_deduct", "refund"],
            "category": "fee_change",
            "date_effective": "2026-12-02",
            "action_text": "",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/queue"
    with engine.connect() as conn:
        row = conn.execute(select(findings).where(findings.c.id == fid)).one()
        entry = conn.execute(select(reviews).where(reviews.c.finding_id == fid)).one()
    assert row.status == "approved" and row.flows == ["refund", "fee_deduct"]  # taxonomy order
    assert row.dates["effective"]["value"] == "2026-12-02"
    assert entry.decision == "correct" and entry.reviewer == "alice"
    assert set(entry.corrections) == {"flows", "dates"}
    page = text(officer, f"/findings/{fid}")
    assert "corrected by alice" in page and "<b>correct</b>" in page


def test_evidence_pack_holds_snapshots_diff_decisions(engine: Engine, officer: FlaskClient) -> None:
    url = "http://127.0.0.1:9/notice/fee.html"
    webseed.add_version(engine, "关于调整商户手续费率的公告", FEE, url=url)
    fid = webseed.add_version(
        engine, "关于调整商户手续费率的公告", FEE.replace("0.38", "0.60"), url=url
    )
    post_form(officer, f"/findings/{fid}/decide", {"decision": "approve"})
    resp = officer.get(f"/findings/{fid}/evidence.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    pack = json.loads(zf.read("evidence.json"))
    assert pack["url"] == url and pack["finding"]["id"] == fid
    assert [d["decision"] for d in pack["decisions"]] == ["approve"]
    assert len(pack["snapshots"]) == 2 and len(pack["fetches"]) == 2
    diff = zf.read("diff.txt").decode().splitlines()
    assert any(line.startswith("-") and "0.38%" in line for line in diff)
    assert any(line.startswith("+") and "0.60%" in line for line in diff)
    with engine.connect() as conn:
        for snap in pack["snapshots"]:
            raw = zf.read(f"snapshots/{snap['id']}-{snap['sha256']}.html")
            assert raw == blob(conn, snap["sha256"])
    assert pack["digests"] == [] and pack["evidence_fingerprint"]
    assert json.loads(officer.get(f"/findings/{fid}/evidence.json").data)["finding"]["id"] == fid


def test_json_api_reads_and_decides(engine: Engine, officer: FlaskClient) -> None:
    fid = webseed.add_version(engine, "关于调整商户手续费率的公告", FEE)
    listing = officer.get("/api/findings?category=fee_change").get_json()
    assert listing["total"] == 1 and listing["findings"][0]["id"] == fid
    assert officer.get("/api/findings?status=nope").status_code == 400
    detail = officer.get(f"/api/findings/{fid}").get_json()
    assert detail["category"] == "fee_change" and detail["affected_merchants"] == ["m1"]
    assert detail["snapshot"]["sha256"] and detail["action"]["zh"]
    token = webseed.csrf_token(officer, "/account")
    resp = officer.post(
        f"/api/findings/{fid}/decision",
        json={"decision": "defer", "until": "2099-01-01", "fingerprint": detail["fingerprint"]},
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "pending"
    assert officer.get("/api/findings").get_json()["counts"]["deferred"] == 1
    stale = officer.post(
        f"/api/findings/{fid}/decision",
        json={"decision": "approve", "fingerprint": "0" * 64},
        headers={"X-CSRFToken": token},
    )
    assert stale.status_code == 409
    audit = officer.get("/api/audit").get_json()["entries"]
    assert [(e["decision"], e["reviewer"]) for e in audit] == [("defer", "alice")]
    assert officer.get("/api/sources").get_json()["sources"][0]["id"] == "acq_test"
    assert officer.get(f"/api/findings/{fid}/evidence").get_json()["finding"]["id"] == fid
    assert officer.get("/api/findings/999").status_code == 404
