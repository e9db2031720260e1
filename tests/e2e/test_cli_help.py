"""Every command's summary is shown whole, and docs/cli.md is generated from the commands.

A group lists its commands with a one-line summary each: the command's ``short_help``, or
else the first paragraph of its help, which click cuts at the first period that ends a
sentence (``Art. 13`` looked like one) and shortens with ``...`` to the width left beside
the longest command name. The summary must come through whole, on an 80-column terminal,
for every command of ``main``, plugins' commands included.
"""

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from praclox_privacy.cli import main

ROOT = Path(__file__).resolve().parents[2]

# click's help width: an 80-column terminal; click never goes wider by default.
WIDTH = 78
# Words whose period click 8.1 (and older) takes for a sentence end.
ABBREVIATIONS = ("art.", "e.g.", "i.e.", "etc.", "cf.", "vs.", "no.", "approx.")


def listed(group: click.Group, path: str = "") -> Iterator[tuple[str, click.Command, int]]:
    """Yield each command under ``group`` (recursively) with the width click gives its summary."""
    ctx = click.Context(group, info_name=path or "praclox-privacy")
    commands = [(n, group.get_command(ctx, n)) for n in group.list_commands(ctx)]
    shown = [(n, c) for n, c in commands if c is not None and not c.hidden]
    limit = WIDTH - 6 - max(len(n) for n, _ in shown)  # as click.Group.format_commands
    for name, command in shown:
        command_path = f"{path} {name}".strip()
        yield command_path, command, limit
        if isinstance(command, click.Group):
            yield from listed(command, command_path)


def intended(command: click.Command) -> str:
    """The whole summary: ``short_help``, else the help's first paragraph."""
    if command.short_help:
        return inspect.cleandoc(command.short_help)
    return " ".join((command.help or "").partition("\n\n")[0].split())


COMMANDS = [pytest.param(command, limit, id=path) for path, command, limit in listed(main)]


def test_every_command_and_group_is_walked() -> None:
    paths = {param.id for param in COMMANDS}
    assert {"check", "consent", "request", "request access", "agenda sync", "map check"} <= paths
    assert len(paths) > 60


@pytest.mark.parametrize(("command", "limit"), COMMANDS)
def test_summary_is_shown_whole(command: click.Command, limit: int) -> None:
    whole = intended(command)
    shown = command.get_short_help_str(limit)
    assert whole, "no summary"
    assert shown == whole, f"the listing shows {shown!r} of {whole!r}"
    assert len(shown) <= limit, f"{shown!r} is wider than the {limit} columns beside the name"
    assert not shown.endswith("...")
    words = whole.split()
    assert not any(w.endswith(".") for w in words[:-1]), f"{whole!r}: a period inside"
    assert not words[-1].lower().endswith(ABBREVIATIONS), f"{whole!r} ends in an abbreviation"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param(
            [], "check       Run every check, the gate for CI: exit 1 when one fails.", id="check"
        ),
        pytest.param(
            [],
            "consent     Grant, withdraw and show consents; export Kantara receipts.",
            id="consent",
        ),
        pytest.param(
            ["request"],
            "restrictions  List SUBJECT's restrictions and objections, lifted too.",
            id="request restrictions",
        ),
    ],
)
def test_the_listing_shows_the_summaries(args: list[str], line: str) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert f"  {line}\n" in result.output


def test_docs_cli_reference_is_generated_from_main() -> None:
    """sphinx-click renders every command of ``main``, nested, so none can go missing."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"```\{eval-rst\}\n(.*?)```", text, re.DOTALL)
    assert block is not None, "docs/cli.md has no {eval-rst} block"
    directive = block.group(1)
    assert ".. click:: praclox_privacy.cli:main" in directive
    assert re.search(r"^\s+:prog: praclox-privacy$", directive, re.MULTILINE)
    assert re.search(r"^\s+:nested: full$", directive, re.MULTILINE)
