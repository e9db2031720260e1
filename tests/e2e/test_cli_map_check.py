"""`praclox-privacy map check`: a workspace's mappings against the policy and the live schema."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from helpers import append_config
from praclox_privacy.cli import main
from praclox_privacy.services.workspace import Workspace

EXAMPLE = Path(__file__).parents[2] / "examples" / "existing-database"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--workspace", str(root)], catch_exceptions=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    Workspace.init(root)
    connection = sqlite3.connect(root / "existing.db")
    try:
        connection.executescript((EXAMPLE / "schema.sql").read_text(encoding="utf-8"))
        connection.commit()
    finally:
        connection.close()
    shutil.copy(EXAMPLE / "mapping.toml", root / "mapping.toml")
    append_config(
        root,
        '\n[stores.office]\nplugin = "sql-mapped"\nurl = "sqlite:///existing.db"\n'
        'mapping = "mapping.toml"\n',
    )
    return root


def test_a_valid_mapping(workspace: Path) -> None:
    result = run(workspace, "map", "check")
    assert result.exit_code == 0, result.output
    assert "office:" in result.stdout
    assert "tables, valid" in result.stdout
    data = json.loads(run(workspace, "map", "check", "--format", "json").stdout)
    assert data["ok"] is True
    assert data["stores"][0]["store"] == "office"
    assert data["stores"][0]["tables"] == 5


def test_a_renamed_column_names_table_and_column(workspace: Path) -> None:
    before = (workspace / "existing.db").read_bytes()
    connection = sqlite3.connect(workspace / "existing.db")
    try:
        connection.execute("ALTER TABLE applicants RENAME COLUMN rejected_at TO refused_at")
        connection.commit()
    finally:
        connection.close()
    changed = (workspace / "existing.db").read_bytes()
    assert changed != before
    result = run(workspace, "map", "check")
    assert result.exit_code == 1
    assert "column applicants.rejected_at does not exist" in result.stderr
    assert "events.rejected" in result.stderr
    assert (workspace / "existing.db").read_bytes() == changed  # only read
    data = json.loads(run(workspace, "map", "check", "--format", "json").stdout)
    assert data["ok"] is False
    (problem,) = data["stores"][0]["problems"]
    assert problem["code"] == "unknown-column"
    # The sweep refuses before writing anything, in any store.
    sweep = run(workspace, "sweep", "--now", "2025-07-01T12:00")
    assert sweep.exit_code == 1
    assert "column applicants.rejected_at does not exist" in sweep.output


def test_only_mapped_stores(workspace: Path) -> None:
    result = run(workspace, "map", "check", "--store", "main")
    assert result.exit_code == 1
    assert "is not a sql-mapped store" in result.output
