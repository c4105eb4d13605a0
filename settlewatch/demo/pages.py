"""The demo boards as HTTP pages: each source has its own markup, encoding and noise.

``render`` is pure: path, week, reference date and a ``Noise`` value in, a ``Page`` out. The
server in ``site`` only draws fresh noise per request and writes the page. Noise sits where a
real CMS puts it (script, comments in <head>, nav, footer, banner, clock and counter lines),
including inside the notice body, so the default filters have real work to do.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from settlewatch.demo.dates import ymd
from settlewatch.demo.notices import SOURCE_IDS, DemoNotice, notices

_PBC_PAGE_SIZE = 3
_BANNERS = {
    1: (
        "岁末收单服务月：刷卡满额赢好礼",
        "商户服务热线升级，7×24小时在线",
        "扫码支付安全提示：谨防诈骗",
    ),
    2: ("新春备货季：商户经营贷限时优惠", "“码上有礼”活动火热进行中", "关注服务号，结算通知早知道"),
}
_CST = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Noise:
    """What differs on every request without meaning anything."""

    clock: str
    views: int
    token: str
    banner: str


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def make_noise(rng: random.Random, week: int, now: dt.datetime) -> Noise:
    token = "".join(rng.choices(string.ascii_letters + string.digits, k=31)) + str(week)
    return Noise(
        clock=f"{now:%Y-%m-%d %H:%M:%S}",
        views=rng.randint(1000, 99999),
        token=token,
        banner=rng.choice(_BANNERS[1 if week == 1 else 2]),
    )


def notice_path(n: DemoNotice) -> str:
    if n.source_id == "demo_pbc":
        return f"/pbc/128525/{n.slug}/index.html"
    if n.source_id == "demo_ums":
        return f"/ums/xwzx/gsgg/{n.published:%Y%m}/{n.slug}.shtml"
    if n.source_id == "demo_unionpay":
        return f"/unionpay/notice/{n.slug}.html"
    return f"/lakala/notice/{n.slug}.html"


LISTING_PATHS = {
    "demo_pbc": "/pbc/list.html",
    "demo_ums": "/ums/xwzx/gsgg/index.shtml",
    "demo_unionpay": "/unionpay/rss.xml",
    "demo_lakala": "/lakala/notice/list.html",
}
_PREFIX = {
    "demo_pbc": "/pbc/",
    "demo_ums": "/ums/",
    "demo_unionpay": "/unionpay/",
    "demo_lakala": "/lakala/",
}


def _skeleton(title: str, site: str, main: str, noise: Noise, charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}"><title>{escape(title)}</title>
<!-- page built for session {noise.token} -->
<script>window.__token = "{noise.token}"; var visits = {noise.views};</script>
</head><body data-token="{noise.token}">
<div class="topbar"><span class="clock">当前时间：{noise.clock}</span></div>
<nav class="nav"><a href="/">首页</a> | <a href="#">通知公告</a> | <a href="#">联系我们</a></nav>
<div class="banner">{escape(noise.banner)}</div>
{main}
<footer class="footer"><p>{escape(site)} 版权所有（演示站点，内容均为虚构）</p>
<p>本站访问量：{noise.views}</p></footer>
</body></html>
"""


