"""Operator alerts: one outbox message per health transition of a source.

Tracking calls ``source_health_changed`` inside the transaction that records the new health, so
the alert exists if and only if the transition does. Crawls import this module, not the
merchant alerts (settlewatch.alert), which need the digest templates.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from settlewatch.outbox import Channel, Message, enqueue, recipient_tag
from settlewatch.store.schema import outbox, sources

log = logging.getLogger("settlewatch.alert")

OPERATOR_EMAIL_VAR = "SETTLEWATCH_OPERATOR_EMAIL"
OPERATOR_WEBHOOKS_VAR = "SETTLEWATCH_OPERATOR_WEBHOOKS"
UNHEALTHY = frozenset({"failing", "blocked", "broken", "stale"})


@dataclass(frozen=True)
class OperatorRecipients:
    emails: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()


def operator_recipients(
    env: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None
) -> OperatorRecipients:
    """Config ``operator_email`` / ``operator_webhooks``, else SETTLEWATCH_OPERATOR_EMAIL and
    SETTLEWATCH_OPERATOR_WEBHOOKS; several are separated by commas or spaces."""
    env = os.environ if env is None else env
    values = values or {}

    def items(key: str, var: str) -> tuple[str, ...]:
        raw = values.get(key) or env.get(var, "")
        return tuple(p for p in raw.replace(",", " ").split() if p)

    return OperatorRecipients(
        items("operator_email", OPERATOR_EMAIL_VAR),
        items("operator_webhooks", OPERATOR_WEBHOOKS_VAR),
    )


def _last_alerted_state(conn: Connection, source_id: str) -> str | None:
    prefix = f"operator:{source_id}:"
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    key = conn.scalar(
        select(outbox.c.idempotency_key)
        .where(outbox.c.kind == "operator")
        .where(outbox.c.idempotency_key.like(escaped + "%", escape="\\"))
        .order_by(outbox.c.id.desc())
        .limit(1)
    )
    return key[len(prefix) :].split(":", 1)[0] if key else None


def source_health_changed(
    conn: Connection,
    source_id: str,
    state: str,
    reason: str,
    now: dt.datetime,
    recipients: OperatorRecipients | None = None,
) -> int:
    """Queue one operator alert per health transition of a source; return the rows added.

    Call it inside the transaction that records the new health: the alert then exists if and
    only if the transition does. Repeated calls with the same state add nothing, and a first
    ``ok`` (a healthy new source) is no news.
    """
    previous = _last_alerted_state(conn, source_id)
    if state == previous or state not in UNHEALTHY | {"ok"}:
        return 0
    if state == "ok" and previous in (None, "ok"):
        return 0
    who = recipients or operator_recipients()
    name = conn.scalar(select(sources.c.name).where(sources.c.id == source_id)) or source_id
    values = {"source_id": source_id, "name": name, "state": state, "reason": reason}
    values |= {"previous": previous or "ok", "at": now.isoformat(timespec="seconds")}
    from settlewatch.digest import environment  # Jinja2: only when there is news to send

    text = environment().get_template("alert.operator.txt").render(values)
    verb = "recovered" if state == "ok" else f"is {state}"
    subject = f"[settlewatch] source {source_id} {verb}"
    stamp = now.strftime("%Y%m%dT%H%M%S")
    targets: list[tuple[Channel, str]] = [("email", r) for r in who.emails]
    targets += [("webhook", r) for r in who.webhooks]
    if not targets:
        log.warning(
            "source %s %s, but no operator is configured to hear of it (set %s or %s)",
            source_id, verb, OPERATOR_EMAIL_VAR, OPERATOR_WEBHOOKS_VAR,
        )  # fmt: skip
    added = 0
    for channel, recipient in targets:
        key = f"operator:{source_id}:{state}:{stamp}:{channel}:{recipient_tag(recipient)}"
        msg = Message("operator", channel, recipient, key, subject, text)
        added += enqueue(conn, msg, now)[1]
    return added
