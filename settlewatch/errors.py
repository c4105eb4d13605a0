"""One exception tree for settlewatch.

    SettlewatchError
    ├── UsageError           bad CLI argument or option (exit 2)
    ├── RuleError            a rules/ file is invalid: fails at load, names file, line, field
    │   └── SourceDeclError  a rules/sources/*.yaml declaration is invalid
    ├── InputError           a user-supplied data file (merchants) is invalid
    ├── OperationalError     recorded and reported; the run goes on for other sources
    │   ├── FetchError       timeout, refused connection, HTTP error, soft-error page
    │   └── ExtractError     a page could not be turned into a Version
    ├── LockedError          a crawl of that source is already running
    └── StoreError           database errors: these crash the command

Rule and input errors carry the location and a fix so that the CLI can print one clear line.
"""

from __future__ import annotations


class SettlewatchError(Exception):
    """Base of every error settlewatch raises on purpose."""

    exit_code = 1


class UsageError(SettlewatchError):
    exit_code = 2


class LocatedError(SettlewatchError):
    """An error in a file: names the file, the line (when known), the field and the fix."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f" field '{self.field}'" if self.field else ""
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}:{field} {self.message}{fix}".replace(": ", ": ", 1)


class RuleError(LocatedError):
    """A rules/ file is invalid."""


class SourceDeclError(RuleError):
    """A source declaration is invalid."""


class InputError(LocatedError):
    """A user data file (such as a merchants file) is invalid."""


class OperationalError(SettlewatchError):
    """Something outside failed; recorded as health, never a change."""


class FetchError(OperationalError):
    pass


class ExtractError(OperationalError):
    pass


class LockedError(SettlewatchError):
    """The resource (a source's crawl lease) is held by someone else."""


class StoreError(SettlewatchError):
    pass
