"""The `settlewatch` command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from settlewatch.cli.root import cli


def main() -> None:
    # before the CLI's own imports: `settlewatch crawl` starts its crawler process first
    from settlewatch import gctune
    from settlewatch.crawlerproc import command_of, start_early

    argv = sys.argv[1:]
    start_early(argv)
    crawl = command_of(argv) == "crawl"  # a short run: see settlewatch.gctune
    if crawl:
        gctune.collect_less()
    # commands are loaded on first use: see settlewatch.cli.root.COMMANDS
    from settlewatch.cli.root import cli

    if crawl:
        gctune.for_short_run()
    cli.main(prog_name="settlewatch", standalone_mode=True)


def __getattr__(name: str) -> Any:
    if name == "cli":  # imported on use, so that main() runs before it
        from settlewatch.cli.root import cli

        return cli
    raise AttributeError(name)


__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
    sys.exit(0)
