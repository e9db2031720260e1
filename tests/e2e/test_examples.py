"""Every script in examples/ runs, exits 0 and prints no traceback (as `nox -s examples`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).parents[2] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py")) + sorted(EXAMPLES_DIR.glob("*/run.py"))
USE_CASES = {
    "load_policy.py",
    "open_workspace.py",
    "register_relation.py",
    "run_sweep.py",
    "access_request.py",
    "generate_statement.py",
    "write_store_plugin.py",
    "ci_check.py",
    "run.py",  # existing-database/: the whole flow on an application's own tables
}


def test_every_use_case_has_an_example() -> None:
    assert {p.name for p in EXAMPLES} >= USE_CASES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: str(p.relative_to(EXAMPLES_DIR)))
def test_example_runs(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert result.stdout.strip(), f"{script.name} printed nothing"
    assert not list(tmp_path.iterdir()), f"{script.name} left files behind"
