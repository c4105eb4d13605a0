"""The local crawler process (``python -m crawler.run --stdin``): started early, told later.

Importing Scrapy takes the crawler process ~0.7 s, and ``settlewatch crawl`` spends about as
long on its own imports, config, sources, leases and runs before it knows what to crawl. So
the command starts the crawler first thing (``start_early``, before its own imports) and hands
it the order once the runs exist. Imports only the standard library, to stay first.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from typing import Any

CMD = (sys.executable, "-m", "crawler.run", "--stdin")
# the global options of `settlewatch` that take a value (see settlewatch.cli.root)
VALUE_OPTIONS = frozenset({"--db", "--sources", "--config"})

_early: subprocess.Popen[bytes] | None = None


def command_of(argv: list[str]) -> str | None:
    """The command a ``settlewatch`` command line runs: its first word that is not a global
    option or an option's value (``--db x.db crawl`` → ``crawl``)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in VALUE_OPTIONS:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return word
    return None


def start_early(argv: list[str]) -> None:
    """Start the crawler process now when ``argv`` (without the program) is a crawl.

    A guess from the command line (and SETTLEWATCH_SCRAPYD_URL, which sends crawls to
    Scrapyd): a crawl that does not use it (bad arguments, Scrapyd set in the config file)
    leaves it waiting on stdin, and it exits with nothing to do when this process ends."""
    global _early
    if (
        _early is None
        and command_of(argv) == "crawl"
        and not {"-h", "--help"} & set(argv)
        and not os.environ.get("SETTLEWATCH_SCRAPYD_URL", "").strip()
    ):
        _early = subprocess.Popen(CMD, stdin=subprocess.PIPE)


def start() -> subprocess.Popen[bytes]:
    """The crawler process started early, if there is one, else a new one."""
    global _early
    proc, _early = _early, None
    if proc is not None and proc.poll() is None:
        return proc
    return subprocess.Popen(CMD, stdin=subprocess.PIPE)


def hand_over(proc: subprocess.Popen[bytes], order: dict[str, Any] | None) -> None:
    """Send the order (see crawler.run), or None for "nothing to crawl"; once per process."""
    assert proc.stdin is not None
    line = json.dumps(order) if order is not None else ""
    try:
        proc.stdin.write((line + "\n").encode())
        proc.stdin.close()
    except OSError:  # it died before it could be told: its exit code says why
        pass


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``proc`` has exited, waiting up to ``timeout`` seconds for it.

    Wakes the moment it exits (a pidfd on Linux): ``Popen.wait(timeout)`` polls with sleeps
    of up to 50 ms, which a short crawl paid at its end."""
    if proc.poll() is not None:
        return True
    if timeout > 0 and hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(proc.pid)
        except OSError:  # reaped meanwhile, or pidfds not allowed here
            pass
        else:
            try:
                select.select([fd], [], [], timeout)
            finally:
                os.close(fd)
            return proc.poll() is not None
    try:
        proc.wait(timeout=max(0.0, timeout))
    except subprocess.TimeoutExpired:
        return False
    return True
