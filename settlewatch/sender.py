"""The sender: delivers due outbox rows, each exactly once, through its channel's transport.

States::

    pending ──claim──▶ sending ──delivered──▶ sent
       ▲                  │
       └──retry (backoff)─┤ transient error, attempts < max_attempts
                          └──▶ failed          permanent error, or attempts used up

Exactly-once, and what exactly is guaranteed:

- A message is enqueued under its idempotency key (UNIQUE): enqueueing the same digest or
  alert again is a no-op, so a rerun of ``digest send`` finds nothing new to send.
- Claiming is a compare-and-set (``UPDATE … WHERE state = 'pending'``) committed *before* any
  network traffic, so two senders never deliver the same row. The claim sets a lease
  (``next_attempt_at`` = now + lease) and clears ``sent_at``.
- The transport calls ``handover()`` at the last moment it can still take the message back:
  for SMTP after the whole message is written but before the final ``.`` of DATA; for a
  webhook just before the HTTP request. ``handover`` commits ``sent_at`` while the row is
  still ``sending``. Only then does the message leave.
- A crash leaves the row in ``sending``. When its lease has expired, ``recover`` resolves it
  without sending blindly:
  * ``sent_at`` is NULL: the crash came before the hand-over, so the server never accepted
    the message (an SMTP server discards a DATA without its final ``.``). It goes back to
    ``pending`` and is sent once.
  * ``sent_at`` is set: the message was handed over and probably delivered. It is marked
    ``sent`` with ``last_error`` "unconfirmed …" and reported, never re-sent.
  So a crash never duplicates. The one window where a message can be lost is between the
  hand-over commit and the server's reply (one round trip): if the server then refused the
  message, nobody hears of it. Such rows are reported as unconfirmed with their key (the
  Message-ID derives from it), so an operator can check the mail server's log.
- Transient failures (connection refused, timeouts, 4xx) retry with exponential backoff;
  after ``max_attempts`` tries, or at once on a permanent failure (5xx, a bad URL), the row is
  ``failed`` and reported.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update

from settlewatch.errors import UsageError
from settlewatch.outbox import Clock, DeliveryError, OutboxRow, Transport, due_ids, stored_row
from settlewatch.store.db import begin_write, utcnow
from settlewatch.store.schema import outbox


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 5
    backoff_seconds: float = 60.0  # 1, 2, 4, 8 … minutes
    backoff_cap_seconds: float = 6 * 3600.0
    lease_seconds: float = 300.0  # longer than any one delivery can take (SMTP timeout 30 s)

    def backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.backoff_seconds * 2 ** max(attempts - 1, 0)
        return dt.timedelta(seconds=min(seconds, self.backoff_cap_seconds))


_POLICY_SETTINGS = {
    "outbox_max_attempts": "max_attempts",
    "outbox_backoff": "backoff_seconds",
    "outbox_lease": "lease_seconds",
}


def policy_from(values: Mapping[str, str] | None = None) -> Policy:
    """The sender policy from settings (config file keys, else SETTLEWATCH_OUTBOX_* env)."""
    kwargs: dict[str, Any] = {}
    for name, attr in _POLICY_SETTINGS.items():
        env = "SETTLEWATCH_" + name.upper()
        raw = (values or {}).get(name) or os.environ.get(env)
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError as exc:
            raise UsageError(
                f"{env}: {raw!r} is not a number (fix: give seconds or a count)"
            ) from exc
        if number <= 0:
            raise UsageError(f"{env}: must be greater than 0 (fix: give a positive number)")
        kwargs[attr] = int(number) if attr == "max_attempts" else number
    return Policy(**kwargs)


@dataclass
class Report:
    """What one sender pass did; ids per outcome, errors by id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)  # interrupted before hand-over
    unconfirmed: list[int] = field(default_factory=list)  # interrupted after hand-over
    skipped: list[int] = field(default_factory=list)  # no transport for the channel
    errors: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "requeued": self.requeued,
            "unconfirmed": self.unconfirmed,
            "skipped": self.skipped,
            "errors": {str(k): v for k, v in self.errors.items()},
        }


