"""'Crawl now' from the web app: the CLI's crawl, started in the background.

The crawl runs as `python -m settlewatch.cli crawl --trigger web SOURCE_ID`, the same code path as the CLI
and the scheduler (settlewatch.crawl.run_crawls), in its own process so that a slow site never
holds a web worker. The per-source lease in the database is what stops a second crawl of the
same source, whoever started the first; this class only refuses early with a clear message
and keeps each process's output for the sources page.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from settlewatch.errors import LockedError
from settlewatch.store.db import utcnow
from settlewatch.store.schema import sources


@dataclass
class Launch:
    source_id: str
    user: str
    started: dt.datetime
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self.proc.poll()

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class CrawlLauncher:
    def __init__(
        self,
        db_url: str,
        sources_dir: Path | None,
        log_dir: Path,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.db_url, self.sources_dir, self.log_dir = db_url, sources_dir, log_dir
        # The app's effective settings (file and environment alike) go to the crawl as
        # SETTLEWATCH_* variables, so it runs with what the app was started with.
        self.env = {
            **os.environ,
            **{f"SETTLEWATCH_{k.upper()}": v for k, v in (settings or {}).items()},
        }
        self.launches: dict[str, Launch] = {}
        self._lock = threading.Lock()

    def command(self, source_id: str) -> list[str]:
        cmd = [sys.executable, "-m", "settlewatch.cli", "--db", self.db_url]
        if self.sources_dir is not None:
            cmd += ["--sources", str(self.sources_dir)]
        return [*cmd, "crawl", "--trigger", "web", source_id]

    def start(self, engine: Engine, source_id: str, user: str) -> Launch:
        """Start a crawl of ``source_id``, or raise LockedError when one is running."""
        with self._lock:
            previous = self.launches.get(source_id)
            if previous is not None and previous.running:
                raise LockedError(
                    f"a crawl of '{source_id}' started by {previous.user} at "
                    f"{previous.started:%H:%M:%S} UTC is still running; wait for it to finish"
                )
            with engine.connect() as conn:
                row = conn.execute(
                    select(sources.c.lease_owner, sources.c.lease_until).where(
                        sources.c.id == source_id
                    )
                ).first()
            if row is not None and row.lease_until is not None and row.lease_until > utcnow():
                raise LockedError(
                    f"source '{source_id}' is already being crawled by {row.lease_owner} "
                    f"(lease until {row.lease_until:%Y-%m-%d %H:%M:%S} UTC); "
                    "try again when it finishes"
                )
            self.log_dir.mkdir(parents=True, exist_ok=True)
            started = utcnow()
            log = self.log_dir / f"{source_id}-{started:%Y%m%dT%H%M%S%f}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    self.command(source_id),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=self.env,
                    start_new_session=True,  # a web worker's SIGINT must not kill the crawl
                )
            launch = Launch(source_id, user, started, log, proc)
            self.launches[source_id] = launch
            return launch

    def running(self) -> list[str]:
        with self._lock:
            return [sid for sid, launch in self.launches.items() if launch.running]

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every crawl this process started (tests, shutdown)."""
        for launch in list(self.launches.values()):
            launch.proc.wait(timeout=timeout)
