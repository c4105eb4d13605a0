"""User management for admins: add users, change roles, disable, reset passwords."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.store.db import begin_write, utcnow
from settlewatch.users import ROLES, add_user, list_users, set_disabled, set_password, set_role
from settlewatch.web.auth import require
from settlewatch.web.state import state

bp = Blueprint("users", __name__)


@bp.get("/users")
@require("admin")
def index() -> ResponseReturnValue:
    with state().engine.connect() as conn:
        people = list_users(conn)
    return render_template("users.html", people=people, roles=ROLES)


@bp.post("/users")
@require("admin")
def create() -> ResponseReturnValue:
    form = request.form
    try:
        with begin_write(state().engine) as conn:
            user = add_user(
                conn,
                form.get("name", "").strip(),
                form.get("role", ""),
                form.get("password", ""),
                utcnow(),
            )
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        flash(f"User {user.name} added as {user.role}.", "ok")
    return redirect(url_for("users.index"))


@bp.post("/users/<name>")
@require("admin")
def update(name: str) -> ResponseReturnValue:
    form = request.form
    action = form.get("action", "")
    if name == g.user.name and action in ("disable", "role"):
        flash("You cannot disable yourself or change your own role.", "error")
        return redirect(url_for("users.index"))
    try:
        with begin_write(state().engine) as conn:
            if action == "role":
                set_role(conn, name, form.get("role", ""))
            elif action in ("disable", "enable"):
                set_disabled(conn, name, action == "disable")
            elif action == "password":
                set_password(conn, name, form.get("password", ""))
            else:
                raise UsageError(f"unknown action {action!r}")
    except UsageError as exc:
        flash(str(exc), "error")
    else:
        flash(f"User {name}: {action} done.", "ok")
    return redirect(url_for("users.index"))
