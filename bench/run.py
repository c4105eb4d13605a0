"""Run the benchmarks and record the figures: ``python -m bench.run`` (``make bench``).

    python -m bench.run                      # full size, 3 repetitions, updates bench/RESULTS.md
    python -m bench.run --quick              # a small site, 1 repetition, prints only
    python -m bench.run --only crawl,digests --json-out /tmp/after.json --baseline /tmp/before.json

Crawls run as a user runs them (``settlewatch --db … --sources … crawl``) against a generated
site served on 127.0.0.2, 127.0.0.3, …; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import micro, report, sitegen
from bench.crawlbench import SCENARIOS, cycle
from bench.measure import machine
from bench.siteserver import ServerProcess

STAGES = ("crawl", "classify", "digests", "queue")
RESULTS = Path(__file__).with_name("RESULTS.md")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--sources", type=int, default=50, help="sources (N); default 50")
    p.add_argument("--notices", type=int, default=40, help="notices per source (M); default 40")
    p.add_argument("--changes", type=int, default=20, help="real changes (K); default 20")
    p.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported")
    p.add_argument("--classify", type=int, default=10_000, help="changes to classify")
    p.add_argument("--merchants", type=int, default=10_000, help="merchant digests to render")
    p.add_argument(
        "--digest-findings", type=int, default=40, help="approved findings in the digest period"
    )
    p.add_argument("--pending", type=int, default=10_000, help="pending findings in the queue")
    p.add_argument(
        "--history-crawls",
        type=int,
        default=250,
        help="past unchanged crawls that age the store of the history scenario (default 250)",
    )
    p.add_argument(
        "--history-digests",
        type=int,
        default=50_000,
        help="sent digests in the aged store (default 50,000); 0 and 0 skip the scenario",
    )
    p.add_argument("--only", default=",".join(STAGES), help=f"comma list of {', '.join(STAGES)}")
    p.add_argument("--quick", action="store_true", help="4×10 site, 1 run, 1,000 of the rest")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed per crawl")
    p.add_argument(
        "--quiet",
        type=float,
        default=0.25,
        metavar="FRACTION",
        help="before each crawl, wait until the cores are at most this busy (default 0.25)",
    )
    p.add_argument(
        "--max-wait", type=float, default=180, help="seconds to wait for --quiet (default 180)"
    )
    p.add_argument("--workdir", type=Path, help="keep the site and databases here")
    p.add_argument("--db", help="database URL for the crawls (default: SQLite in the workdir)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--label", default="", help="a name for this run in RESULTS.md")
    p.add_argument("--json-out", type=Path, help="also save the raw figures here")
    p.add_argument("--baseline", type=Path, help="raw figures of an earlier run to compare with")
    p.add_argument(
        "--results",
        type=Path,
        help="markdown file to update (default: bench/RESULTS.md, not with --quick); '-' = none",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.sources, args.notices, args.changes, args.repeat = 4, 10, 4, 1
        args.classify, args.merchants, args.pending = 1000, 1000, 1000
        args.history_crawls, args.history_digests = 20, 1000
    unknown = set(args.only.split(",")) - set(STAGES)
    if unknown:
        p.error(
            f"--only: unknown stage(s) {', '.join(sorted(unknown))} (one of {', '.join(STAGES)})"
        )
    if args.db and args.repeat > 1 and "crawl" in args.only:
        p.error("--db: each repetition needs a fresh database; use --repeat 1 with --db")
    return args


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    stages = args.only.split(",")
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    results: dict[str, Any] = {
        "label": args.label,
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_start": os.getloadavg()[0],
        "params": {
            "sources": args.sources,
            "notices": args.notices,
            "changes": args.changes,
            "repeat": args.repeat,
            "classify": args.classify,
            "merchants": args.merchants,
            "digest_findings": args.digest_findings,
            "pending": args.pending,
            "history": [args.history_crawls, args.history_digests],
            "db": "custom" if args.db else "SQLite (one file)",
        },
    }
    if "crawl" in stages:
        site_dir = workdir / "site"
        sitegen.save(sitegen.generate(args.sources, args.notices), site_dir)
        crawl: dict[str, list[dict[str, Any]]] = {s: [] for s in SCENARIOS}
        with ServerProcess(site_dir) as server:
            say(
                f"site: {args.sources} sources on {min(server.bases.values())} … {max(server.bases.values())}"
            )
            for rep in range(args.repeat):
                rep_dir = workdir / f"rep{rep}"
                rep_dir.mkdir(exist_ok=True)
                for fig in cycle(
                    rep,
                    rep_dir,
                    server,
                    sources=args.sources,
                    notices=args.notices,
                    k=args.changes,
                    timeout=args.timeout,
                    db_url=args.db,
                    quiet=(args.quiet, args.max_wait),
                    history=(args.history_crawls, args.history_digests),
                    progress=say,
                ):
                    crawl[fig.scenario].append(
                        {
                            **dataclasses.asdict(fig),
                            "pages_per_s": fig.pages_per_s,
                            "pages_per_cpu_s": fig.pages_per_cpu_s,
                        }
                    )
        results["crawl"] = crawl
    if "classify" in stages:
        results["classify"] = micro.bench_classify(args.classify, args.repeat, say)
    if "digests" in stages:
        results["digests"] = micro.bench_digests(
            workdir, args.merchants, args.digest_findings, args.repeat, say
        )
    if "queue" in stages:
        results["queue"] = micro.bench_queue(workdir, args.pending, args.repeat, say)
        results["queue_pending"] = not micro.web_available()
    results["load_end"] = os.getloadavg()[0]
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="settlewatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    block = report.render(results, baseline)
    print(block)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    target = args.results if args.results else (None if args.quick else RESULTS)
    if target is not None and str(target) != "-":
        report.write_results(target, block)
        print(f"updated {target}", file=sys.stderr)
    failed = report.failures(results)
    if failed:
        print("targets missed: " + "; ".join(failed), file=sys.stderr)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
