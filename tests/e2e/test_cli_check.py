"""`praclox-privacy check` as CI runs it: JUnit XML, JSON, `--out`, and as a process."""

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import append_config, run, run_process
from praclox_privacy.domain.findings import CHECKS
from praclox_privacy.services.workspace import Workspace

COLLECTED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CLEAN = CLOSED + timedelta(days=10)
LATE = CLOSED + timedelta(days=40)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    Workspace.init(folder)
    with Workspace.open(folder, clock=lambda: COLLECTED) as ws:
        ws.add_subject(["website_user"], subject_id="web-1", email="web@example.nl")
        ws.record_event("web-1", "account_closed", CLOSED)
    (folder / "privacy.en.md").write_text("# An old statement\n", encoding="utf-8")
    append_config(folder, '\n[check]\nstatement = "privacy.en.md"\nstatement_lang = "en"\n')
    return folder


def cases(xml: str) -> dict[str, ET.Element]:
    tree = ET.fromstring(xml)
    assert tree.tag == "testsuites"
    (suite,) = tree.findall("testsuite")
    found = {c.get("name", ""): c for c in suite.findall("testcase")}
    assert len(found) == len(suite.findall("testcase"))
    return found


def test_junit_has_one_testcase_per_check_and_failures(root: Path) -> None:
    result = run("check", "-w", root, "--now", LATE.isoformat(), "--format", "junit")
    assert result.exit_code == 1
    found = cases(result.stdout)
    assert list(found) == list(CHECKS)
    failed = {n for n, c in found.items() if c.find("failure") is not None}
    assert failed == {"retention.overdue", "documents.statement"}
    overdue = found["retention.overdue"].find("failure")
    assert overdue is not None
    assert overdue.get("type") == "S5, S7"
    assert "[S5, S7]" in (overdue.text or "")
    statement = found["documents.statement"].find("failure")
    assert statement is not None
    assert "-# An old statement" in (statement.text or "")  # the diff
    skipped = {n for n, c in found.items() if c.find("skipped") is not None}
    assert skipped == {"documents.register"}
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("8", "2", "1")


def test_junit_of_a_clean_workspace_has_no_failure(tmp_path: Path) -> None:
    Workspace.init(tmp_path)
    result = run("check", "-w", tmp_path, "--format", "junit")
    assert result.exit_code == 0, result.output
    found = cases(result.stdout)
    assert all(c.find("failure") is None for c in found.values())
    assert len(found) == len(CHECKS)


def test_junit_without_a_workspace_skips_the_workspace_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("check", "--format", "junit")
    assert result.exit_code == 0, result.output
    found = cases(result.stdout)
    assert found["policy"].find("system-out") is not None
    assert found["stores.reachable"].find("skipped") is not None


def test_out_writes_the_report_and_prints_the_text(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "check.xml"
    out.parent.mkdir()
    result = run("check", "-w", root, "--now", CLEAN.isoformat(), "--format", "junit", "--out", out)
    assert result.exit_code == 1  # the stale statement
    assert "FAIL  documents.statement" in result.stdout
    assert f"wrote the junit report to {out}" in result.stderr
    assert len(cases(out.read_text(encoding="utf-8"))) == len(CHECKS)


def test_json_report(root: Path) -> None:
    result = run("check", "-w", root, "--now", CLEAN.isoformat(), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["now"] == CLEAN.isoformat()
    assert [c["check"] for c in data["checks"]] == list(CHECKS)
    (statement,) = (c for c in data["checks"] if c["check"] == "documents.statement")
    assert statement["findings"][0]["ref"] == "S1"


def test_check_as_a_process_exits_with_the_codes(root: Path) -> None:
    late = run_process("check", "-w", root, "--now", LATE.isoformat())
    assert late.returncode == 1, late.stderr
    assert "[S5, S7]" in late.stdout
    bad = run_process("check", "-w", root, "--format", "xml")
    assert bad.returncode == 2
    assert "Traceback" not in late.stderr + bad.stderr


def test_help_lists_check() -> None:
    result = run("--help")
    assert "check" in result.stdout
    assert "--format [text|json|junit]" in run("check", "--help").stdout


# -- pre-commit hooks and CI examples -----------------------------------------------------

REPO = Path(__file__).parents[2]


def test_pre_commit_hooks_run_the_policy_and_statement_checks(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"praclox-policy-check", "praclox-statement-check"}
    from praclox_privacy.formats.policy import default_policy_text

    good = tmp_path / "policy.toml"
    good.write_text(default_policy_text(), encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(default_policy_text().replace("[controller]", "[controler]"), "utf-8")
    for hook, policy_args in (
        (by_id["praclox-policy-check"], lambda p: [p]),
        (by_id["praclox-statement-check"], lambda p: ["--policy", p]),
    ):
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["files"] == r"\.toml$"
        program, *args = hook["entry"].split()
        assert program == "praclox-privacy"
        assert run(*args).exit_code == 0
        assert run(*args, *policy_args(good)).exit_code == 0
        assert run(*args, *policy_args(broken)).exit_code == 1


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_are_yaml_running_check(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    text = (REPO / "examples" / "ci" / name).read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    assert "praclox-privacy check" in text
    assert "--format junit" in text
