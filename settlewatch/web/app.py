"""The review app: ``create_app(db_url)`` builds the Flask application.

Everything shown here was scraped from someone else's website, so templates autoescape
everywhere, the Content-Security-Policy allows no script at all, and links to notices are
only made from http(s) URLs. Every page needs a login except /login; forms carry CSRF tokens.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import StrictUndefined
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from settlewatch.config import Config, load_config
from settlewatch.errors import SettlewatchError
from settlewatch.resources import templates_dir
from settlewatch.store.db import open_store
from settlewatch.taxonomy import load_taxonomy
from settlewatch.web import format as fmt
from settlewatch.web.auth import load_user
from settlewatch.web.crawljobs import CrawlLauncher
from settlewatch.web.limiter import LoginLimiter
from settlewatch.web.state import WebState

log = logging.getLogger("settlewatch.web")
csrf = CSRFProtect()


def _secret(secret_key: str | None) -> str:
    key = secret_key or os.environ.get("SETTLEWATCH_SECRET_KEY")
    if key:
        return key
    log.warning(
        "SETTLEWATCH_SECRET_KEY is not set: using a random key, so sessions end when the "
        "process restarts and cannot be shared between workers"
    )
    return secrets.token_hex(32)


def _security_headers(resp: Response) -> Response:
    nonce = g.get("csp_nonce", "")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    # same-origin: CSRF's referrer check works over HTTPS, notice sites learn nothing
    resp.headers["Referrer-Policy"] = "same-origin"
    if "Cache-Control" not in resp.headers:
        resp.headers["Cache-Control"] = "no-store"
    return resp


def _errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        msg = "The form expired or did not come from this site: reload the page and try again."
        if request.path.startswith("/api/"):
            return {"error": f"CSRF check failed: {exc.description}"}, 400
        return render_template("error.html", code=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            return {"error": exc.description or exc.name}, code
        return render_template("error.html", code=code, message=exc.description), code


def create_app(
    db_url: str,
    *,
    secret_key: str | None = None,
    sources_dir: str | Path | None = None,
    config: Config | None = None,
    secure_cookies: bool | None = None,
    crawl_log_dir: str | Path | None = None,
    testing: bool = False,
) -> Flask:
    """Build the review app over the database at ``db_url`` (migrated on start).

    ``sources_dir`` is the folder of source declarations that "crawl now" uses and that an
    admin may add declarations to; None means the bundled, read-only rules/sources.
    """
    config = config or load_config(overrides={"db": db_url})
    if secure_cookies is None:
        secure_cookies = os.environ.get("SETTLEWATCH_SECURE_COOKIES", "") in ("1", "true", "yes")
    app = Flask("settlewatch.web", template_folder=str(templates_dir() / "web"), static_folder=None)
    app.config.update(
        SECRET_KEY=_secret(secret_key),
        SESSION_COOKIE_NAME="settlewatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TESTING=testing,
        JSON_SORT_KEYS=False,
    )
    app.jinja_options = {**app.jinja_options, "undefined": StrictUndefined}
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    fmt.register(app)
    hops = int(os.environ.get("SETTLEWATCH_TRUSTED_PROXIES", "0") or 0)
    if hops:  # behind nginx & co.: client address and scheme come from X-Forwarded-*
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    engine = open_store(db_url)
    folder = Path(sources_dir) if sources_dir else None
    if folder is None and config.get("sources"):
        folder = Path(config.get("sources"))
    logs = Path(crawl_log_dir or tempfile.mkdtemp(prefix="settlewatch-crawls-"))
    app.extensions["settlewatch"] = WebState(
        engine=engine,
        db_url=db_url,
        taxonomy=load_taxonomy(),
        config=config,
        sources_dir=folder,
        launcher=CrawlLauncher(db_url, folder, logs, dict(config.values)),
        limiter=LoginLimiter(),
    )

    # Registered before CSRFProtect so that a logged-out POST is sent to the login page
    # (or answered 401) rather than failing the CSRF check first.
    app.before_request(load_user)
    csrf.init_app(app)
    _register(app)
    app.after_request(_security_headers)
    _errors(app)

    @app.errorhandler(SettlewatchError)
    def settlewatch_error(exc: SettlewatchError) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return {"error": str(exc)}, 400
        return render_template("error.html", code=400, message=str(exc)), 400

    return app


def _register(app: Flask) -> None:
    from settlewatch.web import (
        api,
        audit,
        auth,
        change,
        change_actions,
        dashboard,
        evidence,
        feedroute,
        queue,
        sources,
        users,
    )

    for module in (
        auth,
        dashboard,
        queue,
        change,
        change_actions,
        sources,
        users,
        audit,
        feedroute,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(evidence.bp)
    csrf.exempt(api.bp)  # token requests carry no cookie; session requests are checked in api
    app.register_blueprint(api.bp)


def extension_state(app: Flask) -> Any:
    """The WebState of ``app`` (for tests and the CLI)."""
    return app.extensions["settlewatch"]
