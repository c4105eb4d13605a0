"""The `settlewatch` command."""

from __future__ import annotations

import sys

# commands are loaded on first use: see settlewatch.cli.root.COMMANDS
from settlewatch.cli.root import cli


def main() -> None:
    cli.main(prog_name="settlewatch", standalone_mode=True)


__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
    sys.exit(0)
