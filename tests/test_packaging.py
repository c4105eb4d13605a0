"""A wheel (pip install ., not editable) carries the bundled rules/ and templates/."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_wheel_bundles_rules_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("settlewatch-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("rules", "templates"):
        repo_files = {
            p.relative_to(ROOT / folder).as_posix()
            for p in (ROOT / folder).rglob("*")
            if p.is_file()
        }
        assert repo_files, folder
        for rel in repo_files:
            assert f"settlewatch/_bundled/{folder}/{rel}" in names, rel
    assert "settlewatch/store/migrations/versions/0001_initial_schema.py" in names
    assert "crawler/spiders/notices.py" in names
    assert any(n.startswith("settlewatch/demo/") for n in names)

    # Installed from the wheel, the package finds its bundled data (not the source tree).
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from settlewatch.resources import rules_dir, templates_dir; "
        "print(rules_dir()); print(templates_dir())"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(target)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.split()
    assert out == [
        str(target / "settlewatch/_bundled/rules"),
        str(target / "settlewatch/_bundled/templates"),
    ]
