"""Review decisions: four-eyes, corrections, deferral, staleness, the audit log and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from settlewatch.cli import cli
from settlewatch.errors import UsageError
from settlewatch.review import decide, evidence_fingerprints, find_stale, refresh_stale
from settlewatch.store.db import begin_write, open_store, utcnow
from settlewatch.store.schema import findings, reviews
from settlewatch.taxonomy import load_taxonomy
from settlewatch.web import create_app
from tests import webseed
from tests.sitekit import run
from tests.webseed import PASSWORD, login

MAINT = "我司将于2026年12月5日凌晨2:00至6:00进行系统维护，届时D0实时到账暂停。"


@pytest.fixture
def engine(db_url: str) -> Engine:
    return open_store(db_url)


def finding(engine: Engine, fid: int) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(findings).where(findings.c.id == fid)).one()._mapping)


def log(engine: Engine, fid: int | None = None) -> list[dict[str, object]]:
    q = select(reviews).order_by(reviews.c.id)
    if fid is not None:
        q = q.where(reviews.c.finding_id == fid)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def act(engine: Engine, fid: int, decision: str, who: str, **kw: object) -> object:
    with begin_write(engine) as conn:
        return decide(conn, fid, decision, who, utcnow(), taxonomy=load_taxonomy(), **kw)  # type: ignore[arg-type]


def test_critical_finding_needs_two_different_officers(engine: Engine) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT, severity="S4")
    first = act(engine, fid, "approve", "alice")
    assert first.status == "pending" and first.approvers == ("alice",)  # type: ignore[attr-defined]
    assert "second officer" in first.message  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="second, different officer"):
        act(engine, fid, "approve", "alice")
    second = act(engine, fid, "approve", "bob")
    assert second.status == "approved" and second.approvers == ("alice", "bob")  # type: ignore[attr-defined]
    assert [(r["decision"], r["reviewer"]) for r in log(engine, fid)] == [
        ("approve", "alice"),
        ("approve", "bob"),
    ]
    with pytest.raises(UsageError, match="already approved"):
        act(engine, fid, "approve", "carol")


def test_ordinary_finding_needs_one_approval(engine: Engine) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT, severity="S2")
    assert act(engine, fid, "approve", "alice").status == "approved"  # type: ignore[attr-defined]


def test_dismiss_needs_a_reason(engine: Engine) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT)
    with pytest.raises(UsageError, match="needs a reason"):
        act(engine, fid, "dismiss", "alice", reason="  ")
    assert log(engine, fid) == []
    assert act(engine, fid, "dismiss", "alice", reason="duplicate").status == "dismissed"  # type: ignore[attr-defined]
    assert log(engine, fid)[0]["reason"] == "duplicate"


def test_correction_is_a_new_entry_and_first_decision_is_untouched(engine: Engine) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT, severity="S4")
    act(engine, fid, "approve", "alice")
    before = log(engine, fid)
    result = act(
        engine,
        fid,
        "correct",
        "bob",
        corrections={
            "flows": ["rt_d0", "refund"],
            "dates": {"window_end": "2026-12-05 07:00", "deadline": "2026-12-04"},
            "action_text": "D0 到账 12-05 02:00–07:00 暂停。",
            "category": "maint_planned",  # unchanged: not recorded
        },
    )
    # a correction resets four-eyes to its author: alice approved something else
    assert result.status == "pending" and result.approvers == ("bob",)  # type: ignore[attr-defined]
    after = log(engine, fid)
    assert after[:1] == before  # the first entry is exactly as it was
    corr = after[1]["corrections"]
    assert isinstance(corr, dict) and set(corr) == {"flows", "dates", "action_text"}
    assert corr["flows"]["to"] == ["rt_d0", "refund"]
    row = finding(engine, fid)
    assert row["flows"] == ["rt_d0", "refund"]
    dates = row["dates"]
    assert isinstance(dates, dict)
    assert dates["window_end"]["value"] == "2026-12-05T07:00"
    assert dates["deadline"]["evidence"] == "corrected by bob"
    assert row["action_text"] == "D0 到账 12-05 02:00–07:00 暂停。"
    assert act(engine, fid, "approve", "alice").status == "approved"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        ({"category": "no_such_category"}, "not in the taxonomy"),
        ({"flows": ["rt_d0", "teleport"]}, "unknown flow"),
        ({"dates": {"effective": "12/05/2026"}}, "dates.effective: '12/05/2026' is not a date"),
        ({"dates": {"birthday": "2026-12-05"}}, "dates.birthday: unknown date key"),
        ({"severity": "S0"}, "cannot correct severity"),
        ({"category": "maint_planned"}, "changes nothing"),
    ],
    ids=["category", "flow", "date-format", "date-key", "field", "no-op"],
)
def test_bad_corrections_name_the_field(
    engine: Engine, corrections: dict[str, object], message: str
) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT)
    with pytest.raises(UsageError, match=message):
        act(engine, fid, "correct", "alice", corrections=corrections)
    assert log(engine, fid) == []


def test_defer_hides_until_the_date(engine: Engine, db_url: str) -> None:
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT)
    with pytest.raises(UsageError, match="future"):
        act(engine, fid, "defer", "alice", until=utcnow() - dt.timedelta(days=1))
    act(engine, fid, "defer", "alice", until=utcnow() + dt.timedelta(days=3), reason="wait for ops")
    assert finding(engine, fid)["status"] == "pending"
    assert run(["review", "list", "--json"], db_url).stdout.strip() == "[]"
    deferred = json.loads(run(["review", "list", "--status", "deferred", "--json"], db_url).stdout)
    assert [d["id"] for d in deferred] == [fid]
    webseed.set_status(engine, fid, deferred_until=utcnow() - dt.timedelta(minutes=1))
    assert [d["id"] for d in json.loads(run(["review", "list", "--json"], db_url).stdout)] == [fid]


def test_notice_changing_again_makes_the_approval_stale(engine: Engine) -> None:
    url = "http://127.0.0.1:9/notice/7.html"
    fid = webseed.add_version(engine, "关于系统维护的公告", MAINT, url=url, severity="S2")
    with engine.connect() as conn:
        seen = evidence_fingerprints(conn, [fid])[fid]
    act(engine, fid, "approve", "alice", seen=seen)
    with engine.connect() as conn:
        assert find_stale(conn) == {}
    newer = webseed.add_version(
        engine, "关于系统维护的公告", MAINT.replace("6:00", "8:00"), url=url
    )
    with begin_write(engine) as conn:
        assert refresh_stale(conn, utcnow()) == [fid]
    assert finding(engine, fid)["status"] == "pending"
    assert finding(engine, newer)["status"] == "pending"
    stale = log(engine, fid)[-1]
    assert (stale["decision"], stale["reviewer"]) == ("stale", "system")
    # a decision on the old evidence is refused ...
    with pytest.raises(UsageError, match="changed since you opened it"):
        act(engine, fid, "approve", "bob", seen=seen)
    # ... one on the new evidence counts, and stays valid
    with engine.connect() as conn:
        current = evidence_fingerprints(conn, [fid])[fid]
    assert current != seen
    act(engine, fid, "approve", "bob", seen=current)
    with begin_write(engine) as conn:
        assert refresh_stale(conn, utcnow()) == []
    assert finding(engine, fid)["status"] == "approved"


def test_review_cli_shares_the_audit_log(engine: Engine, db_url: str) -> None:
    res = run_in(["users", "add", "alice", "--role", "officer", "--password-stdin"], db_url, "")
    assert res.exit_code == 2 and "password is too short" in res.output
    for name, role in (("alice", "officer"), ("bob", "officer"), ("vic", "viewer")):
        res = run_in(["users", "add", name, "--role", role, "--password-stdin"], db_url, PASSWORD)
        assert res.exit_code == 0, res.output
    res = run_in(
        ["users", "add", "carol", "--role", "officer"], db_url, f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert res.exit_code == 0 and "added carol (officer)" in res.output
    assert (
        run_in(
            ["users", "add", "dan", "--role", "boss", "--password-stdin"], db_url, PASSWORD
        ).exit_code
        == 2
    )

    critical = webseed.add_version(engine, "关于系统维护的公告", MAINT, severity="S4")
    plain = webseed.add_version(
        engine, "关于系统维护的公告2", MAINT, url="http://x/2", severity="S2"
    )
    other = webseed.add_version(
        engine, "关于系统维护的公告3", MAINT, url="http://x/3", severity="S1"
    )
    listed = json.loads(run(["review", "list", "--json"], db_url).stdout)
    assert [r["id"] for r in listed] == [critical, plain, other]  # most severe first
    assert listed[0]["approvals_needed"] == 2

    res = run(["review", "approve", str(plain), "--as", "vic"], db_url)
    assert res.exit_code == 2 and "cannot review" in res.output
    res = run(["review", "approve", str(plain), "--as", "nobody"], db_url)
    assert res.exit_code == 2 and "no such user" in res.output
    res = run(["review", "dismiss", str(other), "--reason", "not ours", "--as", "alice"], db_url)
    assert res.exit_code == 0, res.output
    res = run(["review", "approve", "--all-pending", "--as", "alice"], db_url)
    assert res.exit_code == 0, res.output
    assert "approval 1 of 2" in res.output
    assert finding(engine, plain)["status"] == "approved"
    assert finding(engine, critical)["status"] == "pending"
    assert run(["review", "approve", str(critical), "--as", "bob"], db_url).exit_code == 0
    assert finding(engine, critical)["status"] == "approved"

    # the web app's audit log and CSV show the CLI's decisions, one entry per decision
    app = create_app(db_url, secret_key="k")
    client = app.test_client()
    login(client, "carol")
    rows = list(csv.DictReader(io.StringIO(client.get("/audit.csv").get_data(as_text=True))))
    got = sorted((r["finding_id"], r["decision"], r["reviewer"]) for r in rows)
    assert got == sorted(
        [
            (str(other), "dismiss", "alice"),
            (str(plain), "approve", "alice"),
            (str(critical), "approve", "alice"),
            (str(critical), "approve", "bob"),
        ]
    )
    assert client.get("/audit?reviewer=bob").get_data(as_text=True).count("<b>approve</b>") == 1


def test_audit_csv_neutralises_formulas(engine: Engine, db_url: str) -> None:
    webseed.add_users(engine, alice="officer")
    fid = webseed.add_version(engine, '=HYPERLINK("http://evil")关于系统维护的公告', MAINT)
    act(engine, fid, "dismiss", "alice", reason="+cmd|' /C calc'!A0")
    client = create_app(db_url, secret_key="k").test_client()
    login(client, "alice")
    row = next(csv.DictReader(io.StringIO(client.get("/audit.csv").get_data(as_text=True))))
    assert row["title"].startswith("'=") and row["reason"].startswith("'+")


def run_in(args: list[str], db: str, stdin: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args], input=stdin, catch_exceptions=False)
