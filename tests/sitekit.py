"""Build small notice boards on a FixtureServer and declare them as sources."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from settlewatch.cli import cli
from tests.httpfixture import FixtureServer, Route

NOISE = '<div class="counter">浏览次数：{n}</div><p>当前时间：2026-11-27 10:{n:02d}:00</p>'


def listing_html(
    items: list[tuple[str, str, str]],
    next_href: str | None = None,
    noise: int = 1,
    charset: str = "utf-8",
) -> str:
    rows = "".join(
        f'<li class="row"><a href="{href}">{title}</a><span class="date">{date}</span></li>'
        for href, title, date in items
    )
    nxt = f'<a class="next" href="{next_href}">下一页</a>' if next_href else ""
    return (
        f'<html><head><meta charset="{charset}"><title>通知公告</title></head><body>'
        f'<nav>首页 | 公告</nav><ul class="list">{rows}</ul>{nxt}'
        f"{NOISE.format(n=noise)}<footer>版权所有</footer></body></html>"
    )


def notice_html(title: str, date: str, body: str, noise: int = 1, charset: str = "utf-8") -> str:
    return (
        f'<html><head><meta charset="{charset}"><title>{title}</title></head><body>'
        f'<nav>首页</nav><div class="article"><h1>{title}</h1>'
        f'<div class="meta">发布日期：{date}</div><div class="body">{body}</div></div>'
        f'{NOISE.format(n=noise)}<script>var token="a8f9c2d1e4b7a6f5c3d2e1f0a9b8c7d6";</script>'
        f"<footer>版权所有</footer></body></html>"
    )


def declare(
    folder: Path,
    source_id: str,
    base: str,
    kind: str = "acquirer",
    listing: str = "/list/index.html",
    extra: str = "",
    feed: bool = False,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if feed:
        listing_block = f"  - url: {base}{listing}\n    type: feed\n"
    else:
        listing_block = (
            f"  - url: {base}{listing}\n    item: li.row\n    link: a\n"
            f"    date: span.date\n    next_page: a.next\n    max_pages: 3\n"
        )
    path = folder / f"{source_id}.yaml"
    path.write_text(
        f"id: {source_id}\nname: Test board {source_id}\nauthority: {source_id}\nkind: {kind}\n"
        f"listings:\n{listing_block}notice:\n  body: div.body\n  title: h1\n"
        f"  date: div.meta\n{extra}",
        encoding="utf-8",
    )
    return path


def run(args: list[str], db: str, sources: Path | None = None, **env: str) -> Result:
    base = ["--db", db] + (["--sources", str(sources)] if sources else [])
    return CliRunner().invoke(cli, base + args, env=env, catch_exceptions=False)


def changes(db: str) -> list[dict[str, Any]]:
    res = run(["changes", "list", "--json"], db)
    assert res.exit_code == 0, res.output
    data: list[dict[str, Any]] = json.loads(res.stdout)
    return data


def health(db: str) -> dict[str, dict[str, Any]]:
    res = run(["sources", "list", "--json"], db)
    assert res.exit_code == 0, res.output
    return {r["id"]: r for r in json.loads(res.stdout)}


def simple_board(
    site: FixtureServer,
    n: int = 3,
    noise: int = 1,
    fee: str = "0.38%",
    charset: str = "utf-8",
    prefix: str = "",
) -> None:
    items = []
    for i in range(1, n + 1):
        href = f"{prefix}/notice/{i}.html"
        title = f"关于调整商户手续费率的公告{i}" if i == 1 else f"关于系统维护的公告{i}"
        body = (
            f"<p>自2026年12月{i}日起，扫码支付手续费率调整为{fee}。</p>"
            if i == 1
            else f"<p>我司将于2026年12月{i}日凌晨2:00至6:00进行系统维护，届时D0实时到账暂停。</p>"
        )
        site.html(href, notice_html(title, f"2026-11-{20 + i}", body, noise, charset), charset)
        items.append((href, title, f"2026-11-{20 + i}"))
    site.html(
        f"{prefix}/list/index.html", listing_html(items, noise=noise, charset=charset), charset
    )


def slow_board(site: FixtureServer, n: int = 6, delay: float = 0.6) -> None:
    """simple_board whose notice pages each take ``delay`` seconds to answer."""
    simple_board(site, n=n)
    for path, route in site.routes.items():
        if path.startswith("/notice/") and isinstance(route, Route):
            route.delay = delay


def wait_for(cond: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def fetching(site: FixtureServer, timeout: float = 60) -> None:
    """Wait until a crawler has asked ``site`` for a notice page (the fetch is under way)."""
    wait_for(
        lambda: any(path.startswith("/notice/") for path, _h in site.requests),
        timeout,
        "a crawler to ask for a notice",
    )


def live_processes() -> Iterator[tuple[int, list[str], list[bytes]]]:
    """(pid, /proc/PID/stat fields after the command name, command line) of every live
    process; zombies left out."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if stat[0] != "Z":
            yield int(entry.name), stat, cmdline
