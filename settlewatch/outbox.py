"""The outbox: every digest and alert is stored as a row first; settlewatch.sender delivers.

States::

    pending ──claim──▶ sending ──delivered──▶ sent
       ▲                  │
       └──retry (backoff)─┤ transient error, attempts < max_attempts
                          └──▶ failed          permanent error, or attempts used up

A message is enqueued under its idempotency key (UNIQUE): enqueueing the same digest or alert
again is a no-op, so a rerun of ``digest send`` finds nothing new to send. How a crash between
sending and committing is kept from duplicating a message is described in settlewatch.sender.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, func, select, update

from settlewatch.errors import OperationalError
from settlewatch.store.schema import outbox
from settlewatch.store.sql import insert_ignore

Kind = Literal["digest", "alert", "operator"]
Channel = Literal["email", "webhook"]
Clock = Callable[[], dt.datetime]


class DeliveryError(OperationalError):
    """A transport could not deliver; ``permanent`` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar"
    text: str

    def as_json(self) -> dict[str, str]:
        return {"filename": self.filename, "content_type": self.content_type, "text": self.text}


@dataclass(frozen=True)
class Message:
    """One message to one recipient on one channel, before it is enqueued."""

    kind: Kind
    channel: Channel
    recipient: str
    idempotency_key: str
    subject: str
    body_text: str
    body_html: str = ""
    merchant_id: str | None = None
    period: str = ""
    attachments: tuple[Attachment, ...] = ()

    @property
    def content_hash(self) -> str:
        parts = [self.subject, self.body_text, self.body_html]
        parts += [json.dumps(a.as_json(), sort_keys=True) for a in self.attachments]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class OutboxRow:
    """A stored message as a transport sees it."""

    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attachments: tuple[Attachment, ...]
    idempotency_key: str
    attempts: int
    period: str = ""
    merchant_id: str | None = None


class Transport(Protocol):
    def deliver(self, row: OutboxRow, handover: Callable[[], None]) -> None:
        """Deliver ``row``; call ``handover()`` right before the message leaves for good."""


def recipient_tag(recipient: str) -> str:
    """A short, stable stand-in for a recipient inside an idempotency key (webhook URLs carry
    tokens, and keys are shown to operators)."""
    return hashlib.sha256(recipient.encode()).hexdigest()[:16]


def enqueue(conn: Connection, msg: Message, now: dt.datetime) -> tuple[int, bool]:
    """Store ``msg`` unless its key is already there; return (outbox id, newly added)."""
    key = outbox.c.idempotency_key
    existing = conn.scalar(select(outbox.c.id).where(key == msg.idempotency_key))
    if existing is not None:
        return existing, False
    row = {
        "kind": msg.kind,
        "channel": msg.channel,
        "recipient": msg.recipient,
        "merchant_id": msg.merchant_id,
        "period": msg.period,
        "subject": msg.subject,
        "body_text": msg.body_text,
        "body_html": msg.body_html,
        "attachments": [a.as_json() for a in msg.attachments],
        "content_hash": msg.content_hash,
        "idempotency_key": msg.idempotency_key,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }
    # a concurrent sender may have inserted the same key since the SELECT: ignore, then read
    insert_ignore(conn, outbox, [row])
    new_id = conn.scalar(select(outbox.c.id).where(key == msg.idempotency_key))
    assert new_id is not None
    return new_id, new_id != existing


def stored_row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        kind=r.kind,
        channel=r.channel,
        recipient=r.recipient,
        subject=r.subject,
        body_text=r.body_text,
        body_html=r.body_html,
        attachments=tuple(Attachment(**a) for a in r.attachments or ()),
        idempotency_key=r.idempotency_key,
        attempts=r.attempts,
        period=r.period,
        merchant_id=r.merchant_id,
    )


def due_ids(conn: Connection, kinds: Iterable[str], now: dt.datetime) -> list[tuple[int, str]]:
    """(id, channel) of the pending rows whose next attempt is due, oldest first."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.channel)
        .where(outbox.c.state == "pending", outbox.c.kind.in_(list(kinds)))
        .where(outbox.c.next_attempt_at.is_(None) | (outbox.c.next_attempt_at <= now))
        .order_by(outbox.c.id)
    )
    return [(r.id, r.channel) for r in rows]


def requeue_failed(conn: Connection, kinds: Iterable[str], now: dt.datetime) -> int:
    """Give failed rows of ``kinds`` a fresh set of attempts (after fixing the cause)."""
    return conn.execute(
        update(outbox)
        .where(outbox.c.state == "failed", outbox.c.kind.in_(list(kinds)))
        .values(state="pending", attempts=0, next_attempt_at=now, last_error="")
    ).rowcount


def outbox_counts(conn: Connection, kinds: Iterable[str]) -> dict[str, int]:
    q = (
        select(outbox.c.state, func.count())
        .where(outbox.c.kind.in_(list(kinds)))
        .group_by(outbox.c.state)
    )
    return {r[0]: int(r[1]) for r in conn.execute(q)}
