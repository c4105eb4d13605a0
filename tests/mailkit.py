"""Real receivers for delivery tests: an SMTP server (aiosmtpd) and an HTTP POST catcher,
both on 127.0.0.1; and a seeded store with approved findings, crawled from a local board."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import json
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from sqlalchemy import Engine, select, update

from settlewatch.review import decide
from settlewatch.store.db import begin_write, open_store, utcnow
from settlewatch.store.schema import findings, merchants
from tests.httpfixture import FixtureServer
from tests.sitekit import declare, listing_html, notice_html, run

HOSTILE_TITLE = '关于调整手续费率的公告<script>alert(1)</script><img src=x onerror="alert(2)">'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """An SMTP server that keeps every message it accepts; it can be stopped and restarted
    on the same port, and hooks can answer RCPT or DATA differently (or act, e.g. kill)."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.login = login  # require AUTH with this user and password
        self.logins: list[str] = []
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.on_rcpt: Callable[[str], str | None] | None = None
        self.on_data: Callable[[EmailMessage], str | None] | None = None
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        sink = self

        class Handler:
            async def handle_RCPT(
                self, server: SMTP, session: Session, envelope: Envelope, address: str, _o: Any
            ) -> str:
                answer = sink.on_rcpt(address) if sink.on_rcpt else None
                if answer:
                    return answer
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
                raw = envelope.original_content or b""
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                answer = sink.on_data(msg) if sink.on_data else None
                if answer and not answer.startswith("250"):
                    return answer
                sink.messages.append(msg)
                sink.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
                return answer or "250 Message accepted"

        def authenticator(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth: Any
        ) -> AuthResult:
            ok = (
                sink.login is not None
                and (auth.login.decode(), auth.password.decode()) == sink.login
            )
            if ok:
                sink.logins.append(auth.login.decode())
            return AuthResult(success=ok)

        extra: dict[str, Any] = {}
        if self.login:
            extra = {
                "authenticator": authenticator,
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **extra)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def keys(self) -> list[str]:
        return [str(m["X-Settlewatch-Key"]) for m in self.messages]


@dataclass
class HookServer:
    """Answers POSTs with ``status`` and keeps each request's headers and body."""

    status: int = 200
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.requests.append((self.path, dict(self.headers), body))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.requests]


# ---------------------------------------------------------------- a store with findings

MERCHANTS_YAML = """merchants:
  - {id: m-zh, name: 杭州西湖小笼包餐饮店, email: finance@xlb.example.com, language: zh,
     acquirers: [acq], flows: [rt_d0, t1_d1, holiday, qr_scan, fee_deduct]}
  - {id: m-en, name: Bund Coffee, email: ops@bund.example.com, language: en,
     acquirers: [acq], flows: [rt_d0, holiday, card_present, fee_deduct, t1_d1]}
  - {id: m-quiet, name: Quiet Shop, email: quiet@example.com, language: en,
     acquirers: [other_acquirer], flows: [chargeback]}
"""


def ymd(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def board_notices(today: dt.date) -> list[tuple[str, str, str, str]]:
    """(href, title, publish date, body) of week 2: maintenance soon, a holiday plan, a fee."""
    soon = today + dt.timedelta(days=2)
    holiday = today + dt.timedelta(days=60)
    paid = holiday + dt.timedelta(days=8)
    fee = today + dt.timedelta(days=35)
    pub = today.isoformat()
    return [
        (
            "/notice/maint.html",
            f"关于{soon.month}月{soon.day}日系统升级暂停D0实时到账服务的公告",
            pub,
            f"<p>为进一步提升服务质量，我司将于{ymd(soon)}凌晨2:00至6:00对资金结算系统进行升级，"
            "届时D0实时到账服务暂停。</p>",
        ),
        (
            "/notice/holiday.html",
            "关于春节期间商户资金结算安排的公告",
            pub,
            f"<p>{ymd(holiday)}至{ymd(holiday + dt.timedelta(days=7))}期间的交易资金，"
            f"将于{ymd(paid)}合并划付至商户结算账户。节假日期间T+1结算顺延。</p>",
        ),
        (
            "/notice/fee.html",
            HOSTILE_TITLE,
            pub,
            f"<p>自{ymd(fee)}起，扫码支付手续费率调整为0.38%。</p>",
        ),
    ]


def serve_board(site: FixtureServer, items: list[tuple[str, str, str, str]]) -> None:
    for href, title, date, body in items:
        site.html(href, notice_html(html.escape(title), date, body))
    rows = [(href, html.escape(title), date) for href, title, date, _ in items]
    site.html("/list/index.html", listing_html(rows))


def seed_store(
    site: FixtureServer, folder: Path, today: dt.date | None = None, db: str | None = None
) -> str:
    """A store (default: SQLite in ``folder``): an old baseline notice, then three new notices,
    all approved (critical ones by two officers), and the merchants above. Returns its URL."""
    today = today or dt.date.today()
    db = db or f"sqlite:///{folder / 'seed.db'}"
    old = [
        (
            "/notice/old.html",
            "关于启用新版对账单的通知",
            "2020-01-06",
            "<p>自2020年2月1日起启用新版对账单。</p>",
        )
    ]
    serve_board(site, old)
    declare(folder / "src", "acq", site.base)
    assert run(["crawl"], db, folder / "src").exit_code == 0  # week 1: the baseline
    serve_board(site, old + board_notices(today))
    res = run(["crawl"], db, folder / "src")
    assert res.exit_code == 0, res.output
    (folder / "merchants.yaml").write_text(MERCHANTS_YAML, encoding="utf-8")
    assert run(["merchants", "import", str(folder / "merchants.yaml")], db).exit_code == 0
    engine = open_store(db)
    approve_all(engine)
    engine.dispose()
    return db


def approve_all(engine: Engine) -> list[int]:
    now = utcnow()
    with begin_write(engine) as conn:
        ids = list(conn.scalars(select(findings.c.id).where(findings.c.status == "pending")))
        for fid in ids:
            if decide(conn, fid, "approve", "officer-a", now).status != "approved":
                decide(conn, fid, "approve", "officer-b", now)  # four-eyes on critical ones
    return ids


def copy_store(seed_url: str, folder: Path) -> str:
    """A private copy of a seeded store (SQLite's backup API: the WAL is included)."""
    dst = folder / "sw.db"
    src_conn = sqlite3.connect(seed_url.removeprefix("sqlite:///"))
    dst_conn = sqlite3.connect(dst)
    with dst_conn:
        src_conn.backup(dst_conn)
    src_conn.close()
    dst_conn.close()
    return f"sqlite:///{dst}"


def set_merchant(engine: Engine, merchant_id: str, **values: Any) -> None:
    """Webhooks and send_empty are not in merchants files yet: set them directly."""
    with begin_write(engine) as conn:
        conn.execute(update(merchants).where(merchants.c.id == merchant_id).values(**values))
