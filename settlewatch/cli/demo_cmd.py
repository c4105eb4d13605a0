"""`settlewatch demo`."""

from __future__ import annotations

from pathlib import Path

import click

from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.demo.run import format_summary, run_demo
from settlewatch.store.db import open_store


def _fresh_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Folder for the demo database, source declarations and digests.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def demo(app: App, out: Path, as_json: bool) -> None:
    """Serve the bundled demo notice board on 127.0.0.1 and run the whole pipeline on it.

    Uses --db / SETTLEWATCH_DB when given; otherwise a fresh SQLite file OUT/settlewatch.db.
    """
    out.mkdir(parents=True, exist_ok=True)
    db_url = app.db_url
    if app.config.origins["db"] == "default":
        db_file = out / "settlewatch.db"
        _fresh_sqlite(db_file)
        db_url = f"sqlite:///{db_file}"
    engine = open_store(db_url)
    summary = run_demo(engine, db_url, out, app.config, progress=lambda m: click.echo(m, err=True))
    if as_json:
        echo_json(summary.as_dict())
    else:
        click.echo(format_summary(summary))
