"""Mail-test fixtures, shared by the digest, alert and outbox suites (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.httpfixture import FixtureServer
from tests.mailkit import HookServer, SmtpSink, copy_store, seed_store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with approved findings from a crawled board, built once per test module."""
    with FixtureServer() as site:
        return seed_store(site, tmp_path_factory.mktemp("seed"))


@pytest.fixture
def db(seeded: str, tmp_path: Path) -> str:
    """A private copy of the seeded store for one test."""
    return copy_store(seeded, tmp_path)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    with SmtpSink() as s:
        yield s


@pytest.fixture
def hook() -> Iterator[HookServer]:
    """A local HTTP receiver for webhook POSTs."""
    h = HookServer()
    yield h
    h.close()
