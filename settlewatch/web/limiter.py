"""Login rate limiting: five wrong passwords in a row lock the account name for a while.

Counted per account name and, more loosely, per client address, so that guessing one
account's password and spraying one password over many accounts are both slowed down. The
counts live in process memory: behind a multi-worker server each worker counts on its own,
which still bounds guessing to a handful of tries per worker per lockout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginLimiter:
    def __init__(
        self,
        max_failures: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        lockout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.per_address = max_failures, per_address
        self.window, self.lockout, self.clock = window, lockout, clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def _limit(self, key: str) -> int:
        return self.per_address if key.startswith("addr:") else self.max_failures

    def retry_after(self, keys: list[str]) -> float:
        """Seconds until these keys may try again; 0 when they may try now."""
        now = self.clock()
        with self._lock:
            waits = [c.locked_until - now for k in keys if (c := self._counts.get(k))]
        return max([0.0, *waits])

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                c = self._counts.setdefault(key, _Count())
                if now - c.last > self.window:
                    c.failures = 0
                c.failures += 1
                c.last = now
                if c.failures >= self._limit(key):
                    c.locked_until = now + self.lockout
                    c.failures = 0
            if len(self._counts) > 100_000:  # forget the oldest rather than grow for ever
                for key in sorted(self._counts, key=lambda k: self._counts[k].last)[:50_000]:
                    del self._counts[key]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
