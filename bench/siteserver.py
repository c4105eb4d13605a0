"""Serve the benchmark site: one asyncio HTTP/1.1 server per source, each on its own address.

    python -m bench.siteserver SITE_DIR

Prints one JSON line {source_id: "http://127.0.0.x:port"} once listening, then reads
commands on stdin: ``reload`` re-reads SITE_DIR/site.json (answering ``ok <pages>``),
``stats`` prints the request counters, EOF stops the server. Every page of the current epoch
is rendered once per reload, so a request costs a dict lookup; the ETag is a hash of the
bytes, so an unchanged page answers 304 to If-None-Match, as nginx or Apache would.
Only loopback addresses are ever bound.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.sitegen import load, loopback_hosts
from bench.sitepages import Page, all_pages

Routes = dict[str, tuple[Page, str]]  # path → (page, etag)
NOT_FOUND = Page(404, "text/html; charset=utf-8", b"<html><body><h1>404</h1></body></html>")


class SiteServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.routes: dict[str, Routes] = {}  # source id → routes
        self.counts: Counter[str] = Counter()
        self.reload()

    def reload(self) -> int:
        site = load(self.folder)
        routes: dict[str, Routes] = {}
        for src in site.sources:
            pages = all_pages(site, src)
            routes[src.id] = {
                path: (page, '"' + hashlib.sha1(page.body).hexdigest()[:20] + '"')
                for path, page in pages.items()
            }
        self.routes = routes
        return sum(len(r) for r in routes.values())

    def respond(self, source_id: str, method: str, path: str, headers: dict[str, str]) -> bytes:
        page, etag = self.routes.get(source_id, {}).get(path.split("?", 1)[0], (NOT_FOUND, ""))
        if etag and headers.get("if-none-match") == etag:
            self.counts["304"] += 1
            return (
                f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n".encode()
            )
        self.counts[str(page.status)] += 1
        head = (
            f"HTTP/1.1 {page.status} {'OK' if page.status == 200 else 'Not Found'}\r\n"
            f"Content-Type: {page.content_type}\r\nContent-Length: {len(page.body)}\r\n"
            + (f"ETag: {etag}\r\n" if etag else "")
            + "Cache-Control: no-cache\r\n\r\n"
        )
        return head.encode("latin-1") + (page.body if method != "HEAD" else b"")

    async def handle(
        self, source_id: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, *_ = [*line.decode("latin-1").split(), "", ""]
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                writer.write(self.respond(source_id, method, path, headers))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _serve(folder: Path) -> None:
    server = SiteServer(folder)
    site = load(folder)
    hosts = loopback_hosts(len(site.sources))
    bases: dict[str, str] = {}
    servers = []
    port = 0
    for src, host in zip(site.sources, hosts, strict=True):

        async def handler(
            r: asyncio.StreamReader, w: asyncio.StreamWriter, sid: str = src.id
        ) -> None:
            await server.handle(sid, r, w)

        try:  # the same port on every address when it is free: easier to read
            srv = await asyncio.start_server(handler, host, port, backlog=256)
        except OSError:
            srv = await asyncio.start_server(handler, host, 0, backlog=256)
        port = port or srv.sockets[0].getsockname()[1]
        bases[src.id] = f"http://{host}:{srv.sockets[0].getsockname()[1]}"
        servers.append(srv)
    print(json.dumps(bases), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        raw = await loop.run_in_executor(None, sys.stdin.readline)
        if raw == "":  # EOF: the benchmark is done with us
            break
        if raw.strip() == "reload":
            print(f"ok {server.reload()}", flush=True)
        elif raw.strip() == "stats":
            print(json.dumps(dict(server.counts)), flush=True)
    for srv in servers:
        srv.close()


class ServerProcess:
    """The server as a child process: ``bases`` once started, ``reload()`` after a mutation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen[str] | None = None
        self.bases: dict[str, str] = {}

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.siteserver", str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.bases = json.loads(self._line())
        return self

    def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"site server exited with code {self.proc.wait()}")
        return line

    def _ask(self, command: str) -> str:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._line().strip()

    def reload(self) -> int:
        """Serve the site.json on disk now; returns the number of routes."""
        return int(self._ask("reload").split()[1])

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self._ask("stats"))
        return counts

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m bench.siteserver SITE_DIR", file=sys.stderr)
        return 2
    asyncio.run(_serve(Path(args[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
