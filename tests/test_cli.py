"""The CLI: help everywhere, documented commands, clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from settlewatch.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"{name} is listed but does not load"
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


COMMANDS = _commands(cli)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_and_is_documented(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output
    if not isinstance(cli.get_command(click.Context(cli), path[0]), click.Group) or len(path) > 1:
        assert f"settlewatch {' '.join(path)}" in README, f"README does not document {path}"


def test_bad_db_url_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["--db", "nosuchdb://x", "changes", "list"])
    assert res.exit_code == 2
    assert "cannot use database URL" in res.stderr and "fix:" in res.stderr


def test_unknown_source_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    res = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path}/x.db", "--sources", str(src), "crawl", "nope"]
    )
    assert res.exit_code == 2
    assert "unknown source id(s): nope" in res.stderr


def test_bad_config_file_names_the_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "sw.toml"
    cfg.write_text('colour = "red"\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["--config", str(cfg), "config", "show"])
    assert res.exit_code == 1
    assert "unknown setting" in res.stderr and "colour" in res.stderr


def test_config_show_reports_origin(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["config", "show"], env={"SETTLEWATCH_BASELINE_DAYS": "7"})
    assert res.exit_code == 0
    assert "baseline_days = '7'  [SETTLEWATCH_BASELINE_DAYS" in res.output


def test_commands_load_lazily_and_all_of_them_are_listed() -> None:
    """`settlewatch crawl` must not pay for the web app, the mailer, digests or the scheduler."""
    import subprocess
    import sys

    code = (
        "import sys, settlewatch.cli as c, click;"
        "c.cli.get_command(click.Context(c.cli), 'crawl');"
        "print(' '.join(m for m in ('flask', 'apprise', 'apscheduler', 'settlewatch.web',"
        " 'settlewatch.digest', 'icalendar')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert len(COMMANDS) > 16 and ("crawl",) in COMMANDS and ("serve",) in COMMANDS
