"""Digests over real SMTP (aiosmtpd on 127.0.0.1): structure, language, escaping, calendar,
exactly-once across reruns, an SMTP outage and a sender killed mid-send."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from settlewatch.errors import UsageError
from settlewatch.mailer import message_id, smtp_settings
from settlewatch.store.db import open_store
from settlewatch.store.schema import digest_entries, outbox
from tests.mailkit import HOSTILE_TITLE, SmtpSink
from tests.sitekit import run

FROM = "Settlewatch <alerts@psp.example.com>"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def mail_env(sink: SmtpSink, **extra: str) -> dict[str, str]:
    return {"SETTLEWATCH_SMTP_URL": sink.url, "SETTLEWATCH_MAIL_FROM": FROM, **extra}


def rows(db: str) -> list[dict[str, Any]]:
    engine = open_store(db)
    with engine.connect() as conn:
        out = [dict(r._mapping) for r in conn.execute(select(outbox).order_by(outbox.c.id))]
    engine.dispose()
    return out


def by_to(sink: SmtpSink, address: str) -> EmailMessage:
    (msg,) = [m for m in sink.messages if m["To"] == address]
    return msg


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def test_digest_arrives_as_text_html_and_ics(db: str, sink: SmtpSink) -> None:
    res = run(["digest", "send"], db, **mail_env(sink))
    assert res.exit_code == 0, res.output
    assert "queued 2 digest(s)" in res.output and "sent 2" in res.output
    assert sorted(to for _, (to,) in sink.envelopes) == [
        "finance@xlb.example.com",
        "ops@bund.example.com",
    ]  # m-quiet has nothing this week and did not ask for empty digests

    zh = by_to(sink, "finance@xlb.example.com")
    assert zh["Subject"].startswith("结算变更摘要（") and zh["Subject"].endswith("3 项与您相关")
    assert zh["From"] == FROM
    assert zh["Content-Language"] == "zh-CN"
    assert zh["Auto-Submitted"] == "auto-generated"
    assert zh["Message-ID"] == message_id(str(zh["X-Settlewatch-Key"]), "psp.example.com")
    # multipart/mixed: [multipart/alternative: [text/plain, text/html], text/calendar]
    assert zh.get_content_type() == "multipart/mixed"
    alternative, ics_part = list(zh.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = list(alternative.iter_parts())
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert ics_part.get_content_type() == "text/calendar"
    assert ics_part.get_filename().endswith(".ics")

    text, body = plain.get_content(), html.get_content()
    for part in (text, body):
        assert "杭州西湖小笼包餐饮店，您好：" in part
        assert "建议操作" in part and "本期未能检查的来源" not in part
    assert '<html lang="zh-CN">' in body
    # CSS is inlined: no <style> block left, styles sit on the elements
    assert "<style" not in body
    assert 'class="entry sev-S4" style="' in body
    # the hostile title shows as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    parsed = _Attrs()
    parsed.feed(body)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not [a for a in parsed.attrs if a.startswith("on")]
    assert HOSTILE_TITLE in text  # plain text is not HTML: shown as written

    en = by_to(sink, "ops@bund.example.com")
    assert en["Content-Language"] == "en"
    assert en["Subject"].startswith("Settlement changes (")
    en_text = next(p for p in en.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Dear Bund Coffee," in en_text and "What to do: " in en_text
    assert "您好" not in en_text


def test_calendar_attachment_has_the_windows_and_dates(db: str, sink: SmtpSink) -> None:
    assert run(["digest", "send"], db, **mail_env(sink)).exit_code == 0
    zh = by_to(sink, "finance@xlb.example.com")
    ics = next(p for p in zh.walk() if p.get_content_type() == "text/calendar")
    assert ics.get_param("method") == "PUBLISH"
    cal = icalendar.Calendar.from_ical(ics.get_content())
    events = {str(e["summary"]).split("：")[0]: e for e in cal.walk("VEVENT")}
    assert set(events) == {"系统维护", "暂停结算", "恢复到账", "生效"}
    soon = dt.date.today() + dt.timedelta(days=2)
    window = events["系统维护"]
    assert window.decoded("dtstart") == dt.datetime.combine(soon, dt.time(2), SHANGHAI)
    assert window.decoded("dtend") == dt.datetime.combine(soon, dt.time(6), SHANGHAI)
    assert window.walk("VALARM"), "a maintenance window reminds the day before"
    hold = events["暂停结算"]
    first = dt.date.today() + dt.timedelta(days=60)
    assert hold.decoded("dtstart") == first
    assert hold.decoded("dtend") == first + dt.timedelta(days=8)  # 8 days, end exclusive
    assert events["生效"].decoded("dtstart") == dt.date.today() + dt.timedelta(days=35)
    assert len({str(e["uid"]) for e in cal.walk("VEVENT")}) == 4
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_second_run_for_the_week_sends_nothing(db: str, sink: SmtpSink) -> None:
    assert run(["digest", "send"], db, **mail_env(sink)).exit_code == 0
    again = run(["digest", "send"], db, **mail_env(sink))
    assert again.exit_code == 0, again.output
    assert "queued 0 digest(s); 2 already queued" in again.output
    assert "sent 0" in again.output
    assert len(sink.messages) == 2
    assert [r["state"] for r in rows(db)] == ["sent", "sent"]
    # next week: those findings were carried already, so there is nothing new to send
    next_week = (dt.date.today() + dt.timedelta(days=7)).isocalendar()
    week = f"{next_week[0]}-W{next_week[1]:02d}"
    later = run(["digest", "send", "--week", week], db, **mail_env(sink))
    assert "queued 0 digest(s); 0 already queued, 3 with nothing to send" in later.output
    assert len(sink.messages) == 2


def test_smtp_down_rows_wait_for_their_backoff(db: str) -> None:
    sink = SmtpSink()  # not started: connections are refused
    res = run(["digest", "send"], db, **mail_env(sink))
    assert res.exit_code == 0, res.output
    assert "sent 0, retrying 2, failed 0" in res.output
    assert "ConnectionRefusedError" in res.stderr
    now = dt.datetime.now(dt.UTC)
    for r in rows(db):
        assert (r["state"], r["attempts"]) == ("pending", 1)
        assert now + dt.timedelta(seconds=50) < r["next_attempt_at"]  # backoff: 60 s first
    with sink:
        res = run(["digest", "send"], db, **mail_env(sink))
        assert "sent 0, retrying 0" in res.output  # the server is back, but not yet due
        assert sink.messages == []


def test_smtp_down_then_back_goes_out_once(db: str) -> None:
    sink = SmtpSink()
    fast = mail_env(sink, SETTLEWATCH_OUTBOX_BACKOFF="0.2")
    assert "retrying 2" in run(["digest", "send"], db, **fast).output
    with sink:
        time.sleep(0.3)
        res = run(["digest", "send"], db, **fast)
        assert "sent 2, retrying 0, failed 0" in res.output, res.output
        assert "sent 0" in run(["digest", "send"], db, **fast).output
        assert len(sink.messages) == 2
    assert {(r["state"], r["attempts"], r["last_error"]) for r in rows(db)} == {("sent", 2, "")}


def test_failed_after_max_attempts_is_reported_then_retried(db: str) -> None:
    sink = SmtpSink()
    env = mail_env(sink, SETTLEWATCH_OUTBOX_BACKOFF="0.05", SETTLEWATCH_OUTBOX_MAX_ATTEMPTS="2")
    assert "retrying 2" in run(["digest", "send"], db, **env).output
    time.sleep(0.1)
    res = run(["digest", "send"], db, **env)
    assert res.exit_code == 1
    assert "sent 0, retrying 0, failed 2" in res.output
    assert "2 message(s) failed for good: outbox ids 1, 2" in res.stderr
    assert "--retry-failed" in res.stderr
    assert {(r["state"], r["attempts"]) for r in rows(db)} == {("failed", 2)}
    assert all(r["last_error"].startswith("attempt 2: SMTP") for r in rows(db))
    with sink:
        assert "sent 0" in run(["digest", "send"], db, **env).output  # failed stays failed
        res = run(["digest", "send", "--retry-failed"], db, **env)
        assert "sent 2" in res.output and res.exit_code == 0
    assert len(sink.messages) == 2


def test_a_refused_recipient_fails_at_once(db: str, sink: SmtpSink) -> None:
    sink.on_rcpt = lambda addr: "550 5.1.1 no such mailbox" if addr.startswith("ops@") else None
    res = run(["digest", "send"], db, **mail_env(sink))
    assert res.exit_code == 1
    assert "sent 1, retrying 0, failed 1" in res.output
    failed = [r for r in rows(db) if r["state"] == "failed"]
    assert [(r["recipient"], r["attempts"]) for r in failed] == [("ops@bund.example.com", 1)]
    assert "550" in failed[0]["last_error"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_is_used(db: str) -> None:
    with SmtpSink(login=("mailer", "p@ss word")) as sink:
        url = f"smtp://mailer:p%40ss%20word@127.0.0.1:{sink.port}"
        res = run(["digest", "send"], db, SETTLEWATCH_SMTP_URL=url, SETTLEWATCH_MAIL_FROM=FROM)
        assert "sent 2" in res.output, res.output
        assert sink.logins == ["mailer"]  # one connection carries both messages
        # the password may come from its own variable instead of the URL
        bare = f"smtp://mailer@127.0.0.1:{sink.port}"
        env = {"SETTLEWATCH_SMTP_URL": bare, "SETTLEWATCH_MAIL_FROM": FROM}
        settings = smtp_settings({}, env | {"SETTLEWATCH_SMTP_PASSWORD": "p@ss word"})
        assert settings.password == "p@ss word" and "p@ss" not in repr(settings)


def _sender(db: str, sink: SmtpSink) -> subprocess.Popen[bytes]:
    env = os.environ | mail_env(sink, SETTLEWATCH_OUTBOX_LEASE="1")
    cmd = [sys.executable, "-m", "settlewatch.cli", "--db", db, "digest", "send"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_killed_after_the_server_got_the_message_sends_no_duplicate(
    db: str, sink: SmtpSink
) -> None:
    holder: list[subprocess.Popen[bytes]] = []

    def crash_before_commit(msg: EmailMessage) -> str | None:
        if not sink.messages:  # the first message: the server has it; the sender dies now
            _kill(holder[0])
        return "250 OK"

    sink.on_data = crash_before_commit
    holder.append(_sender(db, sink))
    holder[0].wait(timeout=60)
    assert holder[0].returncode == -signal.SIGKILL
    # the SMTP handler records the message only after the kill returns: let it finish
    deadline = time.monotonic() + 10
    while not sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sink.messages) == 1
    first_key = sink.keys()[0]
    stuck = [r for r in rows(db) if r["state"] == "sending"]
    assert [r["idempotency_key"] for r in stuck] == [first_key]
    assert stuck[0]["sent_at"] is not None  # it had been handed over
    sink.on_data = None
    time.sleep(1.2)  # the dead sender's lease runs out
    res = run(["digest", "send"], db, **mail_env(sink, SETTLEWATCH_OUTBOX_LEASE="1"))
    assert res.exit_code == 0, res.output
    assert "sent 1, retrying 0, failed 0, unconfirmed 1" in res.output
    assert sorted(sink.keys()) == sorted(r["idempotency_key"] for r in rows(db))
    assert len(sink.messages) == 2  # each digest exactly once
    by_key = {r["idempotency_key"]: r for r in rows(db)}
    assert by_key[first_key]["state"] == "sent"
    assert by_key[first_key]["last_error"].startswith("unconfirmed")


def test_killed_before_the_hand_over_sends_once_after_restart(db: str, sink: SmtpSink) -> None:
    holder: list[subprocess.Popen[bytes]] = []

    def crash_at_rcpt(address: str) -> str | None:
        _kill(holder[0])
        return "451 sender went away"

    sink.on_rcpt = crash_at_rcpt
    holder.append(_sender(db, sink))
    holder[0].wait(timeout=60)
    assert sink.messages == []
    assert [(r["state"], r["sent_at"]) for r in rows(db)] == [("sending", None), ("pending", None)]
    sink.on_rcpt = None
    time.sleep(1.2)
    res = run(["digest", "send"], db, **mail_env(sink, SETTLEWATCH_OUTBOX_LEASE="1"))
    assert "sent 2, retrying 0, failed 0, resumed 1" in res.output, res.output
    assert len(sink.messages) == 2
    assert {r["state"] for r in rows(db)} == {"sent"}


def test_digest_entries_record_what_each_digest_carried(db: str, sink: SmtpSink) -> None:
    assert run(["digest", "send"], db, **mail_env(sink)).exit_code == 0
    engine = open_store(db)
    with engine.connect() as conn:
        carried = conn.execute(select(digest_entries.c.merchant_id, digest_entries.c.finding_id))
        per_merchant: dict[str, set[int]] = {}
        for mid, fid in carried:
            per_merchant.setdefault(mid, set()).add(fid)
    engine.dispose()
    assert set(per_merchant) == {"m-zh", "m-en"}
    assert len(per_merchant["m-zh"]) == 3 and len(per_merchant["m-en"]) == 3


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "SETTLEWATCH_SMTP_URL: not set"),
        ("http://mail.example.com", "scheme 'http' is not smtp or smtps"),
        ("smtp://mail.example.com:port", "bad port"),
        ("smtp:///nohost", "no host name"),
        ("smtps://mail.example.com?starttls=1", "smtps:// and ?starttls=1 together"),
        ("smtp://mail.example.com?tls=1", "unknown option 'tls'"),
    ],
)
def test_bad_smtp_url_names_the_variable(url: str, message: str) -> None:
    with pytest.raises(UsageError, match="SETTLEWATCH_SMTP_URL") as err:
        smtp_settings({}, {"SETTLEWATCH_SMTP_URL": url, "SETTLEWATCH_MAIL_FROM": FROM})
    assert message in str(err.value)
    assert "fix:" in str(err.value)


def test_smtp_url_forms() -> None:
    env = {"SETTLEWATCH_MAIL_FROM": FROM}
    plain = smtp_settings({"smtp_url": "smtp://mail.example.com"}, env)
    assert (plain.host, plain.port, plain.tls, plain.starttls) == (
        "mail.example.com",
        25,
        False,
        False,
    )
    tls = smtp_settings({}, env | {"SETTLEWATCH_SMTP_URL": "smtps://u:p@mx.example.com"})
    assert (tls.port, tls.tls, tls.user, tls.password) == (465, True, "u", "p")
    start = smtp_settings({}, env | {"SETTLEWATCH_SMTP_URL": "smtp://mx:587?starttls=1"})
    assert (start.port, start.starttls) == (587, True)
    with pytest.raises(UsageError, match="SETTLEWATCH_MAIL_FROM"):
        smtp_settings({"smtp_url": "smtp://mx"}, {"SETTLEWATCH_MAIL_FROM": "not an address"})


def test_send_without_smtp_fails_clearly_and_queues_nothing(db: str) -> None:
    res = run(["digest", "send"], db, SETTLEWATCH_SMTP_URL="", SETTLEWATCH_MAIL_FROM=FROM)
    assert res.exit_code == 2
    assert "SETTLEWATCH_SMTP_URL: not set" in res.stderr
    assert rows(db) == []


def test_message_id_is_stable_per_key() -> None:
    a = message_id("digest:m1:2026-W48:email", "example.com")
    assert a == message_id("digest:m1:2026-W48:email", "example.com")
    assert a != message_id("digest:m1:2026-W49:email", "example.com")
    assert a.startswith("<sw.") and a.endswith("@example.com>")
