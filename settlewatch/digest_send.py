"""Queue each merchant's weekly digest in the outbox, exactly once per merchant and week.

``queue_digests`` renders the digests of a period and, in one transaction, writes one outbox
row per merchant (idempotency key ``digest:<merchant>:<week>:email``), the ``digest_entries``
that record which findings it carries (so no later digest repeats them) and the ``digests``
record. Running it again for the same week finds every key taken and queues nothing. The
outbox sender then delivers the rows (see settlewatch.outbox).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine

from settlewatch.calendar_ics import calendar_ics
from settlewatch.digest import DigestContext, digest_subject, render_digest
from settlewatch.digest_build import (
    build_contexts,
    current_period,
    digest_key,
    digest_record,
    load_inputs,
)
from settlewatch.errors import UsageError
from settlewatch.outbox import Attachment, Message, enqueue
from settlewatch.store.db import begin_write
from settlewatch.store.schema import digest_entries, digests
from settlewatch.store.sql import insert_ignore, upsert_on
from settlewatch.taxonomy import Taxonomy


@dataclass(frozen=True)
class Composed:
    """One merchant's digest, ready for the outbox."""

    context: DigestContext
    message: Message

    @property
    def finding_ids(self) -> tuple[int, ...]:
        """Every finding the digest accounts for, including those its entries replace."""
        ids = [i for e in self.context.entries for i in (e.finding_id, *e.covers)]
        return tuple(dict.fromkeys(ids))


def compose(ctx: DigestContext, tz: str) -> Message:
    """The digest as an outbox message: text, inlined HTML and (when dated) an .ics file."""
    stamp = ctx.generated_at.replace(microsecond=0)
    ics = calendar_ics(ctx.entries, ctx.language, tz, stamp)
    if ics:
        ctx = dataclasses.replace(ctx, has_calendar=True)
    html, text = render_digest(ctx)
    attachments = (
        (Attachment(f"settlewatch-{ctx.period}.ics", "text/calendar", ics),) if ics else ()
    )
    return Message(
        kind="digest",
        channel="email",
        recipient=ctx.merchant.email,
        idempotency_key=digest_key(ctx.merchant.id, ctx.period),
        subject=digest_subject(ctx),
        body_text=text,
        body_html=html,
        merchant_id=ctx.merchant.id,
        period=ctx.period,
        attachments=attachments,
    )


def wanted(ctx: DigestContext) -> bool:
    """A digest goes out when it has entries, or when the merchant asked for quiet weeks too."""
    return bool(ctx.entries) or ctx.merchant.send_empty


@dataclass
class QueueReport:
    period: str
    queued: list[str] = field(default_factory=list)  # merchant ids newly queued
    already: list[str] = field(default_factory=list)  # a digest for this week exists
    skipped: list[str] = field(default_factory=list)  # nothing to say, and no empty digests
    planned: list[Composed] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "queued": self.queued,
            "already_queued": self.already,
            "nothing_to_send": self.skipped,
            "digests": [
                {
                    "merchant_id": c.context.merchant.id,
                    "recipient": c.message.recipient,
                    "language": c.context.language,
                    "subject": c.message.subject,
                    "entries": len(c.context.entries),
                    "finding_ids": list(c.finding_ids),
                    "calendar": bool(c.message.attachments),
                }
                for c in self.planned
            ],
        }


def plan_digests(
    engine: Engine,
    taxonomy: Taxonomy,
    *,
    now: dt.datetime,
    period: str | None = None,
    tz: str = "Asia/Shanghai",
    merchant_ids: list[str] | None = None,
) -> QueueReport:
    """Render the digests that ``queue_digests`` would queue, writing nothing."""
    period = period or current_period(now)
    with engine.connect() as conn:
        inputs = load_inputs(conn, period, merchant_ids)
    report = QueueReport(period)
    for ctx in build_contexts(inputs, now, taxonomy, tz):
        if ctx.merchant.id in inputs.queued:
            report.already.append(ctx.merchant.id)
        elif not wanted(ctx):
            report.skipped.append(ctx.merchant.id)
        else:
            report.planned.append(Composed(ctx, compose(ctx, tz)))
    return report


def queue_digests(
    engine: Engine,
    taxonomy: Taxonomy,
    *,
    now: dt.datetime,
    period: str | None = None,
    tz: str = "Asia/Shanghai",
) -> QueueReport:
    """Queue this period's digests in the outbox; a second run for the period queues none."""
    report = plan_digests(engine, taxonomy, now=now, period=period, tz=tz)
    with begin_write(engine) as conn:
        records = []
        for c in report.planned:
            outbox_id, added = enqueue(conn, c.message, now)
            if not added:  # another run queued it since we read
                report.already.append(c.context.merchant.id)
                continue
            report.queued.append(c.context.merchant.id)
            insert_ignore(
                conn,
                digest_entries,
                [
                    {"merchant_id": c.context.merchant.id, "finding_id": f, "outbox_id": outbox_id}
                    for f in c.finding_ids
                ],
            )
            records.append(digest_record(c.context, c.message.body_html, "queued", now))
        upsert_on(conn, digests, records, ("merchant_id", "period"))
    return report


def preview(
    engine: Engine,
    taxonomy: Taxonomy,
    merchant_id: str,
    *,
    now: dt.datetime,
    period: str | None = None,
    tz: str = "Asia/Shanghai",
    language: str | None = None,
) -> Message:
    """One merchant's digest as it would be (or was) queued, optionally in another language."""
    period = period or current_period(now)
    with engine.connect() as conn:
        inputs = load_inputs(conn, period, [merchant_id])
    if not inputs.merchants:
        raise UsageError(f"no merchant {merchant_id!r} (fix: see `settlewatch merchants list`)")
    if language is not None and language != inputs.merchants[0].language:
        # the entries' words come from the merchant's language: re-read them in the other one
        merchant = dataclasses.replace(inputs.merchants[0], language=language)  # type: ignore[arg-type]
        inputs = dataclasses.replace(inputs, merchants=(merchant,))
    return compose(build_contexts(inputs, now, taxonomy, tz)[0], tz)
