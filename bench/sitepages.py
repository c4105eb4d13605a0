"""Render the benchmark site: listing and notice pages of three CMS layouts, noise included.

``render`` is pure: the site, a source and a path in, a ``Page`` out. Noise is drawn from a
hash of (seed, epoch, path), so one epoch serves identical bytes (the server's ETag then
answers 304) and the next epoch changes every page. Noise sits where real boards put it:
a clock line and a view counter inside the notice body, a session token in a script and a
hidden form field, a rotating banner, and re-indented markup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from html import escape

from bench.sitegen import PAGE_SIZE, Notice, Site, Source, notice_path

BANNERS = (
    "岁末收单服务月：刷卡满额赢好礼",
    "商户服务热线升级，7×24小时在线",
    "新春备货季：商户经营贷限时优惠",
    "关注服务号，结算通知早知道",
    "“码上有礼”活动火热进行中",
)
ROBOTS = b"User-agent: *\nAllow: /\n"


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Noise:
    clock: str
    views: int
    token: str
    banner: str
    indent: str


def noise_for(site: Site, key: str) -> Noise:
    digest = hashlib.sha256(f"{site.seed}:{site.epoch}:{key}".encode()).hexdigest()
    base = dt.datetime.fromisoformat(site.today) + dt.timedelta(hours=8 + site.epoch)
    clock = base + dt.timedelta(seconds=int(digest[:6], 16) % 3600)
    return Noise(
        clock=f"{clock:%Y-%m-%d %H:%M:%S}",
        views=1000 + int(digest[6:12], 16) % 90000,
        token="s" + digest[12:44] + "9",  # letters and digits: what session ids look like
        banner=BANNERS[(site.epoch + int(digest[44:46], 16)) % len(BANNERS)],
        indent=" " * (site.epoch % 4) + "\t" * (int(digest[46], 16) % 2),
    )


def _head(title: str, charset: str, noise: Noise) -> str:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        if charset == "gbk"
        else f'<meta charset="{charset}">'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head>{meta}<title>{escape(title)}</title>\n'
        f'<script>var _sid="{noise.token}"; var _pv={noise.views};</script></head>\n'
        f'<body data-sid="{noise.token}">\n<div class="topbar"><span class="clock">'
        f"当前时间：{noise.clock}</span></div>\n"
        f'<nav class="nav"><a href="/">首页</a> | <a href="/list/index.html">通知公告</a></nav>\n'
        f'<div class="banner">{escape(noise.banner)}</div>\n'
    )


def _foot(noise: Noise) -> str:
    return (
        f'<form action="/search"><input type="hidden" name="csrf" value="{noise.token}">'
        '<input name="q"></form>\n'
        f'<footer class="footer"><p>版权所有 基准测试支付（虚构）</p><p>本站访问量：{noise.views}'
        "</p></footer>\n</body></html>\n"
    )


def _paras(notice: Notice, noise: Noise) -> str:
    sep = "\n" + noise.indent
    return sep + sep.join(f"<p>{escape(p)}</p>" for p in notice.paragraphs)


def _notice_main(src: Source, n: Notice, noise: Noise) -> str:
    title = escape(n.title)
    if src.layout == "article":
        return (
            f'<div class="article"><h1>{title}</h1>\n<div class="meta">发布日期：{n.published}'
            f'</div>\n<div class="body"><p>浏览次数：{noise.views}</p>{_paras(n, noise)}\n'
            f"<p>页面生成时间：{noise.clock}</p></div></div>\n"
        )
    if src.layout == "trs":
        return (
            '<table width="100%" class="detail"><tr><td class="title">'
            f'{title}</td></tr>\n<tr><td class="pubdate">发布时间：{n.published}</td></tr>\n'
            f'<tr><td><div id="zoom">{_paras(n, noise)}\n<p>阅读次数：{noise.views}次</p>'
            "</div></td></tr></table>\n"
        )
    return (
        f'<main><article><h1>{title}</h1>\n<p class="date"><time datetime="{n.published}">'
        f"{n.published}</time></p>\n<p>阅读量：{noise.views}</p>{_paras(n, noise)}\n"
        f'</article><aside class="sidebar">热门推荐：{escape(noise.banner)}</aside></main>\n'
    )


def _page(src: Source, title: str, main: str, noise: Noise) -> Page:
    text = _head(title, src.charset, noise) + main + _foot(noise)
    # Half the GBK boards label only the <meta>, as old CMSs do; the header says text/html.
    label = "text/html" if src.layout == "trs" and int(src.id[-1]) % 2 else None
    content_type = label or f"text/html; charset={src.charset.upper()}"
    return Page(200, content_type, text.encode(src.charset))


def listing_path(page: int) -> str:
    return "/list/index.html" if page == 1 else f"/list/index_{page}.html"


def _listing(site: Site, src: Source, page: int) -> Page | None:
    pages = max(1, -(-len(src.notices) // PAGE_SIZE))
    if not 1 <= page <= pages:
        return None
    noise = noise_for(site, f"{src.id}:{listing_path(page)}")
    rows = "\n".join(
        f'<li class="row"><a href="{notice_path(n)}" title="{escape(n.title)}">'
        f'{escape(n.title)}</a><span class="date">{n.published}</span></li>'
        for n in src.notices[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    )
    nxt = f' <a class="next" href="{listing_path(page + 1)}">下一页</a>' if page < pages else ""
    main = (
        f'<div class="main"><h2>通知公告</h2>\n<ul class="list">\n{rows}\n</ul>\n'
        f'<div class="pager">共{len(src.notices)}条 第{page}/{pages}页{nxt}</div>\n'
        f'<div class="counter">访问量：{noise.views}</div></div>\n'
    )
    return _page(src, "通知公告", main, noise)


def all_pages(site: Site, src: Source) -> dict[str, Page]:
    """Every page of one source, keyed by path (what the server pre-renders per epoch)."""
    pages = {"/robots.txt": Page(200, "text/plain", ROBOTS)}
    count = max(1, -(-len(src.notices) // PAGE_SIZE))
    for p in range(1, count + 1):
        page = _listing(site, src, p)
        if page is not None:
            pages[listing_path(p)] = page
    for n in src.notices:
        noise = noise_for(site, f"{src.id}:{notice_path(n)}")
        pages[notice_path(n)] = _page(src, n.title, _notice_main(src, n, noise), noise)
    return pages
