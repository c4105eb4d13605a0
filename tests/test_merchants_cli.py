"""`settlewatch merchants import`: idempotent, and all-or-nothing on bad files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select

from settlewatch.store.db import normalise_url
from settlewatch.store.schema import merchants
from tests.sitekit import run

CSV = """id,name,email,language,acquirers,flows,channels
m1,Shop One,one@example.com,zh,chinaums;lakala,rt_d0;qr_scan,pos;qr
m2,Shop Two,two@example.com,en,chinaums,t1_d1,pos
"""


def _count(db: str) -> int:
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        n = int(conn.scalar(select(func.count()).select_from(merchants)) or 0)
    engine.dispose()
    return n


def test_reimport_updates_without_duplicates(tmp_path: Path, db_url: str) -> None:
    f = tmp_path / "m.csv"
    f.write_text(CSV, encoding="utf-8")
    assert run(["merchants", "import", str(f)], db_url).exit_code == 0
    f.write_text(CSV.replace("Shop Two", "Shop 2"), encoding="utf-8")
    res = run(["merchants", "import", str(f)], db_url)
    assert res.exit_code == 0 and "imported 2 merchant(s)" in res.stdout
    assert _count(db_url) == 2


def test_bad_file_fails_cleanly_and_writes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text(CSV, encoding="utf-8")
    assert run(["merchants", "import", str(good)], sqlite_url).exit_code == 0
    f = tmp_path / "m.csv"
    rows = CSV.replace(",email", "").replace("one@example.com,", "").replace("two@example.com,", "")
    f.write_text(rows + "m3,Shop Three,zh,chinaums,t1_d1,pos\n", encoding="utf-8")
    res = run(["merchants", "import", str(f)], sqlite_url)
    assert res.exit_code == 1
    assert str(f) in res.stderr and "email" in res.stderr
    assert res.stderr.count("\n") == 1
    assert _count(sqlite_url) == 2  # the good rows of the bad file were not written either
