"""Urgent alerts by email and webhook (apprise json:// and form:// to a local receiver), and
operator alerts on source-health transitions; each delivered once per key."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import icalendar
import pytest
from sqlalchemy import Engine, select

from settlewatch.alert import is_over, urgent_date
from settlewatch.notifier import IDEMPOTENCY_HEADER
from settlewatch.operator_alert import (
    OperatorRecipients,
    operator_recipients,
    source_health_changed,
)
from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import findings, outbox
from settlewatch.taxonomy import load_taxonomy
from tests.mailkit import HookServer, SmtpSink, set_merchant
from tests.sitekit import run

FROM = "Settlewatch <alerts@psp.example.com>"
T0 = dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai


def env(sink: SmtpSink, **extra: str) -> dict[str, str]:
    return {"SETTLEWATCH_SMTP_URL": sink.url, "SETTLEWATCH_MAIL_FROM": FROM, **extra}


def with_webhook(db: str, merchant_id: str, url: str) -> None:
    engine = open_store(db)
    set_merchant(engine, merchant_id, webhooks=[url])
    engine.dispose()


def outbox_rows(db: str) -> list[dict[str, Any]]:
    engine = open_store(db)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(outbox).order_by(outbox.c.id))]
    engine.dispose()
    return rows


def maintenance_id(db: str) -> int:
    engine = open_store(db)
    with engine.connect() as conn:
        q = select(findings.c.id).where(findings.c.category == "maint_planned")
        (fid,) = conn.scalars(q).all()
    engine.dispose()
    return int(fid)


def test_critical_finding_alerts_by_email_and_webhook_once(
    db: str, sink: SmtpSink, hook: HookServer
) -> None:
    with_webhook(db, "m-en", f"json://127.0.0.1:{hook.port}/hook")
    res = run(["alerts", "send"], db, **env(sink))
    assert res.exit_code == 0, res.output
    assert "queued 3 alert message(s)" in res.output and "sent 3" in res.output
    subjects = sorted(str(m["Subject"]) for m in sink.messages)
    assert subjects[0].startswith("[Urgent] 关于") and subjects[1].startswith("【紧急】关于")
    assert all("系统升级暂停D0实时到账" in s for s in subjects)
    # only the maintenance window two days out is critical: the holiday and fee notices wait
    # for the weekly digest
    fid = maintenance_id(db)
    assert {r["idempotency_key"].split(":")[1] for r in outbox_rows(db)} == {str(fid)}
    zh = next(m for m in sink.messages if m["To"] == "finance@xlb.example.com")
    ics = next(p for p in zh.walk() if p.get_content_type() == "text/calendar")
    (event,) = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert str(event["summary"]).startswith("系统维护：")
    html = next(p for p in zh.walk() if p.get_content_type() == "text/html").get_content()
    assert "紧急结算提醒" in html and "<style" not in html

    ((path, headers, _),) = hook.requests
    (payload,) = hook.json_bodies()
    key = f"alert:{fid}:m-en:webhook:"
    assert path == "/hook"
    assert headers[IDEMPOTENCY_HEADER].startswith(key)
    assert payload["idempotency_key"] == headers[IDEMPOTENCY_HEADER]
    assert payload["title"].startswith("[Urgent] ")
    assert "What to do: " in payload["message"]

    again = run(["alerts", "send"], db, **env(sink))
    assert "queued 0 alert message(s)" in again.output and "sent 0" in again.output
    assert len(sink.messages) == 2 and len(hook.requests) == 1


def test_webhook_failure_is_retried_and_delivered_once(
    db: str, sink: SmtpSink, hook: HookServer
) -> None:
    with_webhook(db, "m-en", f"json://127.0.0.1:{hook.port}/hook")
    hook.status = 500
    fast = env(sink, SETTLEWATCH_OUTBOX_BACKOFF="0.05")
    res = run(["alerts", "send"], db, **fast)
    assert "sent 2, retrying 1, failed 0" in res.output, res.output
    hook.status = 200
    time.sleep(0.1)
    assert "sent 1, retrying 0" in run(["alerts", "send"], db, **fast).output
    assert "sent 0" in run(["alerts", "send"], db, **fast).output
    keys = [h[IDEMPOTENCY_HEADER] for _, h, _ in hook.requests]
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry carries the same key
    (row,) = [r for r in outbox_rows(db) if r["channel"] == "webhook"]
    assert (row["state"], row["attempts"]) == ("sent", 2)


def test_webhook_secret_comes_from_the_environment(
    db: str, sink: SmtpSink, hook: HookServer
) -> None:
    with_webhook(db, "m-zh", f"json://127.0.0.1:{hook.port}/${{HOOK_TOKEN}}")
    res = run(["alerts", "send"], db, **env(sink))
    assert res.exit_code == 1
    assert "HOOK_TOKEN" in res.stderr and "fix: export HOOK_TOKEN" in res.stderr
    assert hook.requests == []
    res = run(["alerts", "send", "--retry-failed"], db, **env(sink, HOOK_TOKEN="s3cret"))
    assert res.exit_code == 0, res.output
    assert [path for path, _, _ in hook.requests] == ["/s3cret"]
    # the database keeps the reference, never the secret
    assert all("s3cret" not in r["recipient"] for r in outbox_rows(db))


def test_unknown_webhook_scheme_fails_for_good(db: str, sink: SmtpSink) -> None:
    with_webhook(db, "m-zh", "nosuchservice://token")
    res = run(["alerts", "send"], db, **env(sink))
    assert res.exit_code == 1
    assert "apprise does not understand" in res.stderr
    assert "sent 2, retrying 0, failed 1" in res.output


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = open_store(db_url)
    yield e
    e.dispose()


def test_operator_alert_once_per_transition(engine: Engine) -> None:
    who = OperatorRecipients(("ops@psp.example.com",), ("form://127.0.0.1:9/ops",))

    def change(state: str, minutes: int) -> int:
        with begin_write(engine) as conn:
            at = T0 + dt.timedelta(minutes=minutes)
            return source_health_changed(conn, "acq_1", state, f"reason {state}", at, who)

    assert change("ok", 0) == 0  # a healthy new source is no news
    assert change("failing", 1) == 2  # one email, one webhook
    assert change("failing", 2) == 0  # still failing: no new transition
    assert change("blocked", 3) == 2
    assert change("ok", 4) == 2  # recovered
    assert change("ok", 5) == 0
    assert change("unknown", 6) == 0
    with engine.connect() as conn:
        subjects = list(conn.scalars(select(outbox.c.subject).where(outbox.c.channel == "email")))
    assert subjects == [
        "[settlewatch] source acq_1 is failing",
        "[settlewatch] source acq_1 is blocked",
        "[settlewatch] source acq_1 recovered",
    ]


def test_operator_alert_is_delivered(db: str, sink: SmtpSink, hook: HookServer) -> None:
    engine = open_store(db)
    who = operator_recipients(
        {
            "SETTLEWATCH_OPERATOR_EMAIL": "ops@psp.example.com, oncall@psp.example.com",
            "SETTLEWATCH_OPERATOR_WEBHOOKS": f"form://127.0.0.1:{hook.port}/ops",
        }
    )
    assert who.emails == ("ops@psp.example.com", "oncall@psp.example.com")
    from_config = operator_recipients({"SETTLEWATCH_OPERATOR_EMAIL": "env@x.example"},
                                      {"operator_email": "cfg@x.example"})  # fmt: skip
    assert from_config == OperatorRecipients(("cfg@x.example",), ())
    with begin_write(engine) as conn:
        assert source_health_changed(conn, "acq", "broken", "selector matched nothing", T0, who)
    engine.dispose()
    res = run(["alerts", "send"], db, **env(sink))
    assert res.exit_code == 0, res.output
    ops = [m for m in sink.messages if "psp.example.com" in str(m["To"])]
    assert len(ops) == 2
    body = ops[0].get_content()
    assert "Source acq (Test board acq) is broken" in body
    assert "selector matched nothing" in body and "settlewatch crawl acq" in body
    ((path, headers, form),) = hook.requests
    assert path == "/ops" and headers[IDEMPOTENCY_HEADER].startswith("operator:acq:broken:")
    assert b"is+broken" in form or b"is%20broken" in form


def _row(category: str, **dates: str) -> dict[str, Any]:
    return {"category": category, "dates": {k: {"value": v} for k, v in dates.items()}}


@pytest.mark.parametrize(
    ("row", "urgent"),
    [
        (
            _row("maint_planned", window_start="2026-11-27T22:00", window_end="2026-11-28T02:00"),
            True,
        ),
        (
            _row("maint_planned", window_start="2026-11-30T09:00", window_end="2026-11-30T12:00"),
            False,
        ),
        (
            _row("maint_planned", window_start="2026-11-27T06:00", window_end="2026-11-27T10:00"),
            True,
        ),
        (
            _row("maint_planned", window_start="2026-11-26T01:00", window_end="2026-11-26T03:00"),
            False,
        ),
        (
            _row(
                "holiday_settlement",
                no_settlement_start="2026-11-28",
                no_settlement_end="2026-11-30",
            ),
            True,
        ),
        (
            _row(
                "holiday_settlement",
                no_settlement_start="2026-11-25",
                no_settlement_end="2026-11-27",
            ),
            True,
        ),
        (_row("fee_change", effective="2026-11-28"), False),  # a fee is no stop
    ],
    ids=["tonight", "in-73h", "under-way", "over", "hold-tomorrow", "hold-last-day", "fee"],
)
def test_urgency_is_read_in_the_notices_time_zone(row: dict[str, Any], urgent: bool) -> None:
    assert (urgent_date(row, load_taxonomy(), T0, "Asia/Shanghai") is not None) is urgent


def test_a_stop_that_has_ended_is_over() -> None:
    ended = _row("maint_planned", window_start="2026-11-26T01:00", window_end="2026-11-26T03:00")
    assert is_over(ended, T0, "Asia/Shanghai")
    running = _row("maint_planned", window_start="2026-11-27T06:00", window_end="2026-11-27T10:00")
    assert not is_over(running, T0, "Asia/Shanghai")
    assert not is_over(_row("fee_change", effective="2020-01-01"), T0, "Asia/Shanghai")


def test_webhooks_go_out_while_mail_is_misconfigured(db: str, hook: HookServer) -> None:
    with_webhook(db, "m-en", f"json://127.0.0.1:{hook.port}/hook")
    res = run(["alerts", "send"], db, SETTLEWATCH_SMTP_URL="", SETTLEWATCH_MAIL_FROM=FROM)
    assert res.exit_code == 2
    assert "SETTLEWATCH_SMTP_URL: not set" in res.stderr
    assert "2 email(s) wait in the outbox" in res.stderr
    assert len(hook.requests) == 1  # the chat alert did not wait for the mail fix
    states = sorted((r["channel"], r["state"]) for r in outbox_rows(db))
    assert states == [("email", "pending"), ("email", "pending"), ("webhook", "sent")]
