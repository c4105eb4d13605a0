"""`settlewatch alerts send`, and the outbox sending that `digest send` shares."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select

from settlewatch.alert import queue_alerts
from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.errors import SettlewatchError, UsageError
from settlewatch.mailer import SmtpTransport, smtp_settings
from settlewatch.notifier import WebhookTransport
from settlewatch.outbox import Transport, requeue_failed
from settlewatch.sender import Report, deliver_due, policy_from
from settlewatch.store.db import begin_write
from settlewatch.store.schema import outbox
from settlewatch.taxonomy import load_taxonomy

ALERT_KINDS = ("alert", "operator")


def _needs_email(app: App, kinds: Iterable[str]) -> bool:
    q = select(outbox.c.id).where(
        outbox.c.state.in_(["pending", "sending"]),
        outbox.c.kind.in_(list(kinds)),
        outbox.c.channel == "email",
    )
    with app.engine.connect() as conn:
        return conn.scalar(q.limit(1)) is not None


@contextmanager
def transports(app: App, kinds: Iterable[str]) -> Iterator[tuple[dict[str, Transport], str]]:
    """The transports to send with, and why mail cannot go ("" when it can or need not).

    SMTP settings are checked only when mail is waiting; when they are wrong, webhooks still
    go out (an operator alert about a broken source must not wait for a mail fix).
    """
    found: dict[str, Transport] = {"webhook": WebhookTransport()}
    smtp: SmtpTransport | None = None
    problem = ""
    if _needs_email(app, kinds):
        try:
            smtp = SmtpTransport(smtp_settings(app.config.values, os.environ))
            found["email"] = smtp
        except UsageError as exc:
            problem = str(exc)
    try:
        yield found, problem
    finally:
        if smtp is not None:
            smtp.close()


def send_outbox(app: App, kinds: Iterable[str]) -> tuple[Report, str]:
    kinds = tuple(kinds)
    with transports(app, kinds) as (found, problem):
        policy = policy_from(app.config.values)
        return deliver_due(app.engine, found, kinds=kinds, policy=policy), problem


def echo_report(report: Report) -> None:
    """One summary line; every row that failed or needs a look on stderr."""
    click.echo(
        f"sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}"
        + (f", unconfirmed {len(report.unconfirmed)}" if report.unconfirmed else "")
        + (f", resumed {len(report.requeued)}" if report.requeued else "")
    )
    for row_id in (*report.failed, *report.retrying, *report.unconfirmed):
        click.echo(f"  outbox {row_id}: {report.errors.get(row_id, '')}", err=True)


def finish(report: Report, problem: str = "") -> None:
    """Exit nonzero when mail could not be sent at all, or a message failed for good."""
    if problem:
        raise UsageError(f"{problem}; {len(report.skipped)} email(s) wait in the outbox")
    if report.failed:
        raise SettlewatchError(
            f"{len(report.failed)} message(s) failed for good: outbox ids "
            + ", ".join(map(str, report.failed))
            + " (fix: correct the cause, then send again with --retry-failed)"
        )


@click.group()
def alerts() -> None:
    """Urgent alerts to merchants, and source-health alerts to the operator."""


@alerts.command("send")
@click.option("--retry-failed", is_flag=True, help="Give failed alerts a fresh set of attempts.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_app
def alerts_send(app: App, retry_failed: bool, as_json: bool) -> None:
    """Queue an alert for each critical approved finding, then deliver every due alert.

    Critical: severity S4, or a stop (maintenance window, no-settlement hold) starting within
    72 hours. Each alert goes to the merchant's email and webhooks once; operator alerts about
    source health go to SETTLEWATCH_OPERATOR_EMAIL / SETTLEWATCH_OPERATOR_WEBHOOKS.
    Exits 1 when a message failed for good.
    """
    now = dt.datetime.now(dt.UTC)
    if retry_failed:
        with begin_write(app.engine) as conn:
            requeue_failed(conn, ALERT_KINDS, now)
    queued = queue_alerts(app.engine, load_taxonomy(), now, app.config.get("timezone"))
    report, problem = send_outbox(app, ALERT_KINDS)
    if as_json:
        echo_json({"queued": queued, **report.as_dict()})
    else:
        click.echo(f"queued {len(queued)} alert message(s)")
        echo_report(report)
    finish(report, problem)
