"""Logging in and out, the current user, roles, and the user's own account page.

A session cookie holds the user id and a stamp derived from the password hash, so a new
password or a disabled account ends every open session. API requests may instead send
``Authorization: Bearer <token>``; every other request without a login is sent to /login
(pages) or answered 401 (the API).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.store.db import begin_write
from settlewatch.users import Role, api_token, get_user_by_id, set_password, user_for_token, verify
from settlewatch.web.format import csp_nonce
from settlewatch.web.state import state

bp = Blueprint("auth", __name__)
OPEN_ENDPOINTS = frozenset({"auth.login", "feed.atom"})  # the feed checks its token
F = TypeVar("F", bound=Callable[..., Any])


def _is_api() -> bool:
    return request.path.startswith("/api/")


def load_user() -> ResponseReturnValue | None:
    """Before every request: who is this? Refuse anyone unknown outside /login."""
    csp_nonce()
    g.user, g.via_token = None, False
    engine = state().engine
    header = request.headers.get("Authorization", "")
    if _is_api() and header.lower().startswith("bearer "):
        with engine.connect() as conn:
            user = user_for_token(conn, header[7:])
        if user is None:
            return {"error": "invalid or revoked API token"}, 401
        g.user, g.via_token = user, True
        return None
    uid = session.get("uid")
    if isinstance(uid, int):
        with engine.connect() as conn:
            user = get_user_by_id(conn, uid)
        if user is not None and not user.disabled and session.get("stamp") == user.session_stamp:
            g.user = user
        else:
            session.clear()
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        if _is_api():
            return {"error": "login required (send Authorization: Bearer <token>)"}, 401
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    return None


def require(role: Role) -> Callable[[F], F]:
    """The view needs ``role`` or a stronger one; others get 403."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if g.user is None or not g.user.can(role):
                abort(403, f"This needs the {role} role; you are {g.user.role}.")
            return view(*args, **kwargs)

        return cast(F, inner)

    return wrap


def _safe_next(target: str | None) -> str:
    # Only local paths: an attacker's ?next=https://evil/ must not turn login into a redirector
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""), name="")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    st = state()
    keys = [f"name:{name.lower()}", f"addr:{request.remote_addr}"]
    wait = st.limiter.retry_after(keys)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        msg = f"Too many failed logins. Try again in about {minutes} minute(s)."
        return render_template("login.html", next="", name=name, error=msg), 429
    with begin_write(st.engine) as conn:
        user = verify(conn, name, password) if name and password else None
    if user is None:
        st.limiter.failed(keys)
        msg = "Wrong name or password, or the account is disabled."
        return render_template("login.html", next="", name=name, error=msg), 401
    st.limiter.succeeded(keys[0])
    session.clear()
    session.permanent = True
    session["uid"], session["stamp"] = user.id, user.session_stamp
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    flash("You are logged out.", "ok")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    user = g.user
    if request.method == "POST":
        st = state()
        with begin_write(st.engine) as conn:
            if verify(conn, user.name, request.form.get("current", "")) is None:
                flash("The current password is wrong.", "error")
                return redirect(url_for("auth.account"))
            try:
                set_password(conn, user.name, request.form.get("new", ""))
            except UsageError as exc:
                flash(str(exc), "error")
                return redirect(url_for("auth.account"))
            fresh = get_user_by_id(conn, user.id)
        assert fresh is not None
        session["stamp"] = fresh.session_stamp
        flash("Password changed. Your API token changed with it.", "ok")
        return redirect(url_for("auth.account"))
    show = request.args.get("token") == "1"
    return render_template("account.html", token=api_token(user) if show else None)
