"""`settlewatch serve`, `settlewatch users ...` and `settlewatch review ...`.

Review from the CLI goes through review.decide, the same code path and audit log as the web
app, and acts as a named user (--as) whose role must allow reviewing.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.errors import UsageError
from settlewatch.review import decide, refresh_stale
from settlewatch.store.db import begin_write, utcnow
from settlewatch.taxonomy import load_taxonomy
from settlewatch.users import (
    ROLES,
    User,
    add_user,
    api_token,
    get_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
)
from settlewatch.web.finding_query import STATUSES, QueueFilter, queue_page


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """Start the review web app on a threaded server (production: see the README's WSGI setup).

    Sessions are signed with SETTLEWATCH_SECRET_KEY; without it they end on restart.
    """
    from werkzeug.serving import run_simple

    from settlewatch.web.app import create_app

    web = create_app(app.db_url, config=app.config, sources_dir=app.config.get("sources") or None)
    click.echo(f"settlewatch review app on http://{host}:{port}/ (Ctrl+C stops)", err=True)
    run_simple(host, port, web, threaded=True, use_reloader=False, use_debugger=False)


@click.group()
def users() -> None:
    """Users of the review app and their roles (admin, officer, viewer)."""


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@pass_app
def users_add(app: App, name: str, role: str, password_stdin: bool) -> None:
    """Add a user; the password comes from a prompt or, with --password-stdin, from stdin."""
    password = _password(password_stdin)
    with begin_write(app.engine) as conn:
        user = add_user(conn, name, role, password, utcnow())
    click.echo(f"added {user.name} ({user.role})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def users_list(app: App, as_json: bool) -> None:
    """List users with their roles."""
    with app.engine.connect() as conn:
        people = list_users(conn)
    rows = [{"name": u.name, "role": u.role, "disabled": u.disabled} for u in people]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<24} {r['role']:<8} {'disabled' if r['disabled'] else ''}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (scripts).")
@pass_app
def users_passwd(app: App, name: str, password_stdin: bool) -> None:
    """Set a user's password (this also revokes their API token and sessions)."""
    password = _password(password_stdin)
    with begin_write(app.engine) as conn:
        set_password(conn, name, password)
    click.echo(f"password of {name} set")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@pass_app
def users_role(app: App, name: str, role: str) -> None:
    """Change a user's role."""
    with begin_write(app.engine) as conn:
        set_role(conn, name, role)
    click.echo(f"{name} is now {role}")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@pass_app
def users_disable(app: App, name: str, enable: bool) -> None:
    """Disable a user (their sessions and token stop working at once)."""
    with begin_write(app.engine) as conn:
        set_disabled(conn, name, not enable)
    click.echo(f"{name} {'enabled' if enable else 'disabled'}")


@users.command("token")
@click.argument("name")
@pass_app
def users_token(app: App, name: str) -> None:
    """Print a user's API token (Authorization: Bearer <token>)."""
    click.echo(api_token(_user(app, name, None)))


def _user(app: App, name: str, role: str | None) -> User:
    with app.engine.connect() as conn:
        user = get_user(conn, name)
    if user is None:
        raise UsageError(f"--as {name}: no such user (fix: `settlewatch users add {name} ...`)")
    if role is not None and not user.can(role):  # type: ignore[arg-type]
        raise UsageError(f"--as {name}: a {user.role} cannot review (fix: use an officer)")
    return user


@click.group()
def review() -> None:
    """Review findings from the CLI (same code path and audit log as the web app)."""


@review.command("list")
@click.option("--status", default="pending", show_default=True, type=click.Choice(STATUSES))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def review_list(app: App, status: str, as_json: bool) -> None:
    """List findings, most severe and newest first."""
    now = utcnow()
    with begin_write(app.engine) as conn:
        refresh_stale(conn, now)
    rows: list[dict[str, Any]] = []
    with app.engine.connect() as conn:
        page = 1
        while True:
            result = queue_page(
                conn, QueueFilter(status=status, page=page, per_page=500), now, with_counts=False
            )
            rows.extend(r.as_json() for r in result.rows)
            if page >= result.pages:
                break
            page += 1
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        eyes = (
            f" {len(r['approvals'])}/{r['approvals_needed']}" if r["approvals_needed"] > 1 else ""
        )
        stale = " [stale]" if r["stale"] else ""
        click.echo(
            f"{r['id']:>6}  {r['severity']}  {r['category']:<20} {r['status']:<9}{eyes}{stale} "
            f"[{r['source']}] {r['title']}"
        )
    click.echo(f"{len(rows)} finding(s)", err=True)


@review.command("approve")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-pending", is_flag=True, help="Approve every pending finding not deferred.")
@click.option("--as", "as_user", required=True, metavar="USER", help="Who approves.")
@pass_app
def review_approve(app: App, ids: tuple[int, ...], all_pending: bool, as_user: str) -> None:
    """Approve findings. A critical (S4) finding needs a second, different officer."""
    user = _user(app, as_user, "officer")
    now = utcnow()
    if all_pending:
        if ids:
            raise UsageError("give finding ids or --all-pending, not both")
        with app.engine.connect() as conn:
            page = queue_page(conn, QueueFilter(per_page=1_000_000), now, with_counts=False)
        ids = tuple(r.id for r in page.rows if user.name not in r.approvals)
    elif not ids:
        raise UsageError("name the finding ids to approve (fix: ID... or --all-pending)")
    failed = 0
    for fid in ids:
        try:
            with begin_write(app.engine) as conn:
                result = decide(conn, fid, "approve", user.name, now)
            click.echo(result.message)
        except UsageError as exc:
            failed += 1
            click.echo(f"error: {exc}", err=True)
    if failed:
        raise SystemExit(1)


@review.command("dismiss")
@click.argument("finding_id", type=int)
@click.option("--reason", required=True, help="Why it is dismissed (kept in the audit log).")
@click.option("--as", "as_user", required=True, metavar="USER", help="Who dismisses.")
@pass_app
def review_dismiss(app: App, finding_id: int, reason: str, as_user: str) -> None:
    """Dismiss a finding with a reason."""
    user = _user(app, as_user, "officer")
    with begin_write(app.engine) as conn:
        result = decide(conn, finding_id, "dismiss", user.name, utcnow(), reason)
    click.echo(result.message)


@review.command("defer")
@click.argument("finding_id", type=int)
@click.option(
    "--until",
    "until",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date (UTC) when it returns to the queue.",
)
@click.option("--as", "as_user", required=True, metavar="USER", help="Who defers.")
@pass_app
def review_defer(app: App, finding_id: int, until: dt.datetime, as_user: str) -> None:
    """Defer a finding until a date."""
    user = _user(app, as_user, "officer")
    with begin_write(app.engine) as conn:
        result = decide(
            conn,
            finding_id,
            "defer",
            user.name,
            utcnow(),
            until=until.replace(tzinfo=dt.UTC),
            taxonomy=load_taxonomy(),
        )
    click.echo(result.message)
