"""The outbox state machine on SQLite and PostgreSQL: idempotent enqueue, claims, backoff,
failure after N attempts, and recovery of rows a crashed sender left in `sending`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select, update

from settlewatch.errors import UsageError
from settlewatch.outbox import (
    Attachment,
    DeliveryError,
    Message,
    OutboxRow,
    enqueue,
    outbox_counts,
    requeue_failed,
)
from settlewatch.sender import Policy, deliver_due, policy_from
from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import outbox

T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Recorder:
    """A transport that records deliveries and fails as told: a real Transport, no mocks."""

    def __init__(self, fail: Callable[[OutboxRow], DeliveryError | None] | None = None) -> None:
        self.delivered: list[str] = []
        self.fail = fail

    def deliver(self, row: OutboxRow, handover: Callable[[], None]) -> None:
        error = self.fail(row) if self.fail else None
        if error:
            raise error
        handover()
        self.delivered.append(row.idempotency_key)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = open_store(db_url)
    yield e
    e.dispose()


def msg(key: str, channel: str = "email") -> Message:
    return Message(
        kind="alert",
        channel=channel,  # type: ignore[arg-type]
        recipient="ops@example.com",
        idempotency_key=key,
        subject="s",
        body_text="t",
        attachments=(Attachment("a.ics", "text/calendar", "BEGIN:VCALENDAR"),),
    )


def state(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        q = select(outbox.c.idempotency_key, outbox.c.state, outbox.c.attempts)
        return [tuple(r) for r in conn.execute(q.order_by(outbox.c.id))]  # type: ignore[misc]


def test_enqueue_is_idempotent_by_key(engine: Engine) -> None:
    with begin_write(engine) as conn:
        first = enqueue(conn, msg("k1"), T0)
        again = enqueue(conn, msg("k1"), T0)
        other = enqueue(conn, msg("k2"), T0)
    assert first[1] and not again[1] and other[1]
    assert first[0] == again[0] != other[0]
    assert state(engine) == [("k1", "pending", 0), ("k2", "pending", 0)]
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == first[0])).one()
    assert row.content_hash == msg("k1").content_hash
    assert row.attachments == [
        {"filename": "a.ics", "content_type": "text/calendar", "text": "BEGIN:VCALENDAR"}
    ]


def test_delivers_each_row_once(engine: Engine) -> None:
    with begin_write(engine) as conn:
        enqueue(conn, msg("k1"), T0)
        enqueue(conn, msg("k2"), T0)
    rec = Recorder()
    report = deliver_due(engine, {"email": rec}, kinds=["alert"], clock=Clock())
    assert rec.delivered == ["k1", "k2"] and len(report.sent) == 2
    assert deliver_due(engine, {"email": rec}, kinds=["alert"], clock=Clock()).sent == []
    assert rec.delivered == ["k1", "k2"]
    with engine.connect() as conn:
        assert outbox_counts(conn, ["alert"]) == {"sent": 2}
        sent_at = conn.scalars(select(outbox.c.sent_at)).all()
    assert sent_at == [T0, T0]


def test_other_kinds_and_unconfigured_channels_wait(engine: Engine) -> None:
    with begin_write(engine) as conn:
        enqueue(conn, msg("mail"), T0)
        enqueue(conn, msg("hook", "webhook"), T0)
    rec = Recorder()
    assert deliver_due(engine, {"email": rec}, kinds=["digest"], clock=Clock()).sent == []
    report = deliver_due(engine, {"email": rec}, kinds=["alert"], clock=Clock())
    assert rec.delivered == ["mail"]
    assert len(report.skipped) == 1
    assert state(engine)[1] == ("hook", "pending", 0)  # no attempt was spent on it


def test_transient_failures_back_off_then_fail(engine: Engine) -> None:
    with begin_write(engine) as conn:
        enqueue(conn, msg("k"), T0)
    down = Recorder(lambda row: DeliveryError("connection refused"))
    policy = Policy(max_attempts=3, backoff_seconds=60)
    clock = Clock()
    report = deliver_due(engine, {"email": down}, kinds=["alert"], policy=policy, clock=clock)
    assert len(report.retrying) == 1
    with engine.connect() as conn:
        row = conn.execute(select(outbox)).one()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=60)
    assert row.last_error == "attempt 1: connection refused"
    clock.advance(59)  # not due yet
    assert (
        deliver_due(engine, {"email": down}, kinds=["alert"], policy=policy, clock=clock).retrying
        == []
    )
    clock.advance(1)
    deliver_due(engine, {"email": down}, kinds=["alert"], policy=policy, clock=clock)
    with engine.connect() as conn:
        assert conn.scalar(select(outbox.c.next_attempt_at)) == clock.now + dt.timedelta(
            seconds=120
        )
    clock.advance(120)
    report = deliver_due(engine, {"email": down}, kinds=["alert"], policy=policy, clock=clock)
    assert len(report.failed) == 1 and "attempt 3" in next(iter(report.errors.values()))
    assert state(engine) == [("k", "failed", 3)]
    clock.advance(3600)
    up = Recorder()
    assert deliver_due(engine, {"email": up}, kinds=["alert"], clock=clock).sent == []
    with begin_write(engine) as conn:
        assert requeue_failed(conn, ["alert"], clock.now) == 1
    assert len(deliver_due(engine, {"email": up}, kinds=["alert"], clock=clock).sent) == 1
    assert up.delivered == ["k"]


def test_permanent_failure_is_not_retried(engine: Engine) -> None:
    with begin_write(engine) as conn:
        enqueue(conn, msg("k"), T0)
    bad = Recorder(lambda row: DeliveryError("550 no such user", permanent=True))
    report = deliver_due(engine, {"email": bad}, kinds=["alert"], clock=Clock())
    assert len(report.failed) == 1
    assert state(engine) == [("k", "failed", 1)]


def _leave_sending(engine: Engine, key: str, handed_over: bool) -> None:
    """What a sender killed mid-send leaves behind: its claim, and maybe its hand-over."""
    with begin_write(engine) as conn:
        row_id, _ = enqueue(conn, msg(key), T0)
        conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                state="sending",
                attempts=1,
                next_attempt_at=T0 + dt.timedelta(seconds=300),
                sent_at=T0 if handed_over else None,
            )
        )


def test_recovery_resends_only_what_never_left(engine: Engine) -> None:
    _leave_sending(engine, "never-left", handed_over=False)
    _leave_sending(engine, "handed-over", handed_over=True)
    rec = Recorder()
    clock = Clock(T0 + dt.timedelta(seconds=10))
    report = deliver_due(engine, {"email": rec}, kinds=["alert"], clock=clock)
    assert rec.delivered == [] and report.requeued == []  # the lease is still held
    clock.advance(300)
    report = deliver_due(engine, {"email": rec}, kinds=["alert"], clock=clock)
    assert rec.delivered == ["never-left"]
    assert len(report.requeued) == 1 and len(report.unconfirmed) == 1
    assert state(engine) == [("never-left", "sent", 2), ("handed-over", "sent", 1)]
    with engine.connect() as conn:
        q = select(outbox.c.idempotency_key, outbox.c.last_error)
        errors = {r[0]: r[1] for r in conn.execute(q)}
    assert errors["handed-over"].startswith("unconfirmed: interrupted after hand-over")
    assert errors["never-left"] == ""


def test_a_claimed_row_is_not_taken_twice(engine: Engine) -> None:
    with begin_write(engine) as conn:
        enqueue(conn, msg("k"), T0)
    inner = Recorder()
    outer_delivered: list[str] = []

    class Reentrant:
        """While delivering, a second sender runs: it must find nothing to take."""

        def deliver(self, row: OutboxRow, handover: Callable[[], None]) -> None:
            deliver_due(engine, {"email": inner}, kinds=["alert"], clock=Clock())
            handover()
            outer_delivered.append(row.idempotency_key)

    deliver_due(engine, {"email": Reentrant()}, kinds=["alert"], clock=Clock())
    assert outer_delivered == ["k"] and inner.delivered == []


def test_policy_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert policy_from({}) == Policy()
    p = policy_from({"outbox_max_attempts": "7", "outbox_backoff": "5", "outbox_lease": "9"})
    assert (p.max_attempts, p.backoff_seconds, p.lease_seconds) == (7, 5.0, 9.0)
    monkeypatch.setenv("SETTLEWATCH_OUTBOX_BACKOFF", "2.5")
    assert policy_from({}).backoff_seconds == 2.5
    assert Policy(backoff_seconds=60, backoff_cap_seconds=200).backoff(4).total_seconds() == 200
    monkeypatch.setenv("SETTLEWATCH_OUTBOX_LEASE", "soon")
    with pytest.raises(UsageError, match="SETTLEWATCH_OUTBOX_LEASE: 'soon' is not a number"):
        policy_from({})