def recover(engine: Engine, now: dt.datetime, kinds: Iterable[str], report: Report) -> None:
    """Resolve rows left in ``sending`` by a crashed sender whose lease has expired."""
    with begin_write(engine) as conn:
        stuck = conn.execute(
            select(outbox.c.id, outbox.c.sent_at, outbox.c.idempotency_key).where(
                outbox.c.state == "sending",
                outbox.c.kind.in_(list(kinds)),
                outbox.c.next_attempt_at < now,
            )
        ).all()
        for r in stuck:
            if r.sent_at is None:
                values: dict[str, Any] = {
                    "state": "pending",
                    "next_attempt_at": now,
                    "last_error": "interrupted before hand-over; sending again",
                }
                report.requeued.append(r.id)
            else:
                values = {
                    "state": "sent",
                    "next_attempt_at": None,
                    "last_error": f"unconfirmed: interrupted after hand-over at "
                    f"{r.sent_at.isoformat()}; not re-sent (key {r.idempotency_key})",
                }
                report.unconfirmed.append(r.id)
                report.errors[r.id] = values["last_error"]
            conn.execute(
                update(outbox)
                .where(outbox.c.id == r.id, outbox.c.state == "sending")
                .values(**values)
            )


def _claim(engine: Engine, row_id: int, now: dt.datetime, policy: Policy) -> OutboxRow | None:
    with begin_write(engine) as conn:
        claimed = conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.state == "pending")
            .values(
                state="sending",
                attempts=outbox.c.attempts + 1,
                next_attempt_at=now + dt.timedelta(seconds=policy.lease_seconds),
                sent_at=None,
            )
        ).rowcount
        if not claimed:
            return None  # another sender took it
        return stored_row(conn.execute(select(outbox).where(outbox.c.id == row_id)).one())


def _handover(engine: Engine, row_id: int, clock: Clock) -> Callable[[], None]:
    def handover() -> None:
        with begin_write(engine) as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.state == "sending")
                .values(sent_at=clock())
            )

    return handover


def _finish(
    engine: Engine,
    row: OutboxRow,
    error: DeliveryError | None,
    now: dt.datetime,
    policy: Policy,
    report: Report,
) -> None:
    attempts = row.attempts  # the claim counted this attempt
    if error is None:
        values: dict[str, Any] = {"state": "sent", "next_attempt_at": None, "last_error": ""}
        report.sent.append(row.id)
    elif error.permanent or attempts >= policy.max_attempts:
        values = {"state": "failed", "next_attempt_at": None, "sent_at": None}
        values["last_error"] = f"attempt {attempts}: {error}"
        report.failed.append(row.id)
        report.errors[row.id] = values["last_error"]
    else:
        values = {"state": "pending", "next_attempt_at": now + policy.backoff(attempts)}
        values |= {"sent_at": None, "last_error": f"attempt {attempts}: {error}"}
        report.retrying.append(row.id)
        report.errors[row.id] = values["last_error"]
    with begin_write(engine) as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row.id, outbox.c.state == "sending")
            .values(**values)
        )


def deliver_due(
    engine: Engine,
    transports: Mapping[str, Transport],
    *,
    kinds: Iterable[str],
    policy: Policy | None = None,
    clock: Clock = utcnow,
) -> Report:
    """Recover interrupted rows, then deliver every due row of ``kinds`` once."""
    policy = policy or Policy()
    kinds = tuple(kinds)
    report = Report()
    recover(engine, clock(), kinds, report)
    with engine.connect() as conn:
        ids = due_ids(conn, kinds, clock())
    for row_id, channel in ids:
        transport = transports.get(channel)
        if transport is None:
            report.skipped.append(row_id)  # stays pending until that channel is configured
            continue
        row = _claim(engine, row_id, clock(), policy)
        if row is None:
            continue
        error: DeliveryError | None = None
        try:
            transport.deliver(row, _handover(engine, row.id, clock))
        except DeliveryError as exc:
            error = exc
        _finish(engine, row, error, clock(), policy, report)
    return report
