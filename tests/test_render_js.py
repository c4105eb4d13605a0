"""`render_js: true` sources are rendered in Debian's chromium before they are read."""

from __future__ import annotations

from pathlib import Path

from tests.httpfixture import FixtureServer
from tests.sitekit import changes, declare, notice_html, run

SPA = """<html><head><title>通知公告</title></head><body><div id="app">加载中…</div>
<script>
const items = [["/n/1.html", "关于网络支付系统升级的公告", "2026-11-21"],
               ["/n/2.html", "关于调整跨行清算时间的通知", "2026-11-22"]];
document.getElementById("app").innerHTML = "<ul>" + items.map(
  ([h, t, d]) => `<li class="row"><a href="${h}">${t}</a><span class="date">${d}</span></li>`
).join("") + "</ul>";
</script></body></html>"""


def test_js_listing_is_rendered(site: FixtureServer, sqlite_url: str, tmp_path: Path) -> None:
    site.html("/list/index.html", SPA)
    site.html(
        "/n/1.html",
        notice_html(
            "关于网络支付系统升级的公告", "2026-11-21", "<p>2026年12月6日0:00至4:00系统升级。</p>"
        ),
    )
    site.html(
        "/n/2.html",
        notice_html(
            "关于调整跨行清算时间的通知", "2026-11-22", "<p>自2027年1月1日起调整跨行清算时间。</p>"
        ),
    )
    src = tmp_path / "src"
    declare(src, "spa", site.base, kind="clearing")
    # without rendering, the list is empty: the source is broken, not "no notices"
    assert run(["crawl"], sqlite_url, src).exit_code == 0
    assert changes(sqlite_url) == []
    declare(src, "spa", site.base, kind="clearing", extra="render_js: true\n")
    assert run(["crawl"], sqlite_url, src).exit_code == 0, "crawl with render_js failed"
    assert sorted(c["title"] for c in changes(sqlite_url)) == [
        "关于网络支付系统升级的公告",
        "关于调整跨行清算时间的通知",
    ]
