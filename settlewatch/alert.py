"""Urgent alerts: critical approved findings go to the merchants they touch at once.

(Source health changes go to the operator: settlewatch.operator_alert.)

A finding is critical when its severity is S4, or when a stop it announces (the category's
``urgent_on`` dates: a maintenance window, a no-settlement hold, a termination) starts within
``urgent_hours`` (72) of now or is under way. Each (finding, merchant, channel, recipient) is
one outbox row under a fixed key, so ``settlewatch alerts send`` can run every few minutes and
each alert still goes out once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from settlewatch.calendar_ics import calendar_ics, parse_when
from settlewatch.digest import LABELS as DIGEST_LABELS
from settlewatch.digest import DigestEntry, environment, inline_css
from settlewatch.digest_build import entry_for, publisher
from settlewatch.impact import affects
from settlewatch.models import Merchant
from settlewatch.outbox import Attachment, Message, enqueue, recipient_tag
from settlewatch.store.db import begin_write
from settlewatch.store.merchants import load_merchants
from settlewatch.store.queries import change_rows_query
from settlewatch.store.schema import changes, findings, outbox
from settlewatch.taxonomy import Taxonomy

RECENT = dt.timedelta(days=7)  # an S4 finding detected longer ago than this is digest news
HORIZON = dt.timedelta(days=120)  # how far back a finding can announce a stop still to come
_END_OF = {"window_start": "window_end", "no_settlement_start": "no_settlement_end"}

LABELS: dict[str, dict[str, Any]] = {
    "zh": {
        "subject": "【紧急】{title}",
        "heading": "紧急结算提醒",
        "greeting": "{name}，您好：",
        "intro": "以下已审核的变更即将影响您的结算，请尽快安排：",
        "footer": "本提醒由 settlewatch 于 {generated} 发出，所列变更已经合规人员审核。",
    },
    "en": {
        "subject": "[Urgent] {title}",
        "heading": "Urgent settlement notice",
        "greeting": "Dear {name},",
        "intro": "This reviewed change affects your settlement very soon. Please act now:",
        "footer": "Sent by settlewatch at {generated}. The change was reviewed by a compliance "
        "officer.",
    },
}


def _local(now: dt.datetime, tz: str) -> dt.datetime:
    # notice times are wall-clock times of the notice's zone, stored without an offset
    return now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _naive(value: str, tz: ZoneInfo) -> dt.datetime | None:
    when = parse_when(value, tz)
    if when is None:
        return None
    if isinstance(when, dt.datetime):
        return when.replace(tzinfo=None)
    return dt.datetime.combine(when, dt.time())


def urgent_date(
    row: Mapping[str, Any], taxonomy: Taxonomy, now: dt.datetime, tz: str
) -> str | None:
    """The date key that makes this finding a stop within urgent_hours of ``now``, if any."""
    category = taxonomy.category(row["category"])
    dates = {k: v["value"] for k, v in (row["dates"] or {}).items() if isinstance(v, dict)}
    zone = ZoneInfo(tz)
    local = _local(now, tz)
    horizon = local + dt.timedelta(hours=taxonomy.scoring.urgent_hours)
    for key in category.urgent_on:
        start = _naive(dates[key], zone) if key in dates else None
        if start is None:
            continue
        end_value = dates.get(_END_OF.get(key, ""))
        end = _naive(end_value, zone) if end_value else None
        if end is not None and end.time() == dt.time():  # a whole day: until its end
            end += dt.timedelta(days=1)
        if local <= start <= horizon or start <= local <= (end or start):
            return key
    return None


def is_over(row: Mapping[str, Any], now: dt.datetime, tz: str) -> bool:
    """The stop the finding announces has already ended: too late for an alert."""
    dates = {k: v["value"] for k, v in (row["dates"] or {}).items() if isinstance(v, dict)}
    ends = [_naive(dates[k], ZoneInfo(tz)) for k in _END_OF.values() if k in dates]
    local = _local(now, tz)
    return bool(ends) and all(e is not None and e < local for e in ends)


def critical_rows(
    conn: Connection, taxonomy: Taxonomy, now: dt.datetime, tz: str
) -> list[dict[str, Any]]:
    """Approved findings that warrant an alert now, oldest first."""
    q = (
        change_rows_query()
        .add_columns(findings.c.action_text)
        .where(findings.c.status == "approved", changes.c.technical.is_(False))
        .where(changes.c.created_at >= now - HORIZON)
    )
    out = []
    for r in conn.execute(q):
        row = dict(r._mapping)
        recent_s4 = row["severity"] == "S4" and row["created_at"] >= now - RECENT
        if (recent_s4 or urgent_date(row, taxonomy, now, tz)) and not is_over(row, now, tz):
            out.append(row)
    return out


@dataclass(frozen=True)
class AlertContext:
    """What alert.html and alert.txt show; both render from it."""

    merchant: Merchant
    entry: DigestEntry
    generated_at: dt.datetime
    timezone: str = "Asia/Shanghai"

    @property
    def generated(self) -> str:
        local = self.generated_at.astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} ({self.timezone})"

    @property
    def labels(self) -> dict[str, Any]:
        return DIGEST_LABELS[self.merchant.language] | LABELS[self.merchant.language]

    @property
    def subject(self) -> str:
        return str(self.labels["subject"]).format(title=" ".join(self.entry.title.split()))


def render_alert(ctx: AlertContext) -> tuple[str, str]:
    env = environment()
    values = {"ctx": ctx, "t": ctx.labels, "e": ctx.entry, "subject": ctx.subject}
    html = inline_css(env.get_template("alert.html").render(values))
    return html, env.get_template("alert.txt").render(values)


def alert_keys(finding_id: int, m: Merchant) -> list[str]:
    base = f"alert:{finding_id}:{m.id}"
    return [f"{base}:email"] + [f"{base}:webhook:{recipient_tag(url)}" for url in m.webhooks]


def alert_messages(ctx: AlertContext, tz: str) -> list[Message]:
    """One email and one message per webhook for one merchant and one finding."""
    html, text = render_alert(ctx)
    e, m = ctx.entry, ctx.merchant
    ics = calendar_ics((e,), m.language, tz, ctx.generated_at.replace(microsecond=0))
    files = (Attachment(f"settlewatch-alert-{e.finding_id}.ics", "text/calendar", ics),)
    email_key, *hook_keys = alert_keys(e.finding_id, m)
    common: dict[str, Any] = {"kind": "alert", "merchant_id": m.id, "subject": ctx.subject}
    out = [
        Message(
            channel="email",
            recipient=m.email,
            idempotency_key=email_key,
            body_text=text,
            body_html=html,
            attachments=files if ics else (),
            **common,
        )
    ]
    for url, key in zip(m.webhooks, hook_keys, strict=True):
        out.append(
            Message(channel="webhook", recipient=url, idempotency_key=key, body_text=text, **common)
        )
    return out


def _queued_keys(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        q = select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(keys[i : i + 500]))
        found.update(conn.scalars(q))
    return found


def queue_alerts(
    engine: Engine, taxonomy: Taxonomy, now: dt.datetime, tz: str = "Asia/Shanghai"
) -> list[int]:
    """Queue an alert for every critical finding and merchant it touches; the new row ids.

    Runs every minute from the scheduler: alerts already queued are recognised by their keys
    before anything is rendered.
    """
    with engine.connect() as conn:
        rows = critical_rows(conn, taxonomy, now, tz)
        merchants = load_merchants(conn) if rows else []
        pairs = [
            (row, m)
            for row in rows
            for m in merchants
            if affects(publisher(row), tuple(row["flows"] or ()), m)
        ]
        done = _queued_keys(conn, [k for row, m in pairs for k in alert_keys(row["finding_id"], m)])
    messages = []
    for row, m in pairs:
        if not set(alert_keys(row["finding_id"], m)) <= done:
            entry = entry_for(row, m, taxonomy, tz)
            ctx = AlertContext(m, entry, now, tz)
            messages += [msg for msg in alert_messages(ctx, tz) if msg.idempotency_key not in done]
    added = []
    with begin_write(engine) as conn:
        for msg in messages:
            row_id, new = enqueue(conn, msg, now)
            if new:
                added.append(row_id)
    return added
