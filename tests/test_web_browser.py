"""The review app in Debian's chromium, driven by Playwright, against a real WSGI server.

The data comes from real crawls of a notice board served on 127.0.0.1: a fee notice that is
then edited, and a maintenance window tomorrow (critical: four-eyes), which is edited again
after approval so that the approval goes stale.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from crawler.browser import BROWSER_ARGS
from settlewatch.store.db import open_store
from settlewatch.store.schema import findings
from settlewatch.web import create_app
from tests import webseed
from tests.httpfixture import FixtureServer
from tests.sitekit import declare, listing_html, notice_html, run
from tests.webseed import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = BROWSER_ARGS  # the same flags the crawler's render_js browser uses
TOMORROW = dt.date.today() + dt.timedelta(days=1)
IN_TEN_DAYS = dt.date.today() + dt.timedelta(days=10)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def board(site: FixtureServer, fee: str = "0.38%", window_end: str = "6:00") -> None:
    today = dt.date.today().isoformat()
    pages = {
        "/notice/fee.html": (
            "关于调整商户手续费率的公告",
            f"<p>自{_cn(IN_TEN_DAYS)}起，扫码支付手续费率调整为{fee}。</p>",
        ),
        "/notice/maint.html": (
            "关于系统维护暂停D0实时到账的公告",
            f"<p>我司将于{_cn(TOMORROW)}凌晨2:00至{window_end}进行系统维护，"
            "届时D0实时到账暂停，请商户提前做好资金安排。</p>",
        ),
    }
    for path, (title, body) in pages.items():
        site.html(path, notice_html(title, today, body))
    site.html("/list/index.html", listing_html([(p, t, today) for p, (t, _) in pages.items()]))


def crawl(db: str, src: Path) -> None:
    res = run(["crawl"], db, src)
    assert res.exit_code == 0, res.output


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SETTLEWATCH_ARTIFACTS") or tmp_path / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def served(site: FixtureServer, sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    board(site)
    src = tmp_path / "src"
    declare(src, "acq", site.base)
    crawl(sqlite_url, src)  # the baseline: recent notices enter the queue
    board(site, fee="0.60%")
    crawl(sqlite_url, src)  # the fee notice is edited
    engine = open_store(sqlite_url)
    webseed.add_users(engine, alice="officer", bob="officer", vic="viewer")
    app = create_app(sqlite_url, secret_key="browser-test", sources_dir=src)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", sqlite_url, src
    finally:
        server.shutdown()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def log_in(browser: Browser, base: str, name: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base + "/queue")
    expect(page).to_have_url(f"{base}/login?next=/queue")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page).to_have_url(f"{base}/queue")
    return page


def status_of(db: str, title_part: str, kind: str) -> list[str]:
    from settlewatch.store.schema import changes, notices

    engine = open_store(db)
    with engine.connect() as conn:
        rows = conn.execute(
            select(findings.c.status)
            .join(changes, changes.c.id == findings.c.change_id)
            .join(notices, notices.c.id == changes.c.notice_id)
            .where(notices.c.url.contains(title_part), changes.c.kind == kind)
            .order_by(findings.c.id)
        )
        return [r.status for r in rows]


def test_officers_review_in_the_browser(
    served: tuple[str, str, Path], browser: Browser, site: FixtureServer, artefacts: Path
) -> None:
    base, db, src = served
    alice = log_in(browser, base, "alice")

    # the dashboard: the maintenance window tomorrow is on the calendar
    alice.goto(base + "/")
    expect(alice.locator("#pending-count .n")).to_have_text("3")
    expect(alice.locator("svg rect.window")).to_have_count(1)
    alice.screenshot(path=str(artefacts / "dashboard.png"), full_page=True)

    # filter the queue down to the fee notice
    alice.goto(base + "/queue")
    expect(alice.locator("#queue tr[id^=finding-]")).to_have_count(3)
    alice.select_option("#f-category", "fee_change")
    alice.click("#apply-filters")
    expect(alice.locator("#queue tr[id^=finding-]")).to_have_count(2)
    alice.screenshot(path=str(artefacts / "queue.png"), full_page=True)

    # open the edit: the diff marks only the changed number, the rules' matches are highlighted
    alice.locator("#queue tr", has_text="edited").locator("a").first.click()
    expect(alice.locator("#diff-side del")).to_have_text(["0.38"])
    expect(alice.locator("#diff-side ins")).to_have_text(["0.60"])
    assert alice.locator("#notice-body mark.hit").count() >= 2
    expect(alice.locator("#added mark.hit", has_text="0.60%")).to_have_count(1)
    expect(alice.locator("#snapshot-hash")).to_have_text(
        __import__("re").compile(r"^[0-9a-f]{64}$")
    )
    alice.screenshot(path=str(artefacts / "change.png"), full_page=True)
    alice.click("#view-inline")
    expect(alice.locator("#diff-inline del")).to_have_text(["0.38"])

    # correct the flows (add refunds), then approve
    alice.click("#correct-box summary")
    alice.check("#flow-refund")
    alice.click("#correct")
    expect(alice.locator(".flash-ok")).to_contain_text("correct recorded, now approved")
    assert status_of(db, "fee", "edited") == ["approved"]

    # dismiss the superseded first version, with a reason
    alice.goto(base + "/queue?category=fee_change")
    alice.locator("#queue tr", has_text="new").locator("a").first.click()
    alice.fill("#reason", "superseded by the edit that set 0.60%")
    alice.click("#dismiss")
    expect(alice.locator(".flash-ok")).to_contain_text("now dismissed")

    # the critical maintenance notice needs a second officer
    alice.goto(base + "/queue?severity=S4")
    expect(alice.locator("#queue tr[id^=finding-]")).to_have_count(1)
    alice.locator("#queue tr[id^=finding-] a").first.click()
    critical_url = alice.url
    expect(alice.locator("#four-eyes")).to_contain_text("0/2")
    alice.click("#approve")
    expect(alice.locator(".flash-warn")).to_contain_text("a second officer must approve")
    expect(alice.locator("#approve")).to_be_disabled()
    assert status_of(db, "maint", "new") == ["pending"]

    # a viewer can read it but cannot approve, not even by posting the form by hand
    vic = log_in(browser, base, "vic")
    vic.goto(critical_url)
    expect(vic.locator("#read-only")).to_be_visible()
    expect(vic.locator("#approve")).to_have_count(0)
    token = vic.locator("#logout").locator("xpath=..").locator("input[name=csrf_token]")
    resp = vic.request.post(
        critical_url + "/decide",
        form={"decision": "approve", "csrf_token": token.get_attribute("value") or ""},
    )
    assert resp.status == 403
    assert status_of(db, "maint", "new") == ["pending"]

    bob = log_in(browser, base, "bob")
    bob.goto(critical_url)
    expect(bob.locator("#four-eyes")).to_contain_text("1/2 approvals (alice)")
    bob.click("#approve")
    expect(bob.locator(".flash-ok")).to_contain_text("now approved")
    assert status_of(db, "maint", "new") == ["approved"]

    # the notice changes again: the approval goes stale and the finding is back in the queue
    board(site, fee="0.60%", window_end="8:00")
    crawl(db, src)
    alice.goto(base + "/queue?severity=S4")
    stale_row = alice.locator("#queue tr", has_text="stale: notice changed")
    expect(stale_row).to_have_count(1)
    stale_row.locator("a").first.click()
    expect(alice.locator("#stale-banner")).to_contain_text("the notice changed again")
    expect(alice.locator("#four-eyes")).to_contain_text("0/2")
    assert status_of(db, "maint", "new") == ["pending"]
    assert status_of(db, "maint", "edited") == ["pending"]

    # log out: the session is gone
    alice.click("#logout")
    expect(alice).to_have_url(f"{base}/login")
    expect(alice.locator(".flash-ok")).to_have_text("You are logged out.")
    alice.goto(base + "/queue")
    expect(alice).to_have_url(f"{base}/login?next=/queue")

    for name in ("dashboard.png", "queue.png", "change.png"):
        assert (artefacts / name).stat().st_size > 20_000
