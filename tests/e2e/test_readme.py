"""The README's two commands are what CI runs, so the README never lies."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [block.strip() for block in blocks[:2]]


def test_readme_opens_with_an_install_command_and_a_test_command() -> None:
    install, tests = readme_commands()
    assert "pip install" in install
    assert "praclox-privacy" in install
    assert "nox -s tests" in tests


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in readme_commands():
        assert any(line.strip() == command for line in ci.splitlines()), command
    assert "PRACLOX_REQUIRE_SERVERS=1" in ci
