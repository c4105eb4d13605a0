"""`settlewatch scheduler run|jobs` and `settlewatch crawler deploy`."""

from __future__ import annotations

import time

import click

from scheduler.jobs import Runtime
from scheduler.main import configure_logging, install_signal_handlers, job_rows, run_service
from scheduler.plan import SchedulerSettings, planned_jobs
from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.errors import UsageError
from settlewatch.scrapyd import DEFAULT_PROJECT, Scrapyd, build_egg
from settlewatch.store.db import utcnow


@click.group()
def scheduler() -> None:
    """The scheduler service: crawls on each source's cadence, alerts, digests, health checks."""


def _global_args(ctx: click.Context, app: App) -> tuple[str, ...]:
    """The options this process was started with, for the commands its jobs run in-process."""
    args = ["--db", app.db_url, "--sources", str(app.sources_dir())]
    config_file = ctx.find_root().params.get("config_file")
    if config_file:
        args += ["--config", config_file]
    return tuple(args)


@scheduler.command("run")
@click.pass_context
@pass_app
def scheduler_run(app: App, ctx: click.Context) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT.

    Jobs: one crawl per declared source (its `schedule:`, else hourly 08:00-20:00 for
    acquirers and daily for the others, Asia/Shanghai), urgent alerts every minute, the weekly
    digest (digest_cron, default Monday 09:00) and a daily health check (health_cron) that
    marks sources stale after stale_days. Jobs are stored in the database, so a restart keeps
    their next run times. On SIGTERM, running crawls are stopped cleanly and their runs
    aborted. Logs are key=value lines on stderr.
    """
    settings = SchedulerSettings.from_config(app.config)
    specs = planned_jobs(app.decls().values(), settings)
    runtime = Runtime(
        engine=app.engine,
        db_url=app.db_url,
        config=app.config,
        sources_dir=app.sources_dir(),
        cli_args=_global_args(ctx, app),
        stale_days=settings.stale_days,
    )
    install_signal_handlers(runtime)
    configure_logging(verbose=ctx.find_root().params.get("verbose", False))
    run_service(runtime, specs, settings)


@scheduler.command("jobs")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array: id, name, next_run_time, state."
)
@pass_app
def scheduler_jobs(app: App, as_json: bool) -> None:
    """List every scheduler job with its next run time.

    Jobs already in the database's job store show their stored next run time ("scheduled");
    jobs the next `scheduler run` would add or change show when they would first run ("new",
    "changed"); stored jobs for sources no longer declared show as "removed".
    """
    settings = SchedulerSettings.from_config(app.config)
    specs = planned_jobs(app.decls().values(), settings)
    rows = job_rows(app.engine, specs, utcnow(), settings.timezone)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    click.echo(f"{'job':<28} {'next run (' + settings.timezone + ')':<27} {'state':<9} schedule")
    for r in rows:
        when = f"{r.next_run_time:%Y-%m-%d %H:%M:%S %z}" if r.next_run_time else "-"
        what = r.name.split(": ", 1)[-1]
        click.echo(f"{r.id:<28} {when:<27} {r.state:<9} {what}")


@click.group()
def crawler() -> None:
    """The Scrapy crawler, packaged for Scrapyd."""


@crawler.command("deploy")
@click.option(
    "--url",
    envvar="SETTLEWATCH_SCRAPYD_URL",
    metavar="URL",
    help="Scrapyd server, http://[user:pass@]host:6800. Env: SETTLEWATCH_SCRAPYD_URL.",
)
@click.option("--project", default=DEFAULT_PROJECT, show_default=True, help="Scrapyd project.")
@click.option(
    "--version",
    "egg_version",
    metavar="LABEL",
    help="Version label (default: the current Unix time, so the newest upload is used).",
)
def crawler_deploy(url: str | None, project: str, egg_version: str | None) -> None:
    """Build the crawler egg (crawler + settlewatch packages) and upload it to Scrapyd.

    Scrapyd nodes need settlewatch's dependencies installed and must reach the shared
    database; crawls go there when SETTLEWATCH_SCRAPYD_URL is set.
    """
    if not url:
        raise UsageError(
            "no Scrapyd URL (fix: pass --url http://host:6800 or set SETTLEWATCH_SCRAPYD_URL)"
        )
    version = egg_version or str(int(time.time()))
    egg = build_egg()
    reply = Scrapyd(url, project).add_version(version, egg)
    click.echo(
        f"deployed project {project} version {version} to {Scrapyd(url, project).safe_url()} "
        f"({len(egg) // 1024} KiB egg, {reply.get('spiders', 0)} spider(s))"
    )
