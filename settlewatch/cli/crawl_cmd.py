"""`settlewatch crawl`: its own module, so that it imports no more than a crawl needs."""

from __future__ import annotations

import click

from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.crawl import run_crawls
from settlewatch.errors import UsageError
from settlewatch.taxonomy import load_taxonomy


@click.command()
@click.argument("source_ids", nargs=-1, metavar="[SOURCE_ID]...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary per source.")
@click.option(
    "--trigger",
    type=click.Choice(["cli", "web"]),
    default="cli",
    show_default=True,
    help="Who started the crawl, recorded with each run (the web app's 'crawl now' says web).",
)
@pass_app
def crawl(app: App, source_ids: tuple[str, ...], as_json: bool, trigger: str) -> None:
    """Crawl sources now (all declared sources when none is named), then track changes.

    Exits 3 when a named source is already being crawled elsewhere. An unreachable source is
    recorded as source health and does not stop the others.
    """
    decls = app.decls()
    unknown = [s for s in source_ids if s not in decls]
    if unknown:
        raise UsageError(
            f"unknown source id(s): {', '.join(unknown)} "
            f"(fix: one of {', '.join(sorted(decls)) or 'none declared'}; "
            f"sources are read from {app.sources_dir()})"
        )
    chosen = [decls[s] for s in source_ids] if source_ids else list(decls.values())
    if not chosen:
        raise UsageError(f"no sources declared in {app.sources_dir()}")
    outcomes = run_crawls(
        app.engine,
        app.db_url,
        chosen,
        load_taxonomy,  # loads while the crawler fetches
        app.config,
        trigger=trigger,
        progress=(lambda m: None) if as_json else (lambda m: click.echo(m, err=True)),
    )
    if as_json:
        echo_json([o.as_dict() for o in outcomes])
    if any(o.result is None for o in outcomes):
        raise SystemExit(3)
