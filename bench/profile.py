"""Profile one crawl in its three stages: fetch (crawler), prepare (workers), apply (tracking).

    python -m bench.profile --scenario first --out /tmp/prof   [--sources 50 --notices 40]

It does what ``settlewatch crawl`` does (runs created, ``python -m crawler.run`` over them,
then ``prepare_run`` and ``track_run`` per run), but runs the crawler under pyinstrument and
prepares and tracks under pyinstrument Profilers in this process (the workers' share one after
another). Reports per stage (fetch, prepare, apply): OUT/STAGE.txt,
OUT/STAGE-all.txt (library frames too) and OUT/STAGE-flat.txt (functions by self time). For ``unchanged`` and ``noise`` an unprofiled first crawl comes before.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import time
from pathlib import Path

from pyinstrument import Profiler

from bench import sitegen
from bench.crawlbench import SETTLEWATCH, clean_env
from bench.siteserver import ServerProcess
from settlewatch.config import load_config
from settlewatch.prepare import prepare_run
from settlewatch.source import load_sources
from settlewatch.store.crawls import create_run, sync_sources
from settlewatch.store.db import begin_write, open_store, utcnow
from settlewatch.taxonomy import load_taxonomy
from settlewatch.track import track_run


def render_reports(out: Path, stage: str) -> None:
    """STAGE.txt (the call tree), STAGE-all.txt (library frames too), STAGE-flat.txt (self time)."""
    session = str(out / f"{stage}.pyisession")
    base = [sys.executable, "-m", "pyinstrument", "--load", session]
    subprocess.run([*base, "-r", "text", "-o", str(out / f"{stage}.txt")], check=True)
    subprocess.run(
        [
            *base,
            "-r",
            "text",
            "--show-all",
            "-p",
            "processor_options.filter_threshold=0.005",
            "-o",
            str(out / f"{stage}-all.txt"),
        ],
        check=True,
    )
    subprocess.run([*base, "-r", "pstats", "-o", str(out / f"{stage}.pstats")], check=True)
    with open(out / f"{stage}-flat.txt", "w") as fh:
        stats = pstats.Stats(str(out / f"{stage}.pstats"), stream=fh)
        stats.sort_stats("tottime").print_stats(40)


def profile_crawl(db_url: str, decl_dir: Path, out: Path, interval: float) -> None:
    engine = open_store(db_url)
    decls = list(load_sources(decl_dir).values())
    with begin_write(engine) as conn:
        sync_sources(conn, decls)
        runs = [create_run(conn, d.id, "bench") for d in decls]
    env = clean_env()
    cmd = [sys.executable, "-m", "pyinstrument", "--interval", str(interval)]
    cmd += ["-r", "pyisession", "-o", str(out / "fetch.pyisession")]
    cmd += ["-m", "crawler.run", "--db", db_url, *map(str, runs)]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, timeout=1800)
    fetch_s = time.perf_counter() - t0
    taxonomy = load_taxonomy()
    days = load_config().get_int("baseline_days")
    now = utcnow()
    timings = {"fetch": fetch_s}
    # tracking as settlewatch.crawl does it after a large fetch: workers prepare (here one
    # after another, in this process), then each run is applied in its own transaction
    prepared = {}
    with Profiler(interval=interval) as prep:
        t0 = time.perf_counter()
        for run_id in runs:
            prepared[run_id] = prepare_run(engine, run_id, taxonomy, now)
        timings["prepare"] = time.perf_counter() - t0
    with Profiler(interval=interval) as apply:
        t0 = time.perf_counter()
        for run_id in runs:
            track_run(
                engine, run_id, taxonomy, now=now, baseline_days=days, prepared=prepared[run_id]
            )
        timings["apply"] = time.perf_counter() - t0
    for stage, profiler in (("prepare", prep), ("apply", apply)):
        session = profiler.last_session
        assert session is not None, "the profiler recorded nothing"
        session.save(str(out / f"{stage}.pyisession"))
    for stage in timings:
        render_reports(out, stage)
    figures = ", ".join(f"{stage} {s:.2f} s" for stage, s in timings.items())
    print(f"{figures} (profiled); reports in {out}")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--scenario", choices=("first", "unchanged", "noise"), default="first")
    p.add_argument("--sources", type=int, default=50)
    p.add_argument("--notices", type=int, default=40)
    p.add_argument("--interval", type=float, default=0.001)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    site_dir = args.out / "site"
    site = sitegen.generate(args.sources, args.notices)
    sitegen.save(site, site_dir)
    db_url = f"sqlite:///{args.out / 'profile.db'}"
    (args.out / "profile.db").unlink(missing_ok=True)
    with ServerProcess(site_dir) as server:
        decl_dir = args.out / "decls"
        sitegen.write_decls(site, decl_dir, server.bases)
        if args.scenario != "first":
            subprocess.run(
                [SETTLEWATCH, "--db", db_url, "--sources", str(decl_dir), "crawl", "--json"],
                env=clean_env(),
                cwd=args.out,
                check=True,
                capture_output=True,
                timeout=1800,
            )
        if args.scenario == "noise":
            sitegen.save(sitegen.touch(site), site_dir)
            server.reload()
        profile_crawl(db_url, decl_dir, args.out, args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
