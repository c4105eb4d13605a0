"""The scheduler's jobs: thin calls into the code the CLI uses, with a log line each.

The job store keeps a reference to these functions and their plain-string arguments, never
an engine or a config; the running service hands them its Runtime through ``configure``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlalchemy import Engine

from settlewatch.config import Config
from settlewatch.crawl import close_orphaned_runs, run_crawls
from settlewatch.source import load_sources
from settlewatch.staleness import mark_stale
from settlewatch.store.db import utcnow
from settlewatch.taxonomy import load_taxonomy

log = logging.getLogger("scheduler.jobs")


def kv(**fields: object) -> str:
    """key=value pairs for a structured log line; values with spaces are quoted."""
    out = []
    for key, value in fields.items():
        if isinstance(value, str):
            text = value
        elif isinstance(value, dt.datetime):
            text = value.isoformat()
        else:
            text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        if not text or any(c in text for c in ' "=\n'):
            text = json.dumps(text, ensure_ascii=False)
        out.append(f"{key}={text}")
    return " ".join(out)


@dataclass(frozen=True)
class Runtime:
    engine: Engine
    db_url: str
    config: Config
    sources_dir: Path
    cli_args: tuple[str, ...]  # global options for the in-process `settlewatch ...` calls
    stale_days: int = 3
    stop: threading.Event = field(default_factory=threading.Event)


_runtime: Runtime | None = None
_CLI_LOCK = threading.Lock()
_missing_reported: set[str] = set()


def configure(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler.jobs.configure() was not called before a job ran")
    return _runtime


def crawl_source(source_id: str) -> None:
    """Crawl one source and track the run: the same run_crawls as `settlewatch crawl`."""
    rt = current()
    if rt.stop.is_set():
        log.info("crawl_skipped %s", kv(source=source_id, reason="shutting down"))
        return
    decl = load_sources(rt.sources_dir).get(source_id)
    if decl is None:
        log.warning(
            "crawl_skipped %s",
            kv(source=source_id, reason=f"not declared in {rt.sources_dir}; restart to drop"),
        )
        return
    log.info("crawl_started %s", kv(source=source_id))
    outcomes = run_crawls(
        rt.engine,
        rt.db_url,
        [decl],
        load_taxonomy(),
        rt.config,
        trigger="scheduler",
        stop=rt.stop,
    )
    for o in outcomes:
        if o.result is None:
            log.warning("crawl_refused %s", kv(source=o.source_id, reason=o.error))
            continue
        r = o.result
        fields = kv(
            source=r.source_id,
            run=r.run_id,
            status=r.status,
            health=r.health,
            pages=r.pages,
            changes=dict(r.changes),
        )
        level = logging.INFO if r.status == "tracked" else logging.WARNING
        log.log(level, "crawl_finished %s%s", fields, " " + kv(error=o.error) if o.error else "")
        if r.alert:
            log.warning("source_unhealthy %s", kv(source=r.source_id, alert=r.alert))


def _run_command(job: str, *command: str) -> None:
    """Run `settlewatch <command>` in this process, when this build has it."""
    from settlewatch.cli import cli  # the CLI imports the scheduler: import it late

    group: click.Command = cli
    for name in command:
        # get_command, not .commands: the root group loads its commands lazily
        sub = (
            group.get_command(click.Context(group), name)
            if isinstance(group, click.Group)
            else None
        )
        if sub is None:
            if job not in _missing_reported:  # once, not every minute
                _missing_reported.add(job)
                log.warning(
                    "job_unavailable %s",
                    kv(job=job, command="settlewatch " + " ".join(command), reason="not built"),
                )
            return
        group = sub
    rt = current()
    out = io.StringIO()
    code: object = 0
    # stdout is process-wide: one in-process command at a time, or the streams get crossed
    with _CLI_LOCK, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        ctx = cli.make_context("settlewatch", [*rt.cli_args, *command])
        try:
            with ctx:
                cli.invoke(ctx)
        except SystemExit as exc:  # SettlewatchError: the CLI printed one line, kept in `out`
            code = exc.code
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        finally:
            # the command opened its own engine: close its connections, every minute adds up
            if ctx.obj is not None and "engine" in vars(ctx.obj):
                ctx.obj.engine.dispose()
    said = " | ".join(line.strip() for line in out.getvalue().splitlines() if line.strip())
    if code not in (0, None):
        log.error("job_failed %s", kv(job=job, exit_code=code, output=said))
    else:
        log.info("job_done %s", kv(job=job, output=said))


def send_alerts() -> None:
    """Deliver urgent alerts waiting in the outbox: `settlewatch alerts send`."""
    _run_command("alerts", "alerts", "send")


def send_digest() -> None:
    """Queue and send this week's digests: `settlewatch digest send` (once per week)."""
    _run_command("digest", "digest", "send")


def check_health() -> None:
    """Mark stale sources; close runs whose crawl died and whose lease has expired."""
    rt = current()
    stale = mark_stale(rt.engine, utcnow(), rt.stale_days)
    for verdict in stale:
        log.warning("source_stale %s", kv(source=verdict.source_id, reason=verdict.reason))
    closed = close_orphans()
    log.info("health_checked %s", kv(stale=len(stale), closed_runs=len(closed)))


def close_orphans() -> list[int]:
    """Abort runs whose crawl process died (its lease has expired)."""
    closed = close_orphaned_runs(current().engine)
    if closed:
        log.warning("runs_closed %s", kv(runs=closed, reason="crawl process ended"))
    return closed
