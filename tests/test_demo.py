"""`settlewatch demo` runs the whole pipeline on the bundled board and reports it truthfully."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from settlewatch.cli import cli
from tests.sitekit import changes, health, run


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(
        cli,
        ["demo", "--out", str(out), "--json"],
        env={"SETTLEWATCH_DB": None},
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    week2 = {(c["kind"], c["category"]) for c in summary["week2_changes"]}
    # the new maintenance notice, the edited holiday notice and the new fee notice ...
    assert week2 == {
        ("new", "maint_planned"),
        ("edited", "holiday_settlement"),
        ("new", "fee_change"),
    }
    # ... and nothing from the noise-only edits or from the failing source
    assert len(summary["week2_changes"]) == 3
    assert summary["health"]["demo_lakala"] == "failing"
    assert {k for k, v in summary["health"].items() if v == "ok"} == {
        "demo_pbc",
        "demo_ums",
        "demo_unionpay",
    }

    db = summary["db"]
    assert db == f"sqlite:///{out / 'settlewatch.db'}"
    every = changes(db)
    assert not [c for c in every if c["kind"] == "withdrawn"]
    assert all(c["source"] != "demo_lakala" or c["baseline"] for c in every)
    edited = next(c for c in every if c["kind"] == "edited")
    assert edited["dates"].get("resume")  # the date that moved is read from the notice
    assert health(db)["demo_lakala"]["health"] == "failing"

    digests = sorted((out / "digests").glob("*.html"))
    assert len(digests) == 7 and len(list((out / "digests").glob("*.txt"))) == 7
    texts = "".join(p.read_text(encoding="utf-8") for p in (out / "digests").glob("*.txt"))
    assert "系统升级暂停D0实时到账服务" in texts
    assert "拉卡拉" in texts  # the unreachable source is named, so silence is not "no news"

    # every other command can be pointed at the demo's results
    res = run(["changes", "list", "--json", "--kind", "edited"], db)
    assert [c["category"] for c in json.loads(res.stdout)] == ["holiday_settlement"]
