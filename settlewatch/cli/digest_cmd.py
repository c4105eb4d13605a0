"""`settlewatch digest ...`: render, preview and send merchant digests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from settlewatch.cli.root import App, cli, pass_app
from settlewatch.digest_build import iso_period, write_digests
from settlewatch.taxonomy import load_taxonomy


@cli.group()
def digest() -> None:
    """Merchant digests."""


@digest.command("render")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write <merchant>.<lang>.html and .txt files into.",
)
@click.option("--period", help="ISO week such as 2026-W48 (default: the current week).")
@pass_app
def digest_render(app: App, out: Path, period: str | None) -> None:
    """Render one HTML and one text digest per merchant, from the approved findings."""
    if period is not None:
        iso_period(period)  # validates, with a clear error
    count = write_digests(
        app.engine, out, load_taxonomy(), period=period, now=dt.datetime.now(dt.UTC)
    )
    click.echo(f"wrote {count} digest file(s) to {out}")
