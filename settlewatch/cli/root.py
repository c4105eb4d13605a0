"""The root group, its global options and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from settlewatch.config import Config, load_config
from settlewatch.errors import SettlewatchError
from settlewatch.models import SourceDecl
from settlewatch.source import default_sources_dir, load_sources
from settlewatch.store.db import open_store


@dataclass
class App:
    """What every command needs, created lazily so that --help never touches the database."""

    config: Config
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def db_url(self) -> str:
        return self.config.get("db")

    @cached_property
    def engine(self) -> Engine:
        return open_store(self.db_url)

    def sources_dir(self) -> Path:
        folder = self.config.get("sources")
        return Path(folder) if folder else default_sources_dir()

    def decls(self) -> dict[str, SourceDecl]:
        return load_sources(self.sources_dir())


# Commands load on first use, so `settlewatch crawl` does not import the web app, the mailer
# or the scheduler (click's lazy-loading recipe). name → "module:attribute".
COMMANDS = {
    "crawl": "crawl_cmd:crawl",
    "changes": "commands:changes",
    "sources": "sources_cmd:sources",
    "merchants": "commands:merchants",
    "config": "commands:config",
    "rules": "commands:rules",
    "reextract": "commands:reextract",
    "demo": "demo_cmd:demo",
    "digest": "digest_cmd:digest",
    "eval": "eval_cmd:eval_cmd",
    "alerts": "mail_cmd:alerts",
    "scheduler": "scheduler_cmd:scheduler",
    "crawler": "scheduler_cmd:crawler",
    "serve": "web_cmd:serve",
    "users": "web_cmd:users",
    "review": "web_cmd:review",
}


class Group(click.Group):
    """Loads commands lazily; turns SettlewatchError into one clear line and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"settlewatch.cli.{module}"), attr)
        assert isinstance(command, click.Command), COMMANDS[cmd_name]
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettlewatchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="SETTLEWATCH_DB",
    metavar="URL",
    help="Database URL: sqlite:///file.db (default ./settlewatch.db) or "
    "postgresql://user@host:5432/db. Env: SETTLEWATCH_DB.",
)
@click.option(
    "--sources",
    "sources_dir",
    envvar="SETTLEWATCH_SOURCES",
    metavar="DIR",
    help="Folder of source declarations (default: the bundled rules/sources).",
)
@click.option(
    "--config",
    "config_file",
    envvar="SETTLEWATCH_CONFIG",
    metavar="FILE",
    help="Config file (TOML); default ./settlewatch.toml when present.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.version_option(package_name="settlewatch")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    sources_dir: str | None,
    config_file: str | None,
    verbose: bool,
) -> None:
    """settlewatch: watch payment notice boards and tell merchants what to adjust."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(config_file, {"db": db, "sources": sources_dir})
    except SettlewatchError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    ctx.obj = App(config)


pass_app = click.make_pass_decorator(App)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
