"""Logins, sessions, CSRF, roles, rate limiting and API tokens of the review app."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import reviews
from settlewatch.users import api_token, get_user, set_disabled, set_password
from settlewatch.web import create_app
from tests import webseed
from tests.webseed import PASSWORD, csrf_token, login, post_form


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    engine = open_store(sqlite_url)
    webseed.add_users(engine, alice="officer", bob="officer", vic="viewer", root="admin")
    webseed.add_version(
        engine, "关于系统维护的公告", "我司将于2026年12月5日凌晨2:00至6:00进行系统维护。"
    )
    return engine


@pytest.fixture
def app(
    engine: Engine, sqlite_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    app = create_app(
        sqlite_url, secret_key="test-secret", crawl_log_dir=tmp_path_factory.mktemp("logs")
    )
    yield app


def review_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(reviews)) or 0)


def sample_url(rule: object) -> str:
    args = {name: 1 if "int" in str(conv) else "x" for name, conv in rule._converters.items()}  # type: ignore[attr-defined]
    path = str(rule.rule)  # type: ignore[attr-defined]
    for name, value in args.items():
        path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
    return path


def test_every_route_logged_out_redirects_to_login_or_401(app: Flask) -> None:
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "auth.login":
            continue
        url = sample_url(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method)
            if url.startswith("/api/"):
                assert resp.status_code == 401, (method, url, resp.status_code)
                assert "login required" in resp.get_json()["error"]
            elif rule.endpoint == "feed.atom":  # open to feed readers, but only with a token
                assert resp.status_code == 401, (method, url, resp.status_code)
                assert b"token" in resp.data and b"<feed" not in resp.data
            else:
                assert resp.status_code == 302, (method, url, resp.status_code)
                assert resp.headers["Location"].startswith("/login"), (method, url)
            checked += 1
    assert checked >= 25  # every page, form and API endpoint was tried
    # an unknown path does not reveal itself either
    assert client.get("/no/such/page").status_code == 302


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(app: Flask) -> None:
    client = app.test_client()
    resp = login(client, "alice")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # configurable: SETTLEWATCH_SECURE_COOKIES=1 behind HTTPS
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # logging out is a POST with a token
    assert client.post("/logout").status_code == 400  # ... and without the token it is refused
    assert client.get("/").status_code == 200
    assert post_form(client, "/logout", {}).status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_secure_cookie_option(engine: Engine, sqlite_url: str) -> None:
    app = create_app(sqlite_url, secret_key="k", secure_cookies=True)
    resp = login(app.test_client(), "alice")
    assert "Secure" in resp.headers["Set-Cookie"]


def test_login_redirect_never_leaves_the_site(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/queue"):
        client.post("/logout")
        resp = client.post(
            "/login",
            data={"name": "alice", "password": PASSWORD, "next": target, "csrf_token": token},
        )
        assert resp.headers["Location"] == ("/queue" if target == "/queue" else "/")
        token = csrf_token(client, "/account")
        post_form(client, "/logout", {})
        token = csrf_token(client)


def test_form_post_without_csrf_token_is_rejected(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    login(client, "alice")
    resp = client.post("/findings/1/decide", data={"decision": "approve"})
    assert resp.status_code == 400
    assert "did not come from this site" in resp.get_data(as_text=True)
    resp = client.post("/findings/1/decide", data={"decision": "approve", "csrf_token": "forged"})
    assert resp.status_code == 400
    assert review_count(engine) == 0
    assert post_form(client, "/findings/1/decide", {"decision": "approve"}).status_code == 302
    assert review_count(engine) == 1


def test_five_wrong_passwords_are_rate_limited(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "alice", "wrong password").status_code == 401
    resp = login(client, "alice")  # even the right password waits now
    assert resp.status_code == 429
    assert "Too many failed logins" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert login(app.test_client(), "bob").status_code == 302  # other accounts unaffected


def test_roles_are_enforced_on_the_server(app: Flask, engine: Engine) -> None:
    viewer = app.test_client()
    login(viewer, "vic")
    page = viewer.get("/findings/1").get_data(as_text=True)
    assert 'id="read-only"' in page and 'id="approve"' not in page
    assert post_form(viewer, "/findings/1/decide", {"decision": "approve"}).status_code == 403
    assert post_form(viewer, "/sources/acq_test/crawl", {}).status_code == 403
    assert viewer.get("/users").status_code == 403
    assert review_count(engine) == 0

    officer = app.test_client()
    login(officer, "alice")
    assert officer.get("/users").status_code == 403
    assert (
        post_form(
            officer, "/users", {"name": "eve", "role": "admin", "password": "x" * 10}
        ).status_code
        == 403
    )

    admin = app.test_client()
    login(admin, "root")
    assert admin.get("/users").status_code == 200
    resp = post_form(admin, "/users", {"name": "eve", "role": "viewer", "password": "x" * 10})
    assert resp.status_code == 302
    with engine.connect() as conn:
        eve = get_user(conn, "eve")
    assert eve is not None and eve.role == "viewer"


def test_disabled_user_and_new_password_end_open_sessions(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    login(client, "alice")
    assert client.get("/").status_code == 200
    with begin_write(engine) as conn:
        set_password(conn, "alice", "another password")
    assert client.get("/").status_code == 302
    login(client, "alice", "another password")
    assert client.get("/").status_code == 200
    with begin_write(engine) as conn:
        set_disabled(conn, "alice", True)
    assert client.get("/").status_code == 302
    assert login(client, "alice", "another password").status_code == 401


def test_api_token_authenticates_and_carries_the_role(app: Flask, engine: Engine) -> None:
    with engine.connect() as conn:
        alice, vic = get_user(conn, "alice"), get_user(conn, "vic")
    assert alice is not None and vic is not None
    client = app.test_client()
    auth = {"Authorization": f"Bearer {api_token(alice)}"}
    listing = client.get("/api/findings", headers=auth)
    assert listing.status_code == 200 and listing.get_json()["total"] == 1
    assert (
        client.get(
            "/api/findings", headers={"Authorization": "Bearer sw_1_" + "0" * 64}
        ).status_code
        == 401
    )
    viewer = {"Authorization": f"Bearer {api_token(vic)}"}
    assert (
        client.post(
            "/api/findings/1/decision", json={"decision": "approve"}, headers=viewer
        ).status_code
        == 403
    )
    resp = client.post("/api/findings/1/decision", json={"decision": "approve"}, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "approved"
    # a browser session may use the API too, but then a POST needs the CSRF token
    session = app.test_client()
    login(session, "bob")
    assert session.get("/api/me").get_json() == {"name": "bob", "role": "officer"}
    assert (
        session.post(
            "/api/findings/1/decision", json={"decision": "dismiss", "reason": "x"}
        ).status_code
        == 400
    )
    # a new password revokes the token
    with begin_write(engine) as conn:
        set_password(conn, "alice", "rotated password")
    assert client.get("/api/findings", headers=auth).status_code == 401


def test_responses_forbid_scripts_and_framing(app: Flask) -> None:
    client = app.test_client()
    login(client, "alice")
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert (
        "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    )
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in resp.get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_command_and_wsgi_entry_point(engine: Engine, sqlite_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "SETTLEWATCH_SECRET_KEY": "serve-test", "SETTLEWATCH_DB": sqlite_url}
    cmd = [sys.executable, "-m", "settlewatch.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/queue")
                resp = conn.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline, "settlewatch serve did not start"
                time.sleep(0.2)
        assert resp.status == 302 and resp.getheader("Location") == "/login?next=/queue"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # the WSGI module refuses to start without a shared secret key, and serves with one
    probe = "from settlewatch.web.wsgi import app; print(app.test_client().get('/').status_code)"
    bad = subprocess.run(
        [sys.executable, "-c", probe],
        env={k: v for k, v in env.items() if k != "SETTLEWATCH_SECRET_KEY"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "SETTLEWATCH_SECRET_KEY is not set" in bad.stderr
    good = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert good.stdout.strip() == "302", good.stderr
