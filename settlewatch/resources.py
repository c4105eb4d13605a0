"""Where the bundled rules/ and templates/ live.

In a source checkout (and an editable install) they are the top-level folders; a wheel carries
them inside the package as ``settlewatch/_bundled/``. Both layouts resolve here, once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def bundled_dir(name: str) -> Path:
    """Return the bundled data folder ``name`` ("rules" or "templates")."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder '{name}' not found next to {_PACKAGE}")


def rules_dir() -> Path:
    return bundled_dir("rules")


def templates_dir() -> Path:
    return bundled_dir("templates")
