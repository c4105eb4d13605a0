"""The crawl scenarios: first crawl, unchanged (on the fresh store and on an aged copy of it),
noise-only and K real changes, as a user runs them.

Each crawl is ``settlewatch --db URL --sources DIR crawl --json`` in a fresh process (the CLI
starts its own crawler child). One cycle works on a fresh database and a freshly generated
site: first → unchanged (the server answers 304) → history (unchanged again, on a copy of the
store aged by weeks of past crawls and digests: bench.history) → noise only (every page's
bytes differ) → K real changes (scored against the truth file with ``settlewatch changes
list --json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, inspect, select

from bench import sitegen
from bench.history import aged_copy
from bench.measure import TICK, Measured, run_measured, system_cpu_s, wait_quiet
from bench.siteserver import ServerProcess
from settlewatch.store.db import make_engine
from settlewatch.store.schema import blobs, changes, findings, notices, snapshots, versions

SCENARIOS = ("first", "unchanged", "history", "noise", "changes")
TABLES = {
    "snapshots": snapshots,
    "blobs": blobs,
    "notices": notices,
    "versions": versions,
    "changes": changes,
    "findings": findings,
}
SETTLEWATCH = str(Path(sys.executable).with_name("settlewatch"))


@dataclass(frozen=True)
class CrawlFigures:
    scenario: str
    pages: int  # Snapshots this crawl stored
    wall_s: float
    cpu_s: float
    peak_rss_mb: float  # the largest process
    total_rss_mb: float  # the tree's processes at one moment, added up
    startup_s: float  # from the command's start to the crawler child's
    fetch_wall_s: float  # the crawler child process
    fetch_cpu_s: float
    fetch_rss_mb: float
    track_wall_s: float  # the settlewatch process after the crawler exited
    track_cpu_s: float  # the settlewatch process: startup, leases, tracking
    track_rss_mb: float
    server_cpu_s: float  # the site server, for scale
    background_cpu_s: float  # other processes on the machine during the crawl
    busy_before: float  # how busy the cores were just before (0..1)
    changes: dict[str, int]  # kind → count, from the crawl's JSON summary
    new_rows: dict[str, int]  # table → rows added by this crawl
    responses: dict[str, int]  # HTTP status → count, as the server saw them
    precision: float | None = None
    recall: float | None = None
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0

    @property
    def pages_per_cpu_s(self) -> float:
        """Pages per CPU-second of the crawl's processes: steadier than wall time on a busy box."""
        return self.pages / self.cpu_s if self.cpu_s else 0.0


PYCACHE = Path(tempfile.gettempdir()) / "settlewatch-bench-pycache"


