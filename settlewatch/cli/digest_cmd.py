"""`settlewatch digest ...`: render, preview and send merchant digests."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from settlewatch.cli.mail_cmd import echo_report, finish, send_outbox
from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.digest_build import iso_period, write_digests
from settlewatch.digest_send import plan_digests, preview, queue_digests
from settlewatch.errors import UsageError
from settlewatch.mailer import SmtpSettings, build_email, smtp_settings
from settlewatch.outbox import OutboxRow, requeue_failed
from settlewatch.store.db import begin_write
from settlewatch.taxonomy import load_taxonomy

WEEK_HELP = "ISO week such as 2026-W48 (default: the current week)."
_SUFFIX_FORMAT = {".html": "html", ".htm": "html", ".eml": "eml"}


def _week(week: str | None) -> str | None:
    if week is not None:
        iso_period(week)  # validates, with a clear error
    return week


@click.group()
def digest() -> None:
    """Merchant digests."""


@digest.command("render")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write <merchant>.<week>.<lang>.html and .txt files into.",
)
@click.option("--period", "--week", "period", help=WEEK_HELP)
@pass_app
def digest_render(app: App, out: Path, period: str | None) -> None:
    """Render one HTML and one text digest per merchant, from the approved findings."""
    count = write_digests(
        app.engine,
        out,
        load_taxonomy(),
        period=_week(period),
        now=dt.datetime.now(dt.UTC),
        tz=app.config.get("timezone"),
    )
    click.echo(f"wrote {count} digest file(s) to {out}")


def _preview_sender(app: App) -> SmtpSettings:
    try:
        return smtp_settings(app.config.values, os.environ)
    except UsageError:  # a preview talks to no server: a placeholder sender will do
        return SmtpSettings("localhost", 25, "settlewatch <settlewatch@localhost>")


@digest.command("preview")
@click.argument("merchant_id")
@click.option("--week", help=WEEK_HELP)
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language (default: the merchant's).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "eml"]),
    help="text, html, or eml (the whole MIME message with its .ics). "
    "Default: from the --out suffix (.html, .eml), else text.",
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Write to this file (default: stdout)."
)
@pass_app
def digest_preview(
    app: App,
    merchant_id: str,
    week: str | None,
    lang: str | None,
    fmt: str | None,
    out: Path | None,
) -> None:
    """Render MERCHANT_ID's digest for a week; nothing is queued or sent.

    A week whose digest was already queued shows exactly what that digest carries.
    """
    msg = preview(
        app.engine,
        load_taxonomy(),
        merchant_id,
        now=dt.datetime.now(dt.UTC),
        period=_week(week),
        tz=app.config.get("timezone"),
        language=lang,
    )
    fmt = fmt or _SUFFIX_FORMAT.get(out.suffix.lower() if out else "", "text")
    if fmt == "eml":
        row = OutboxRow(
            0, "digest", "email", msg.recipient, msg.subject, msg.body_text, msg.body_html,
            msg.attachments, msg.idempotency_key, 0,
        )  # fmt: skip
        data = build_email(row, _preview_sender(app)).as_bytes()
    else:
        data = (msg.body_html if fmt == "html" else msg.body_text).encode("utf-8")
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        click.echo(f"wrote {out} ({fmt})", err=True)


@digest.command("send")
@click.option("--week", help=WEEK_HELP)
@click.option("--dry-run", is_flag=True, help="Show who would get which digest; change nothing.")
@click.option("--retry-failed", is_flag=True, help="Give failed digests a fresh set of attempts.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_app
def digest_send(
    app: App, week: str | None, dry_run: bool, retry_failed: bool, as_json: bool
) -> None:
    """Queue each merchant's digest for the week in the outbox, then deliver due digests.

    Each merchant gets at most one digest per week, with the approved findings that no
    earlier digest carried; running this twice for a week sends nothing the second time.
    Exits 1 when a digest failed for good.
    """
    now = dt.datetime.now(dt.UTC)
    taxonomy, tz = load_taxonomy(), app.config.get("timezone")
    if dry_run:
        plan = plan_digests(app.engine, taxonomy, now=now, period=_week(week), tz=tz)
        if as_json:
            echo_json(plan.as_dict())
            return
        click.echo(f"dry run for {plan.period}: {len(plan.planned)} digest(s) would be queued")
        for c in plan.planned:
            click.echo(
                f"  {c.context.merchant.id:<28} {c.message.recipient:<36} "
                f"{len(c.context.entries)} entr{'y' if len(c.context.entries) == 1 else 'ies'}"
                f"{' +ics' if c.message.attachments else ''}  {c.message.subject}"
            )
        click.echo(f"already queued: {len(plan.already)}, nothing to send: {len(plan.skipped)}")
        return
    smtp_settings(app.config.values, os.environ)  # a clear error before anything is queued
    if retry_failed:
        with begin_write(app.engine) as conn:
            requeue_failed(conn, ("digest",), now)
    queued = queue_digests(app.engine, taxonomy, now=now, period=_week(week), tz=tz)
    report, problem = send_outbox(app, ("digest",))
    if as_json:
        echo_json({**queued.as_dict(), "delivery": report.as_dict()})
    else:
        click.echo(
            f"{queued.period}: queued {len(queued.queued)} digest(s); "
            f"{len(queued.already)} already queued, {len(queued.skipped)} with nothing to send"
        )
        echo_report(report)
    finish(report, problem)
