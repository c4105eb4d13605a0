"""Which findings a digest carries, previews, dry runs, quiet weeks and unchecked sources."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path

from sqlalchemy import select, update

from settlewatch.store.db import begin_write, open_store
from settlewatch.store.schema import outbox, sources
from tests.httpfixture import FixtureServer
from tests.mailkit import (
    SmtpSink,
    approve_all,
    board_notices,
    seed_store,
    serve_board,
    set_merchant,
)
from tests.sitekit import run

FROM = "Settlewatch <alerts@psp.example.com>"


def week(days_ahead: int = 0) -> str:
    year, number, _ = (dt.date.today() + dt.timedelta(days=days_ahead)).isocalendar()
    return f"{year}-W{number:02d}"


def mail_env(sink: SmtpSink) -> dict[str, str]:
    return {"SETTLEWATCH_SMTP_URL": sink.url, "SETTLEWATCH_MAIL_FROM": FROM}


def outbox_count(db: str) -> int:
    engine = open_store(db)
    with engine.connect() as conn:
        n = len(conn.execute(select(outbox.c.id)).all())
    engine.dispose()
    return n


def test_dry_run_shows_the_plan_and_changes_nothing(db: str) -> None:
    res = run(["digest", "send", "--dry-run"], db)
    assert res.exit_code == 0, res.output
    assert f"dry run for {week()}: 2 digest(s) would be queued" in res.output
    assert "finance@xlb.example.com" in res.output and "3 entries +ics" in res.output
    assert "already queued: 0, nothing to send: 1" in res.output
    plan = json.loads(run(["digest", "send", "--dry-run", "--json"], db).output)
    assert [d["merchant_id"] for d in plan["digests"]] == ["m-en", "m-zh"]
    assert plan["nothing_to_send"] == ["m-quiet"]
    assert outbox_count(db) == 0


def test_preview_to_stdout_and_files(db: str, tmp_path: Path) -> None:
    res = run(["digest", "preview", "m-zh"], db)
    assert res.exit_code == 0, res.output
    assert "杭州西湖小笼包餐饮店，您好：" in res.output and "影响流程" in res.output
    en = run(["digest", "preview", "m-zh", "--lang", "en", "--out", str(tmp_path / "d.html")], db)
    assert en.exit_code == 0, en.output
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "What to do" in html and "<style" not in html
    assert run(["digest", "preview", "m-en", "--out", str(tmp_path / "d.eml")], db).exit_code == 0
    msg = email.message_from_bytes((tmp_path / "d.eml").read_bytes(), policy=email.policy.default)
    types = [p.get_content_type() for p in msg.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert msg["To"] == "ops@bund.example.com"
    assert outbox_count(db) == 0  # a preview queues nothing


def test_preview_errors_are_one_clear_line(db: str) -> None:
    res = run(["digest", "preview", "nobody"], db)
    assert res.exit_code == 2 and "no merchant 'nobody'" in res.stderr
    res = run(["digest", "preview", "m-zh", "--week", "2026-48"], db)
    assert res.exit_code == 2 and "not an ISO week (fix: use YYYY-Www" in res.stderr


def test_quiet_week_digest_when_the_merchant_asks(db: str, sink: SmtpSink) -> None:
    engine = open_store(db)
    set_merchant(engine, "m-quiet", send_empty=True)
    engine.dispose()
    res = run(["digest", "send"], db, **mail_env(sink))
    assert "queued 3 digest(s)" in res.output, res.output
    (quiet,) = [m for m in sink.messages if m["To"] == "quiet@example.com"]
    assert quiet["Subject"] == f"Settlement changes ({week()}): nothing changed for you"
    assert quiet.get_content_type() == "multipart/alternative"  # no dates, no calendar
    text = quiet.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Nothing changed for you this period." in text


def test_unchecked_sources_are_listed_for_the_merchants_they_concern(db: str) -> None:
    engine = open_store(db)
    with begin_write(engine) as conn:
        conn.execute(update(sources).values(health="failing", health_reason="HTTP 503"))
    engine.dispose()
    zh = run(["digest", "preview", "m-zh"], db).output
    assert "本期未能检查的来源" in zh and "  - Test board acq" in zh
    quiet = run(["digest", "preview", "m-quiet"], db).output  # not a merchant of acq
    assert "Sources we could not check" not in quiet
    assert "Nothing changed for you this period." in quiet


def test_render_writes_files_for_every_merchant(db: str, tmp_path: Path) -> None:
    res = run(["digest", "render", "--out", str(tmp_path / "out")], db)
    assert res.exit_code == 0 and "wrote 6 digest file(s)" in res.output
    assert (tmp_path / "out" / f"m-zh.{week()}.zh.html").is_file()


def test_a_finding_is_carried_by_one_digest_only(
    site: FixtureServer, tmp_path: Path, sink: SmtpSink
) -> None:
    db = seed_store(site, tmp_path)
    assert "queued 2 digest(s)" in run(["digest", "send"], db, **mail_env(sink)).output
    # the holiday notice is revised (a new payout day) and a new notice appears
    today = dt.date.today()
    notices = board_notices(today)
    href, title, date, body = notices[1]
    notices[1] = (href, title, date, body.replace("合并划付", "统一合并划付"))
    later = today + dt.timedelta(days=40)
    late = ("/notice/late.html", "关于清算系统例行维护的公告", today.isoformat(),
            f"<p>我司将于{later.year}年{later.month}月{later.day}日凌晨1:00至3:00进行系统维护，"
            "届时D0实时到账暂停。</p>")  # fmt: skip
    old = (
        "/notice/old.html",
        "关于启用新版对账单的通知",
        "2020-01-06",
        "<p>自2020年2月1日起启用新版对账单。</p>",
    )
    serve_board(site, [old, *notices, late])
    assert run(["crawl"], db, tmp_path / "src").exit_code == 0
    engine = open_store(db)
    assert len(approve_all(engine)) == 2
    engine.dispose()
    # this week's digests are already out: nothing more this week
    assert (
        "queued 0 digest(s); 2 already queued"
        in run(["digest", "send"], db, **mail_env(sink)).output
    )
    # the week's preview still shows what was sent
    assert "关于清算系统例行维护的公告" not in run(["digest", "preview", "m-zh"], db).output
    nxt = run(["digest", "preview", "m-zh", "--week", week(7)], db).output
    assert nxt.count("\n[") == 2  # the revision and the new notice, nothing repeated
    assert "关于清算系统例行维护的公告" in nxt
    assert "修订：" in nxt and "统一合并划付" in nxt
    assert "系统升级" not in nxt
    res = run(["digest", "send", "--week", week(7)], db, **mail_env(sink))
    assert "queued 2 digest(s)" in res.output
    assert len(sink.messages) == 4


def test_send_twice_then_alerts_on_every_store(
    site: FixtureServer, tmp_path: Path, db_url: str, sink: SmtpSink
) -> None:
    db = seed_store(site, tmp_path, db=db_url)
    first = run(["digest", "send"], db, **mail_env(sink))
    assert "queued 2 digest(s)" in first.output and "sent 2" in first.output, first.output
    again = run(["digest", "send"], db, **mail_env(sink))
    assert "queued 0 digest(s); 2 already queued" in again.output and "sent 0" in again.output
    assert "sent 2" in run(["alerts", "send"], db, **mail_env(sink)).output
    assert "sent 0" in run(["alerts", "send"], db, **mail_env(sink)).output
    assert len(sink.messages) == 4
    assert len(set(sink.keys())) == 4
