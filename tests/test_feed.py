"""The Atom feed of approved findings: per flow and per acquirer, behind a user's token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import Engine

from settlewatch.feed import feed_for_token
from settlewatch.store.db import begin_write, open_store
from settlewatch.taxonomy import load_taxonomy
from settlewatch.users import add_user, api_token, set_disabled
from tests.httpfixture import FixtureServer
from tests.mailkit import HOSTILE_TITLE, copy_store, seed_store

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
URL = "https://sw.example.com/feed.atom?token=T"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    with FixtureServer() as site:
        return seed_store(site, tmp_path_factory.mktemp("seed"))


@pytest.fixture
def engine(seeded: str, tmp_path: Path) -> Iterator[Engine]:
    e = open_store(copy_store(seeded, tmp_path))
    yield e
    e.dispose()


def token(engine: Engine) -> str:
    with begin_write(engine) as conn:
        return api_token(add_user(conn, "reader", "viewer", "long enough secret", NOW))


def feed(engine: Engine, tok: str, **kw: str) -> feedparser.FeedParserDict | None:
    with engine.connect() as conn:
        data = feed_for_token(conn, tok, load_taxonomy(), self_url=URL, now=NOW, **kw)
    return None if data is None else feedparser.parse(data)


def test_feed_lists_approved_findings_for_a_valid_token(engine: Engine) -> None:
    parsed = feed(engine, token(engine))
    assert parsed is not None and not parsed.bozo
    assert parsed.feed.title == "Settlement changes"
    titles = [e.title for e in parsed.entries]
    assert len(titles) == 3 and HOSTILE_TITLE in titles  # escaped in XML, intact when read
    assert all(e.id.startswith("tag:settlewatch,2026:finding:") for e in parsed.entries)
    assert "token" not in parsed.feed.id
    maint = next(e for e in parsed.entries if "系统升级" in e.title)
    assert maint.link.endswith("/notice/maint.html")
    assert "maintenance window" in maint.summary and "Beijing time" in maint.summary
    assert {t.term for t in maint.tags} >= {"maint_planned", "flow:rt_d0"}


def test_feed_per_flow_and_per_acquirer(engine: Engine) -> None:
    tok = token(engine)
    holiday = feed(engine, tok, flow="holiday")
    assert holiday is not None and [e.title for e in holiday.entries] == [
        "关于春节期间商户资金结算安排的公告"
    ]
    assert holiday.feed.title == "Settlement changes (holiday)"
    assert len(feed(engine, tok, acquirer="acq").entries) == 3  # type: ignore[union-attr]
    assert feed(engine, tok, acquirer="someone_else").entries == []  # type: ignore[union-attr]
    zh = feed(engine, tok, language="zh")
    assert zh is not None and zh.feed.title == "结算变更"


def test_feed_refuses_bad_and_disabled_tokens(engine: Engine) -> None:
    tok = token(engine)
    assert feed(engine, "sw_1_" + "0" * 64) is None
    assert feed(engine, "not a token") is None
    with begin_write(engine) as conn:
        set_disabled(conn, "reader", True)
    assert feed(engine, tok) is None


def test_the_web_app_serves_the_feed_to_a_token_and_no_one_else(
    engine: Engine, tmp_path: Path
) -> None:
    from settlewatch.web.app import create_app

    tok = token(engine)
    client = create_app(str(engine.url), secret_key="k", crawl_log_dir=tmp_path).test_client()
    resp = client.get(f"/feed.atom?token={tok}&flow=holiday&lang=zh")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    parsed = feedparser.parse(resp.data)
    assert parsed.feed.title == "结算变更 (holiday)" and len(parsed.entries) == 1
    assert client.get("/feed.atom?token=sw_wrong").status_code == 401
    assert client.get("/feed.atom").status_code == 401
    assert client.get(f"/feed.atom?token={tok}&flow=nope").status_code == 400
    assert client.get("/queue").status_code == 302  # the rest still needs a login
