"""The `settlewatch` command."""

from __future__ import annotations

import sys

# importing a module registers its commands on `cli`
from settlewatch.cli import (  # noqa: F401
    commands,
    demo_cmd,
    digest_cmd,
    eval_cmd,
    mail_cmd,
    scheduler_cmd,
    sources_cmd,
    web_cmd,
)
from settlewatch.cli.root import cli


def main() -> None:
    cli.main(prog_name="settlewatch", standalone_mode=True)


__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
    sys.exit(0)
