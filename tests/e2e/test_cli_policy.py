"""The ``praclox-privacy policy`` commands, through click's runner and as a real process."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers import run, run_process
from praclox_privacy import default_policy, default_policy_text, load_policy_file

DEFAULT_SOURCE = "<default>/praclox-policy.toml"


def without_rule(text: str, rule_id: str) -> str:
    """Remove the ``[[retention]]`` table with ``id = rule_id`` (up to the next blank line)."""
    pattern = re.compile(
        r'^\[\[retention\]\]\nid = "' + re.escape(rule_id) + r'"\n(?:.+\n)*', re.MULTILINE
    )
    assert len(pattern.findall(text)) == 1
    return pattern.sub("", text)


@pytest.fixture
def without_applications_rule(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(without_rule(default_policy_text(), "applications"), encoding="utf-8")
    return path


# -- policy check ------------------------------------------------------------------------


def test_check_accepts_the_shipped_policy() -> None:
    result = run("policy", "check")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert f"{DEFAULT_SOURCE}: valid and complete" in result.stdout
    assert "5 relation types, 12 categories, 12 purposes, 8 retention rules" in result.stdout


def test_check_accepts_a_copy_of_the_shipped_policy(tmp_path: Path) -> None:
    path = tmp_path / "copy.toml"
    path.write_text(default_policy_text(), encoding="utf-8")
    result = run("policy", "check", path)
    assert result.exit_code == 0, result.output
    assert f"{path}: valid and complete" in result.stdout


def test_check_refuses_a_policy_without_the_applicant_retention_rule(
    without_applications_rule: Path,
) -> None:
    result = run("policy", "check", without_applications_rule)
    assert result.exit_code == 1
    assert "valid and complete" not in result.output
    problem_lines = [line for line in result.stderr.splitlines() if "no retention rule" in line]
    assert len(problem_lines) == 1, result.output
    [line] = problem_lines
    assert str(without_applications_rule) in line
    assert "relation_type[4].categories" in line
    assert "'application'" in line
    assert "'applicant'" in line
    assert f"{without_applications_rule}: 1 problem" in result.stderr


def test_check_json_on_the_shipped_policy() -> None:
    result = run("policy", "check", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"source": DEFAULT_SOURCE, "valid": True, "problems": []}


def test_check_json_lists_the_problems(without_applications_rule: Path) -> None:
    result = run("policy", "check", "--format", "json", without_applications_rule)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["source"] == str(without_applications_rule)
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "location": "relation_type[4].categories",
            "message": "category 'application' of relation type 'applicant' has no retention rule",
            "code": "no-retention-rule",
            "severity": "error",
        }
    ]


def test_check_reports_warnings_but_passes(tmp_path: Path) -> None:
    text = default_policy_text()
    text = text.replace("warnings = []", 'warnings = ["no-retention-rule"]')
    path = tmp_path / "lenient.toml"
    path.write_text(without_rule(text, "applications"), encoding="utf-8")
    result = run("policy", "check", "--format", "json", path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert [(p["code"], p["severity"]) for p in report["problems"]] == [
        ("no-retention-rule", "warning")
    ]


def test_check_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    result = run("policy", "check", path)
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert "cannot read the file" in result.stderr


def test_check_refuses_a_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('schema_version = 1\nwarnings = ["x"\n', encoding="utf-8")
    result = run("policy", "check", "--format", "json", path)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [p["code"] for p in report["problems"]] == ["toml-syntax"]


# -- policy show ---------------------------------------------------------------------


def test_show_text() -> None:
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Controller: Praclox <erik@praclox.nl> (NL)" in out
    assert "DPO: Erik Gimbergh <erik@praclox.nl>" in out
    assert "Recipients: none" in out
    assert "applicant [applicant] (person)" in out
    assert "erase P3M after the application is rejected; up to P1Y with consent" in out


def test_show_text_in_dutch() -> None:
    result = run("policy", "show", "--lang", "nl")
    assert result.exit_code == 0, result.output
    assert "sollicitant [applicant] (person)" in result.stdout
    # --lang picks the labels; the rest of the summary stays English.
    assert "after de afwijzing van de sollicitatie" in result.stdout
    assert "the application is rejected" not in result.stdout


def test_show_json_is_the_policy_data() -> None:
    result = run("policy", "show", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["controller"]["dpo"] == {
        "name": "Erik Gimbergh",
        "email": "erik@praclox.nl",
        "source": ["S16"],
    }
    assert [rt["id"] for rt in data["relation_type"]] == [
        rt.id for rt in default_policy().relation_types
    ]
    applications = next(r for r in data["retention"] if r["id"] == "applications")
    assert applications["period"] == "P3M"
    assert applications["consent_extension"] == {
        "consent_kind": "keep_application",
        "up_to": "P1Y",
    }


def test_show_refuses_a_bad_file(without_applications_rule: Path) -> None:
    result = run("policy", "show", without_applications_rule)
    assert result.exit_code == 1
    assert "no retention rule" in result.stderr
    assert result.stdout == ""


# -- policy init -----------------------------------------------------------------------


def test_init_writes_a_policy_that_passes_check(tmp_path: Path) -> None:
    path = tmp_path / "my-policy.toml"
    result = run("policy", "init", path)
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == default_policy_text()
    assert load_policy_file(path) == default_policy()
    check = run("policy", "check", path)
    assert check.exit_code == 0, check.output


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("# my own edits\n", encoding="utf-8")
    result = run("policy", "init", path)
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert path.read_text(encoding="utf-8") == "# my own edits\n"


# -- usage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["policy", "check", "--format", "xml"], id="bad-choice"),
        pytest.param(["policy", "frobnicate"], id="unknown-command"),
        pytest.param(["policy", "init"], id="missing-argument"),
        pytest.param(["policy", "check", "--colour"], id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr


def test_help() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "policy" in result.stdout
    assert "Usage:" in result.stdout


# -- a real process --------------------------------------------------------------------


def test_process_help() -> None:
    completed = run_process("--help")
    assert completed.returncode == 0, completed.stderr
    assert "Usage:" in completed.stdout
    assert "policy" in completed.stdout


def test_process_check_passes_and_fails(without_applications_rule: Path) -> None:
    ok = run_process("policy", "check")
    assert ok.returncode == 0, ok.stderr
    assert "valid and complete" in ok.stdout

    bad = run_process("policy", "check", without_applications_rule)
    assert bad.returncode == 1
    assert "'application'" in bad.stderr
    assert "'applicant'" in bad.stderr


def test_process_show_json() -> None:
    completed = run_process("policy", "show", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["controller"]["name"] == "Praclox"


def test_process_usage_error_exits_2() -> None:
    completed = run_process("policy", "check", "--format", "xml")
    assert completed.returncode == 2
    assert "Usage:" in completed.stderr


def test_process_init_then_check(tmp_path: Path) -> None:
    path = tmp_path / "init.toml"
    assert run_process("policy", "init", path).returncode == 0
    tomllib.loads(path.read_text(encoding="utf-8"))
    assert run_process("policy", "check", path).returncode == 0
    again = run_process("policy", "init", path)
    assert again.returncode == 1
    assert path.read_text(encoding="utf-8") == default_policy_text()


def test_importing_the_package_loads_neither_click_nor_a_store_backend() -> None:
    code = "import praclox_privacy, sys; print('click' in sys.modules, 'sqlalchemy' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False False"