def _paras(n: DemoNotice, cell: Callable[[str], str] = escape) -> str:
    out = [f"<p>{escape(p)}</p>" for p in n.paragraphs]
    if n.table:
        head, *rows = n.table
        out.append('<table border="1" cellspacing="0">')
        out.append("<tr>" + "".join(f"<th>{escape(c)}</th>" for c in head) + "</tr>")
        out.extend("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
        out.append("</table>")
    if n.signature:
        out.append(f'<p class="sign">{escape(n.signature)}</p>')
        out.append(f'<p class="sign">{ymd(n.published)}</p>')
    return "\n".join(out)


def _html(status: int, text: str, charset: str = "utf-8", label: str = "utf-8") -> Page:
    return Page(status, f"text/html; charset={label}", text.encode(charset))


# ---------------------------------------------------------------- demo_pbc: paginated list


def _pbc_list(items: tuple[DemoNotice, ...], page: int, noise: Noise) -> Page | None:
    pages = max(1, -(-len(items) // _PBC_PAGE_SIZE))
    if not 1 <= page <= pages:
        return None
    rows = "\n".join(
        f'<tr><td><font class="newslist_style"><a href="{notice_path(n)}" '
        f'title="{escape(n.title)}">{escape(n.title)}</a></font>'
        f'<span class="hui12">{n.published:%Y-%m-%d}</span></td></tr>'
        for n in items[(page - 1) * _PBC_PAGE_SIZE : page * _PBC_PAGE_SIZE]
    )
    pager = [f"共{len(items)}条 第{page}/{pages}页"]
    if page > 1:
        prev = "list.html" if page == 2 else f"list_{page - 1}.html"
        pager.append(f'<a class="prev" href="{prev}">上一页</a>')
    if page < pages:
        pager.append(f'<a class="next" href="list_{page + 1}.html">下一页</a>')
    main = (
        f'<div id="r_con"><h2 class="column-title">支付结算 · 通知公告</h2>\n'
        f'<table class="list">\n{rows}\n</table>\n'
        f'<div class="pager">{" ".join(pager)}</div></div>'
    )
    return _html(200, _skeleton("通知公告_人民银行（演示）", "人民银行（演示）", main, noise))


def _pbc_detail(n: DemoNotice, noise: Noise) -> Page:
    main = (
        f'<div id="r_con"><div class="detail"><h2 class="title">{escape(n.title)}</h2>\n'
        f'<div class="meta"><span class="pubdate">发布时间：{n.published:%Y-%m-%d}</span>'
        f'</div>\n<div id="zoom">\n<p>浏览次数：{noise.views}</p>\n{_paras(n)}\n</div>'
        "</div></div>"
    )
    return _html(200, _skeleton(n.title, "人民银行（演示）", main, noise))


# ---------------------------------------------------------------- demo_ums: GBK, TRS style


def _ums_cell(text: str) -> str:
    # TRS editors wrap 月 in its own span; extraction must still read "10月8日"
    return escape(text).replace("月", "<span>月</span>")


def _ums_list(items: tuple[DemoNotice, ...], noise: Noise) -> Page:
    rows = "\n".join(
        f'<li><span class="time">{n.published:%Y-%m-%d}</span>'
        f'<a href="{notice_path(n)}" target="_blank">{escape(n.title)}</a></li>'
        for n in items
    )
    main = f'<div class="main"><h2>公司公告</h2><ul class="gsgg-list">\n{rows}\n</ul></div>'
    text = _skeleton("公司公告_银联商务（演示）", "银联商务（演示）", main, noise, "gbk")
    return _html(200, text, "gbk", "GBK")


def _ums_detail(n: DemoNotice, noise: Noise) -> Page:
    main = (
        f'<div class="main"><div class="article"><h1 class="art-title">{escape(n.title)}</h1>\n'
        f'<div class="art-info">时间：{n.published:%Y-%m-%d}　来源：银联商务（演示）</div>\n'
        f'<div class="art-content">\n<p>当前时间：{noise.clock}</p>\n'
        f"<p>浏览次数：{noise.views}次</p>\n{_paras(n, _ums_cell)}\n</div></div></div>"
    )
    return _html(200, _skeleton(n.title, "银联商务（演示）", main, noise, "gbk"), "gbk", "GBK")


# ---------------------------------------------------------------- demo_unionpay: RSS feed


def _rfc822(d: dt.date) -> str:
    return email.utils.format_datetime(dt.datetime(d.year, d.month, d.day, 10, 0, tzinfo=_CST))


def _build_date(noise: Noise) -> str:
    now = dt.datetime.strptime(noise.clock, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_CST)
    return email.utils.format_datetime(now)


def _unionpay_feed(items: tuple[DemoNotice, ...], base: str, noise: Noise) -> Page:
    entries = "\n".join(
        f"<item><title>{escape(n.title)}</title><link>{base}{notice_path(n)}</link>"
        f'<guid isPermaLink="true">{base}{notice_path(n)}</guid>'
        f"<pubDate>{_rfc822(n.published)}</pubDate>"
        f"<description>{escape(n.paragraphs[1] if len(n.paragraphs) > 1 else '')}"
        "</description></item>"
        for n in items
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>中国银联（演示）业务公告</title><link>{base}/unionpay/</link>
<description>{escape(noise.banner)}</description>
<lastBuildDate>{_build_date(noise)}</lastBuildDate>
<!-- feed cache key {noise.token} -->
{entries}
</channel></rss>
"""
    return Page(200, "application/rss+xml; charset=utf-8", xml.encode("utf-8"))


def _unionpay_detail(n: DemoNotice, noise: Noise) -> Page:
    main = (
        f'<main><article class="notice"><h1>{escape(n.title)}</h1>\n'
        f'<div class="notice-meta"><time datetime="{n.published.isoformat()}">'
        f"{ymd(n.published)}</time></div>\n"
        f'<div class="notice-body">\n<p>阅读量：{noise.views}</p>\n{_paras(n)}\n</div>'
        "</article></main>"
    )
    return _html(200, _skeleton(n.title, "中国银联（演示）", main, noise))


# ---------------------------------------------------------------- demo_lakala: fails in week 2


def _lakala_list(items: tuple[DemoNotice, ...], noise: Noise) -> Page:
    rows = "\n".join(
        f'<div class="notice-item"><a class="notice-title" href="{notice_path(n)}">'
        f'{escape(n.title)}</a><p class="notice-date">发布日期：{n.published:%Y-%m-%d}</p></div>'
        for n in items
    )
    main = f'<div class="notice-list">\n{rows}\n</div>'
    return _html(200, _skeleton("商户公告_拉卡拉（演示）", "拉卡拉（演示）", main, noise))


def _lakala_detail(n: DemoNotice, noise: Noise) -> Page:
    # .qr-follow is inside the body and rotates: only the declaration's `remove` drops it
    main = (
        f'<div class="content"><h3 class="ntitle">{escape(n.title)}</h3>\n'
        f'<p class="ndate">{n.published:%Y-%m-%d}</p>\n<div class="ntext">\n'
        f"<p>浏览次数：{noise.views}</p>\n{_paras(n)}\n"
        f'<div class="qr-follow">扫码关注拉卡拉服务号，今日推荐：{escape(noise.banner)}</div>'
        "\n</div></div>"
    )
    return _html(200, _skeleton(n.title, "拉卡拉（演示）", main, noise))


_UNAVAILABLE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>503</title></head>'
    "<body><h1>503 Service Unavailable</h1><p>系统繁忙，请稍后再试。</p></body></html>"
)


def _index(base: str, noise: Noise) -> Page:
    links = "\n".join(f'<li><a href="{base}{p}">{s}</a></li>' for s, p in LISTING_PATHS.items())
    main = f'<div class="main"><h1>settlewatch 演示公告站点</h1><ul>\n{links}\n</ul></div>'
    return _html(200, _skeleton("settlewatch demo", "settlewatch 演示", main, noise))


def _source_page(
    source_id: str, path: str, week: int, today: dt.date, base: str, noise: Noise
) -> Page | None:
    items = notices(source_id, week, today)
    if path == LISTING_PATHS[source_id]:
        return {
            "demo_pbc": lambda: _pbc_list(items, 1, noise),
            "demo_ums": lambda: _ums_list(items, noise),
            "demo_unionpay": lambda: _unionpay_feed(items, base, noise),
            "demo_lakala": lambda: _lakala_list(items, noise),
        }[source_id]()
    if source_id == "demo_pbc" and path.startswith("/pbc/list_") and path.endswith(".html"):
        number = path[len("/pbc/list_") : -len(".html")]
        return _pbc_list(items, int(number), noise) if number.isdigit() else None
    by_path = {notice_path(n): n for n in items}
    if path not in by_path:
        return None
    detail = {
        "demo_pbc": _pbc_detail,
        "demo_ums": _ums_detail,
        "demo_unionpay": _unionpay_detail,
        "demo_lakala": _lakala_detail,
    }[source_id]
    return detail(by_path[path], noise)


def render(path: str, *, week: int, today: dt.date, base: str, noise: Noise) -> Page:
    """The response for ``path`` (no query string) on the demo site in ``week``."""
    if path == "/robots.txt":
        return Page(200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")
    if path in ("/", "/index.html"):
        return _index(base, noise)
    for source_id in SOURCE_IDS:
        if path.startswith(_PREFIX[source_id]):
            if source_id == "demo_lakala" and week == 2:
                return Page(
                    503,
                    "text/html; charset=utf-8",
                    _UNAVAILABLE.encode("utf-8"),
                    (("Retry-After", "120"),),
                )
            page = _source_page(source_id, path, week, today, base, noise)
            if page is not None:
                return page
            break
    return Page(
        404,
        "text/html; charset=utf-8",
        b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>",
    )
