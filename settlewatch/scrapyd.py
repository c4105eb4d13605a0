"""Scrapyd: the HTTP API calls a crawl dispatch needs, and the crawler egg it runs.

Crawls go to Scrapyd only when SETTLEWATCH_SCRAPYD_URL is set. A Scrapyd job gets the run id
and the database URL as spider arguments and reads everything else from the shared database,
so the egg carries code only, never configuration or secrets.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settlewatch.errors import FetchError, OperationalError
from settlewatch.resources import rules_dir, templates_dir

SPIDER = "notices"
DEFAULT_PROJECT = "settlewatch"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Scrapyd:
    """One Scrapyd server: ``http://[user:pass@]host:port``."""

    url: str
    project: str = DEFAULT_PROJECT

    def _endpoint(self, name: str) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.url)
        headers = {}
        if parts.username:
            cred = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/", "", ""))
        return urllib.parse.urljoin(base, name), headers

    def _call(
        self,
        name: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> dict[str, Any]:
        url, headers = self._endpoint(name)
        if body is None and params is not None and name in _POSTS:
            body = urllib.parse.urlencode(params).encode()
        elif params is not None:
            url += "?" + urllib.parse.urlencode(params)
        if body is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
                data: dict[str, Any] = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise FetchError(f"Scrapyd at {self.safe_url()}: {name} failed: {exc}") from exc
        if data.get("status") != "ok":
            raise FetchError(
                f"Scrapyd at {self.safe_url()}: {name} answered "
                f"{data.get('status')}: {data.get('message', '').strip()}"
            )
        return data

    def safe_url(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def schedule(self, args: dict[str, str], settings: dict[str, str]) -> str:
        """Queue one run of the notices spider; return the Scrapyd job id."""
        params = [("project", self.project), ("spider", SPIDER)]
        params += [("setting", f"{k}={v}") for k, v in settings.items()]
        params += list(args.items())
        return str(self._call("schedule.json", params=params)["jobid"])

    def job_states(self) -> dict[str, str]:
        """job id → pending | running | finished, for this project's jobs."""
        data = self._call("listjobs.json", params=[("project", self.project)])
        return {
            job["id"]: state
            for state in ("pending", "running", "finished")
            for job in data.get(state, [])
        }

    def cancel(self, job_id: str, sig: str | None = None) -> None:
        """Stop a job: by default Scrapyd sends SIGINT, and Scrapy closes the spider cleanly."""
        params = [("project", self.project), ("job", job_id)]
        self._call("cancel.json", params=params + ([("signal", sig)] if sig else []))

    def add_version(self, version: str, egg: bytes) -> dict[str, Any]:
        boundary = uuid.uuid4().hex
        fields = [("project", self.project), ("version", version)]
        chunks = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields
        ]
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; '
            f'filename="{self.project}.egg"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + egg
            + b"\r\n"
        )
        chunks.append(f"--{boundary}--\r\n".encode())
        return self._call(
            "addversion.json",
            body=b"".join(chunks),
            content_type=f"multipart/form-data; boundary={boundary}",
        )


_POSTS = {"schedule.json", "cancel.json"}

_SETUP_PY = """\
from setuptools import find_packages, setup

setup(
    name="settlewatch-crawler",
    version={version!r},
    packages=find_packages(include=["crawler", "crawler.*", "settlewatch", "settlewatch.*"]),
    package_data={{"settlewatch": ["_bundled/**/*", "store/migrations/**/*"]}},
    include_package_data=False,
    entry_points={{"scrapy": ["settings = crawler.settings"]}},
    zip_safe=False,
)
"""


def _package_version() -> str:
    try:
        return importlib.metadata.version("settlewatch")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _copy_package(name: str, dest: Path) -> None:
    module = __import__(name)
    src = Path(module.__file__ or "").resolve().parent
    shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_egg(version: str = "") -> bytes:
    """Build the Scrapyd egg: the crawler and settlewatch packages, with rules/ and templates/.

    Built from the installed packages in a scratch folder (setuptools bdist_egg), so that the
    repository never gets a generated setup.py and tests/ or bench/ never ship.
    """
    with tempfile.TemporaryDirectory(prefix="settlewatch-egg-") as tmp:
        stage = Path(tmp)
        for package in ("crawler", "settlewatch"):
            _copy_package(package, stage)
        bundled = stage / "settlewatch" / "_bundled"
        if not bundled.is_dir():  # a source checkout keeps them at the top level
            shutil.copytree(rules_dir(), bundled / "rules")
            shutil.copytree(templates_dir(), bundled / "templates")
        version = version or _package_version()
        (stage / "setup.py").write_text(_SETUP_PY.format(version=version), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "setup.py", "-q", "bdist_egg", "-d", "dist"],
            cwd=stage,
            capture_output=True,
            text=True,
        )
        eggs = sorted((stage / "dist").glob("*.egg"))
        if done.returncode != 0 or not eggs:
            raise OperationalError(f"building the crawler egg failed: {done.stderr.strip()[-800:]}")
        return eggs[0].read_bytes()
