"""The ``statement``, ``register`` and ``export`` commands, through click's runner."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from helpers import run
from praclox_privacy import default_policy, default_policy_text
from praclox_privacy.formats.documents import render_statement

DEFAULT_SOURCE = "<default>/praclox-policy.toml"


def without_dpo(text: str) -> str:
    pattern = re.compile(r"^\[controller\.dpo\]\n(?:.+\n)*", re.MULTILINE)
    assert len(pattern.findall(text)) == 1
    return pattern.sub("", text)


@pytest.fixture
def no_dpo_policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(without_dpo(default_policy_text()), encoding="utf-8")
    return path


# -- statement -----------------------------------------------------------------------------


def test_statement_prints_the_dutch_statement_by_default() -> None:
    result = run("statement")
    assert result.exit_code == 0, result.output
    assert result.stdout == render_statement(default_policy(), "nl")
    assert result.stdout.startswith("# Privacyverklaring van Praclox\n")


def test_statement_in_english_as_html_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "privacy.html"
    result = run("statement", "--lang", "en", "--format", "html", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote the statement to {out}" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<h1>Privacy statement of Praclox</h1>" in html


def test_statement_with_a_user_template(tmp_path: Path) -> None:
    template = tmp_path / "mine.md"
    template.write_text("FG: {{ dpo.name }}\n", encoding="utf-8")
    result = run("statement", "--template", template)
    assert result.exit_code == 0, result.output
    assert result.stdout == "FG: Erik Gimbergh\n"


def test_statement_dump_template_starts_a_template_of_ones_own(tmp_path: Path) -> None:
    template = tmp_path / "mine.md"
    assert run("statement", "--dump-template", "--lang", "en", "--out", template).exit_code == 0
    template.write_text(
        template.read_text(encoding="utf-8").replace("What are your rights?", "Your rights"),
        encoding="utf-8",
    )
    result = run("statement", "--lang", "en", "--template", template)
    assert result.exit_code == 0, result.output
    assert "## Your rights\n" in result.stdout


def test_statement_with_a_broken_template_exits_1(tmp_path: Path) -> None:
    template = tmp_path / "broken.md"
    template.write_text("{{ nothing_here }}", encoding="utf-8")
    result = run("statement", "--template", template)
    assert result.exit_code == 1
    assert "'nothing_here' is undefined" in result.stderr


def test_statement_check_passes_for_the_shipped_policy() -> None:
    result = run("statement", "--check")
    assert result.exit_code == 0, result.output
    assert (
        f"{DEFAULT_SOURCE}: complete for GDPR Art. 13 and 14 (11 present, 3 not applicable)"
        in result.stdout
    )
    assert "n/a      recipients: recipients or categories of recipients" in result.stdout


@pytest.mark.promise("S16")
def test_statement_check_exits_1_without_a_dpo(no_dpo_policy: Path) -> None:
    result = run("statement", "--check", "--policy", no_dpo_policy)
    assert result.exit_code == 1
    assert "MISSING  dpo: contact details of the data protection officer" in result.stdout
    assert "add or fix: controller.dpo" in result.stdout
    assert f"{no_dpo_policy}: incomplete for GDPR Art. 13 and 14; missing: dpo" in result.stderr


def test_statement_of_an_invalid_policy_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(default_policy_text().replace('period = "P3M"', 'period = "3M"'), "utf-8")
    result = run("statement", "--policy", path)
    assert result.exit_code == 1
    assert "retention[7].period" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("statement", "--lang", "de"),
        ("statement", "--format", "pdf"),
        ("statement", "--check", "--dump-template"),
        ("statement", "--template", "missing.md"),
        ("statement", "--policy", "a.toml", "--workspace", "."),
        ("register", "--format", "xlsx"),
        ("register", "--format", "json", "--bom"),
        ("export", "fides", "--format", "xml"),
        ("export", "owl"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output


def test_statement_from_a_workspace(tmp_path: Path, no_dpo_policy: Path) -> None:
    workspace = tmp_path / "ws"
    policy = workspace / "policy.toml"
    workspace.mkdir()
    policy.write_bytes(no_dpo_policy.read_bytes())
    assert run("init", workspace, "--policy", "policy.toml").exit_code == 0
    result = run("statement", "--workspace", workspace)
    assert result.exit_code == 0, result.output
    assert "Erik Gimbergh" not in result.stdout
    assert run("statement", "--check", "--workspace", workspace).exit_code == 1


def test_statement_from_a_missing_workspace_exits_2(tmp_path: Path) -> None:
    result = run("statement", "--workspace", tmp_path / "nowhere")
    assert result.exit_code == 2, result.output


# -- register ------------------------------------------------------------------------------


def test_register_csv_with_bom_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "register.csv"
    result = run("register", "--bom", "--delimiter", ";", "--out", out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][0] == "Doel (id)"
    assert len(rows) == 1 + len(default_policy().purposes)


def test_register_csv_on_standard_output_has_no_bom() -> None:
    result = run("register", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"Purpose (id),")
    assert b"\r\n" in result.stdout_bytes


@pytest.mark.parametrize(("fmt", "start"), [("md", "# Register van"), ("json", "[")])
def test_register_markdown_and_json(fmt: str, start: str) -> None:
    result = run("register", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(start)
    if fmt == "json":
        assert len(json.loads(result.stdout)) == len(default_policy().purposes)


# -- export --------------------------------------------------------------------------------


def test_export_fides_json_and_yaml(tmp_path: Path) -> None:
    result = run("export", "fides")
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["system"][0]["fides_key"] == "praclox_privacy"
    yaml = pytest.importorskip("yaml")
    out = tmp_path / "praclox.yml"
    result = run("export", "fides", "--format", "yaml", "--system-key", "crm", "--out", out)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["system"][0]["fides_key"] == "crm"


def test_export_with_a_bad_mapping_exits_1(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("[fides\n", encoding="utf-8")
    for kind in ("fides", "dpv"):
        result = run("export", kind, "--mapping", mapping)
        assert result.exit_code == 1
        assert "not valid TOML" in result.stderr


def test_export_dpv() -> None:
    result = run("export", "dpv", "--base", "https://praclox.nl/privacy#")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["@context"]["dpv"] == "https://w3id.org/dpv#"
    ids = [node["@id"] for node in document["@graph"]]
    assert "https://praclox.nl/privacy#processing:newsletter" in ids


def test_help_lists_the_document_commands() -> None:
    result = run("--help")
    for command in ("statement", "register", "export"):
        assert re.search(rf"^  {command} ", result.stdout, re.MULTILINE), command
