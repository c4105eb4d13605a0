"""The demo notice site: a threaded HTTP server on 127.0.0.1 and its source declarations.

    site = DemoSite(today=dt.date.today()).start()
    write_demo_sources(folder, site.base_url)   # -> demo_pbc.yaml, demo_ums.yaml, ...
    ...crawl...
    site.week = 2                               # the boards change, demo_lakala goes down
    ...crawl again...
    site.stop()

Content lives in ``notices`` (what the boards say) and ``pages`` (how each board renders it).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from settlewatch.demo import DEMO_DIR
from settlewatch.demo.notices import SOURCE_IDS, Week2Changes, week2_changes
from settlewatch.demo.pages import Page, make_noise, render

TEMPLATES_DIR = DEMO_DIR / "sources"
BASE_PLACEHOLDER = "{base}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: DemoSite


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DemoCMS/2.1"

    def _page(self) -> Page:
        return self.server.site.page(urlsplit(self.path).path)

    def _send(self, page: Page, with_body: bool) -> None:
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        # no validators: every page carries fresh noise, as on the real boards
        self.send_header("Cache-Control", "no-cache")
        for name, value in page.headers:
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(page.body)

    def do_GET(self) -> None:
        self._send(self._page(), True)

    def do_HEAD(self) -> None:
        self._send(self._page(), False)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a crawl makes dozens of requests; the demo's own output is what matters


class DemoSite:
    """The four demo boards on one local server; ``week`` (1 or 2) can change at any time."""

    def __init__(
        self,
        today: dt.date,
        *,
        week: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        self.today = today
        self.week = week
        self._host = host
        self._port = port
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def week(self) -> int:
        return self._week

    @week.setter
    def week(self, value: int) -> None:
        if value not in (1, 2):
            raise ValueError(f"the demo has weeks 1 and 2, not {value}")
        self._week = value

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo site is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def page(self, path: str) -> Page:
        """The response for ``path`` right now (fresh noise on every call)."""
        with self._rng_lock:  # random.Random is not safe across handler threads
            noise = make_noise(
                self._rng, self.week, dt.datetime.combine(self.today, dt.datetime.now().time())
            )
        base = self.base_url if self._server is not None else "http://127.0.0.1"
        return render(path, week=self.week, today=self.today, base=base, noise=noise)

    def changes(self) -> Week2Changes:
        """What week 2 changes, meaningfully, compared with week 1."""
        return week2_changes(self.today)

    def start(self) -> DemoSite:
        server = _Server((self._host, self._port), _Handler)
        server.site = self
        self._server = server
        # a short poll interval keeps stop() quick; the demo and the tests start many sites
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="settlewatch-demo", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def write_demo_sources(dest_dir: Path, base_url: str) -> list[Path]:
    """Write demo_<id>.yaml declarations pointing at ``base_url``; return their paths."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    base = base_url.rstrip("/")
    written = []
    for source_id in SOURCE_IDS:
        template = (TEMPLATES_DIR / f"{source_id}.yaml.tmpl").read_text(encoding="utf-8")
        # str.replace, not str.format: CSS selectors and regexes may contain braces
        target = dest_dir / f"{source_id}.yaml"
        target.write_text(template.replace(BASE_PLACEHOLDER, base), encoding="utf-8")
        written.append(target)
    return written
