"""Run crawls in this process: one spider (one Scrapy Crawler) for all the run ids given.

    python -m crawler.run --db URL [--render-js] RUN_ID ...
    python -m crawler.run --stdin

Scrapy's reactor cannot restart inside a long-lived process, so settlewatch starts this as a
child. With ``--stdin`` it starts before anything is known and imports Scrapy while the caller
takes leases and creates runs (``settlewatch crawl`` starts it before its own imports); then
it reads one JSON line, ``{"db": URL, "groups": [[1, 2], [3]], "render_js": false,
"env": {"SETTLEWATCH_USER_AGENT": ...}}``. An empty line or end of input: nothing to crawl.

Several groups crawl in parallel: the process forks one crawler per group once Scrapy is
imported (crawler.process), so the imports (~0.7 s of CPU) are paid once however many cores crawl. It waits
for them, passes SIGTERM and SIGINT on (Scrapy closes the spiders cleanly), and exits with the
first failing crawler's code. A crawler dies with it (PR_SET_PDEATHSIG), so killing this
process stops the whole crawl.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from types import FrameType
from typing import NoReturn

from settlewatch import gctune

PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class Order:
    """What a ``--stdin`` crawler is told to do."""

    db: str
    groups: list[list[int]]
    render_js: bool = False
    env: dict[str, str] = field(default_factory=dict)


def parse_order(line: str) -> Order | None:
    """The JSON line on stdin; None for an empty one. ValueError when it is malformed."""
    if not line.strip():
        return None
    data = json.loads(line)
    groups = [[int(r) for r in g] for g in data["groups"]]
    env = {str(k): str(v) for k, v in (data.get("env") or {}).items()}
    return Order(str(data["db"]), [g for g in groups if g], bool(data.get("render_js")), env)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies (Linux), closing the race with a check."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _forked_crawler(parent: int, db: str, group: list[int], render_js: bool) -> NoReturn:
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # Scrapy installs its own handlers
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with_parent(parent)
        from crawler.process import crawl  # imported by main() before the forks

        code = crawl(db, group, render_js)
    except BaseException:  # reported here: os._exit below skips the interpreter's report
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def crawl_forked(db: str, groups: list[list[int]], render_js: bool) -> int:
    """One forked crawler per group; returns the first nonzero exit code, else 0."""
    children: list[int] = []

    stopping: list[int] = []

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    # before forking, so that a stop asked for meanwhile reaches the crawlers too
    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    parent = os.getpid()
    for group in groups:
        pid = os.fork()
        if pid == 0:
            _forked_crawler(parent, db, group, render_js)
        children.append(pid)
        if stopping:  # asked to stop while forking: this one too
            os.kill(pid, stopping[0])
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    failed = [c if c > 0 else 128 - c for c in codes if c != 0]  # killed by signal n: 128 + n
    return failed[0] if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.run")
    parser.add_argument("--db", help="database URL (with run ids)")
    parser.add_argument(
        "--render-js",
        action="store_true",
        help="enable Playwright rendering for sources that declare render_js",
    )
    parser.add_argument("--stdin", action="store_true", help="read a JSON order from stdin")
    parser.add_argument("run_ids", nargs="*", type=int)
    args = parser.parse_args(argv)
    gctune.collect_less()  # before importing Scrapy: see settlewatch.gctune
    from crawler import process

    if args.stdin:
        process.preload_components(process.build_settings(""))
        gctune.for_short_run()  # after the imports, before the forks
        line = sys.stdin.readline()
        try:
            order = parse_order(line)
        except (ValueError, KeyError, TypeError) as exc:
            parser.error(f"stdin: expected a JSON order ({exc!r}), got {line.strip()[:200]!r}")
        if order is None:
            return 0
        os.environ.update(order.env)
    elif args.db and args.run_ids:
        order = Order(args.db, [args.run_ids], args.render_js)
        gctune.for_short_run()
    else:
        parser.error("give --db and run ids, or --stdin")
    if not order.groups:
        return 0
    if len(order.groups) == 1 or not hasattr(os, "fork"):
        return process.crawl(order.db, [r for g in order.groups for r in g], order.render_js)
    code = crawl_forked(order.db, order.groups, order.render_js)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # nothing to clean up here but Scrapy's modules: skip the interpreter's


if __name__ == "__main__":
    raise SystemExit(main())
