"""What every ``praclox-privacy`` command module shares.

Options, opening a workspace, reporting document problems and printing JSON. The exit
codes are the CLI's: 2 for configuration (and usage) errors, 1 for an operation the
library refused.
"""

import json
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from ..services.workspace import Workspace

__all__ = [
    "AT_OPTION",
    "FORMAT_OPTION",
    "NOW_OPTION",
    "WORKSPACE_OPTION",
    "emit_json",
    "open_workspace",
    "parse_at",
    "print_problems",
]

WORKSPACE_OPTION = click.option(
    "--workspace",
    "-w",
    "workspace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The workspace folder (with praclox-privacy.toml).",
)
FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
NOW_OPTION = click.option(
    "--now",
    "now_text",
    default=None,
    help="Act as of this instant (ISO 8601; no offset: the workspace's time zone).",
)

AT_OPTION = click.option(
    "--at",
    "at_text",
    default=None,
    help="When (ISO 8601; no offset: the workspace's time zone; default: now).",
)


def parse_at(ws: "Workspace", text: str | None) -> "datetime | None":
    """Return the instant ``--at`` names in the workspace's time zone (``None``: not given)."""
    return None if text is None else ws.parse_instant(text)


def print_problems(source: str, problems: list[str]) -> None:
    """Print a document's problems to standard error, one per line, after a count."""
    n = len(problems)
    click.echo(f"{source}: {n} problem{'s' if n != 1 else ''}", err=True)
    for problem in problems:
        click.echo(f"  {source}: {problem}", err=True)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON (UTF-8 text, instants as ISO 8601 strings)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def open_workspace(path: Path) -> "Iterator[Workspace]":
    """Open the workspace; report errors as the CLI's exit codes (2 config, 1 refused)."""
    from ..domain.errors import DocumentError, PracloxPrivacyError
    from ..services.workspace import Workspace

    try:
        ws = Workspace.open(path)
    except DocumentError as exc:
        print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(2) from None
    except PracloxPrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield ws
    except DocumentError as exc:
        print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None
    except PracloxPrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        ws.close()
