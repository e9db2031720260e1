"""`praclox-privacy map suggest`, through click's runner (issue #10)."""

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from praclox_privacy.cli import main
from praclox_privacy.formats.mapping import load_mapping
from praclox_privacy.formats.policy import default_policy

SCHEMA = Path(__file__).parents[2] / "examples" / "existing-database" / "schema.sql"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["map", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "existing.db"
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA.read_text(encoding="utf-8"))
        connection.commit()
    finally:
        connection.close()
    return path


def test_suggest_prints_a_mapping_that_loads(database: Path) -> None:
    before = database.read_bytes()
    result = run("suggest", f"sqlite:///{database}")
    assert result.exit_code == 0, result.output
    mapping = load_mapping(result.stdout, default_policy())
    assert mapping.table("invoices").subject == "client_id"
    assert database.read_bytes() == before


def test_suggest_writes_the_output_file_and_never_overwrites_it(
    database: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mapping.toml"
    result = run("suggest", f"sqlite:///{database}", "--output", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    text = out.read_text(encoding="utf-8")
    assert "[[table]]" in text
    load_mapping(text, default_policy())
    again = run("suggest", f"sqlite:///{database}", "-o", out)
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert out.read_text(encoding="utf-8") == text


def test_suggest_with_a_policy_file(database: Path, tmp_path: Path) -> None:
    text = default_policy_text_without_applicants()
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(text, encoding="utf-8")
    result = run("suggest", f"sqlite:///{database}", "--policy", policy_file)
    assert result.exit_code == 0, result.output
    assert 'relation_type = "applicant"' not in result.stdout
    assert "# TODO choose what this table holds:" in result.stdout


def default_policy_text_without_applicants() -> str:
    """The shipped policy with the applicant relation type renamed to 'jobseeker'."""
    from praclox_privacy.formats.policy import default_policy_text

    return default_policy_text().replace('"applicant"', '"jobseeker"')


def test_a_missing_database_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = run("suggest", f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert "cannot read the database" in result.output
    assert not missing.exists()


def test_a_malformed_url_is_a_usage_error(tmp_path: Path) -> None:
    result = run("suggest", "not a url")
    assert result.exit_code == 2
    assert "URL" in result.output


def test_an_invalid_policy_file_is_reported(database: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("schema_version = 1\n", encoding="utf-8")
    result = run("suggest", f"sqlite:///{database}", "--policy", broken)
    assert result.exit_code == 2
    assert "problem" in result.output


def test_map_help_lists_suggest() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "suggest" in result.output