def clean_env() -> dict[str, str]:
    """The caller's environment without SETTLEWATCH_* settings, so only our flags count.

    Bytecode is cached (outside the source tree) as in an installed deployment: with
    PYTHONDONTWRITEBYTECODE every crawl would recompile settlewatch, ~0.8 s per process.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETTLEWATCH_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def warm_up(workdir: Path) -> None:
    """Compile and load what a crawl imports once, so the first measured crawl is not special."""
    env = clean_env()
    subprocess.run([SETTLEWATCH, "--help"], env=env, cwd=workdir, capture_output=True, check=True)
    code = "import crawler.run, crawler.spiders.notices, settlewatch.track, settlewatch.crawl"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=workdir, check=True)


def count_rows(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        if not inspect(engine).has_table("snapshots"):  # a fresh store: the crawl migrates it
            return dict.fromkeys(TABLES, 0)
        with engine.connect() as conn:
            return {
                name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for name, t in TABLES.items()
            }
    finally:
        engine.dispose()


def max_change_id(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        if not inspect(engine).has_table("changes"):
            return 0
        with engine.connect() as conn:
            return int(conn.scalar(select(func.max(changes.c.id))) or 0)
    finally:
        engine.dispose()


def list_changes(db_url: str, workdir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [SETTLEWATCH, "--db", db_url, "changes", "list", "--json"],
        env=clean_env(),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def score(
    found: list[dict[str, Any]], truth: list[sitegen.Truth]
) -> tuple[float, float, list[str], list[str]]:
    """Precision and recall of (kind, source, path) against the truth file."""
    got = {(c["kind"], c["source"], urlsplit(c["url"]).path) for c in found}
    want = {t.key() for t in truth}
    hit = got & want
    precision = len(hit) / len(got) if got else (1.0 if not want else 0.0)
    recall = len(hit) / len(want) if want else 1.0
    return precision, recall, sorted(map(str, want - got)), sorted(map(str, got - want))


def _server_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def figures(
    scenario: str,
    m: Measured,
    before: dict[str, int],
    after: dict[str, int],
    server_cpu: float,
    background: float = 0.0,
    busy: float = 0.0,
) -> CrawlFigures:
    crawler = m.proc("crawler.run")
    root = m.procs[0] if m.procs else None
    try:
        outcomes: list[dict[str, Any]] = json.loads(m.stdout) if m.stdout.strip() else []
    except json.JSONDecodeError:
        outcomes = []
    kinds: dict[str, int] = {}
    for o in outcomes:
        for kind, n in (o.get("changes") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    error = ""
    if m.timed_out:
        error = "timed out"
    elif m.returncode != 0:
        error = f"exit {m.returncode}: {m.stderr.strip()[-300:]}"
    elif any(o.get("status") != "tracked" for o in outcomes):
        error = "; ".join(
            f"{o['source']}: {o.get('error')}" for o in outcomes if o.get("status") != "tracked"
        )
    fetch_end = (crawler.started_s + crawler.wall_s) if crawler else 0.0
    fetch_cpu = crawler.cpu_s if crawler else 0.0
    return CrawlFigures(
        scenario=scenario,
        pages=after["snapshots"] - before["snapshots"],
        wall_s=m.wall_s,
        cpu_s=m.cpu_s,
        peak_rss_mb=m.peak_rss_mb,
        total_rss_mb=max(m.together_rss_mb, m.peak_rss_mb),
        startup_s=crawler.started_s if crawler else 0.0,
        fetch_wall_s=crawler.wall_s if crawler else 0.0,
        fetch_cpu_s=fetch_cpu,
        fetch_rss_mb=crawler.peak_rss_mb if crawler else 0.0,
        track_wall_s=max(0.0, m.wall_s - fetch_end) if crawler else m.wall_s,
        track_cpu_s=max(0.0, m.cpu_s - fetch_cpu),
        track_rss_mb=root.peak_rss_mb if root else 0.0,
        server_cpu_s=server_cpu,
        background_cpu_s=background,
        busy_before=busy,
        changes=kinds,
        new_rows={k: after[k] - before[k] for k in after},
        responses={},
        error=error,
    )


def crawl_once(
    scenario: str,
    db_url: str,
    decls: Path,
    workdir: Path,
    server: ServerProcess,
    timeout: float,
    quiet: tuple[float, float] = (1.0, 0.0),
) -> CrawlFigures:
    """One measured ``settlewatch crawl``; ``quiet`` = (max busy fraction, max wait s) first."""
    before = count_rows(db_url)
    busy = wait_quiet(*quiet)
    stats0, cpu0, sys0 = server.stats(), _server_cpu(server.pid), system_cpu_s()
    cmd = [SETTLEWATCH, "--db", db_url, "--sources", str(decls), "crawl", "--json"]
    m = run_measured(cmd, env=clean_env(), cwd=workdir, timeout=timeout)
    stats1, cpu1, sys1 = server.stats(), _server_cpu(server.pid), system_cpu_s()
    server_cpu = cpu1 - cpu0
    background = max(0.0, sys1 - sys0 - m.cpu_s - server_cpu)
    fig = figures(scenario, m, before, count_rows(db_url), server_cpu, background, busy)
    responses = {k: v - stats0.get(k, 0) for k, v in stats1.items() if v != stats0.get(k, 0)}
    return CrawlFigures(**{**fig.__dict__, "responses": responses})


def cycle(
    rep: int,
    workdir: Path,
    server: ServerProcess,
    *,
    sources: int,
    notices: int,
    k: int,
    timeout: float,
    db_url: str | None = None,
    quiet: tuple[float, float] = (1.0, 0.0),
    history: tuple[int, int] = (0, 0),
    progress: Callable[[str], None] = lambda _m: None,
) -> list[CrawlFigures]:
    """One repetition of the crawl scenarios on a fresh site and database. ``history``:
    (past crawls, digests) to age a copy of the store with; (0, 0) or ``db_url`` skips it."""
    site_dir = server.folder
    site = sitegen.generate(sources, notices, seed=1)
    sitegen.save(site, site_dir)
    server.reload()
    decls = workdir / "decls"
    sitegen.write_decls(site, decls, server.bases)
    own_db = db_url is None  # a file of our own, which can be copied and aged
    db_url = db_url or f"sqlite:///{workdir / f'rep{rep}.db'}"
    warm_up(workdir)
    out = []

    def crawl(scenario: str, db: str = db_url) -> CrawlFigures:
        fig = crawl_once(scenario, db, decls, workdir, server, timeout, quiet)
        progress(
            f"rep {rep} {scenario}: {fig.pages} pages in {fig.wall_s:.2f} s "
            f"({fig.pages_per_s:.0f} pages/s, {fig.cpu_s:.1f} CPU s, others "
            f"{fig.background_cpu_s:.1f} CPU s), changes {fig.changes or 'none'}"
            + (f", error {fig.error}" if fig.error else "")
        )
        out.append(fig)
        return fig

    if crawl("first").error or crawl("unchanged").error:
        return out  # the later scenarios need a tracked first crawl
    if own_db and any(history):
        aged = workdir / f"rep{rep}-aged.db"
        added = aged_copy(workdir / f"rep{rep}.db", aged, *history)
        progress(f"rep {rep} history: a copy of the store aged by {added}")
        crawl("history", f"sqlite:///{aged}")
        aged.unlink()
    site = sitegen.touch(site)
    sitegen.save(site, site_dir)
    server.reload()
    if crawl("noise").error:
        return out
    site, truth = sitegen.mutate(site, k, seed=2 + rep)
    sitegen.save(site, site_dir)
    sitegen.save_truth(truth, site_dir)
    server.reload()
    last = max_change_id(db_url)
    fig = crawl("changes")
    if fig.error:
        return out
    found = [c for c in list_changes(db_url, workdir) if c["id"] > last]
    precision, recall, missed, extra = score(found, truth)
    out[-1] = CrawlFigures(
        **{
            **fig.__dict__,
            "precision": precision,
            "recall": recall,
            "missed": missed,
            "extra": extra,
        }
    )
    progress(f"rep {rep} changes: precision {precision:.3f} recall {recall:.3f}")
    return out
