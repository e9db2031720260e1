"""What every ``praclox-privacy`` command module shares.

Every option that several commands take (a factory each, for its variants), opening a
workspace, reporting document problems and printing JSON. The exit
codes are the CLI's: 2 for configuration (and usage) errors, 1 for an operation the
library refused.
"""

import json
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from ..services.workspace import Workspace

__all__ = [
    "AT_OPTION",
    "FORMAT_OPTION",
    "LANGUAGES",
    "NOW_OPTION",
    "WORKSPACE_OPTION",
    "at_option",
    "category_option",
    "email_option",
    "emit_json",
    "format_option",
    "lang_option",
    "method_option",
    "name_option",
    "note_option",
    "now_option",
    "open_workspace",
    "out_option",
    "parse_at",
    "policy_option",
    "print_problems",
    "purpose_option",
    "reason_option",
    "reference_option",
    "relation_option",
    "scope_option",
    "store_option",
    "subject_option",
    "workspace_option",
]

# Every option that more than one command takes is declared here, once: a factory per
# option, whose arguments are the variants the commands need (choices, default, help,
# required-ness, repeatable or not). Each factory returns a click decorator. The
# destination (the command function's parameter) follows from the variant: ``--store``
# fills ``store_name``, or ``store_names`` when repeatable. An option only one command
# takes is declared with that command.

_FC = TypeVar("_FC", bound="Callable[..., Any] | click.Command")

_ISO_NOW = "ISO 8601; no offset: the workspace's time zone"
LANGUAGES = ("nl", "en")
"""The languages of the texts and labels the commands write (``--lang``)."""


def _option(
    *decls: str,
    help: str | None,
    default: object = None,
    show_default: bool = False,
    multiple: bool = False,
    required: bool = False,
    **attrs: Any,
) -> "Callable[[_FC], _FC]":
    """Return ``click.option(*decls, ...)``; a default only for one optional value."""
    if multiple:
        attrs["multiple"] = True
    if required:
        attrs["required"] = True
    if not (multiple or required):
        attrs["default"] = default
    if show_default:
        attrs["show_default"] = True
    return click.option(*decls, help=help, **attrs)


def workspace_option(
    *,
    default: str | None = ".",
    help: str = "The workspace folder (with praclox-privacy.toml).",
) -> "Callable[[_FC], _FC]":
    """Return ``--workspace``/``-w DIR`` (to ``workspace_dir``, a :class:`~pathlib.Path`).

    ``default=None``: optional (``None`` when not given).
    """
    return _option(
        "--workspace",
        "-w",
        "workspace_dir",
        type=click.Path(file_okay=False, path_type=Path),
        metavar="DIR",
        default=default,
        show_default=default is not None,
        help=help,
    )


def format_option(
    *choices: str, default: str | None = "text", help: str = "Output format."
) -> "Callable[[_FC], _FC]":
    """Return ``--format`` (to ``fmt``), one of ``choices``; ``default=None``: not given."""
    return _option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=help,
    )


def lang_option(*, default: str = "nl", help: str = "Language.") -> "Callable[[_FC], _FC]":
    """Return ``--lang`` (to ``lang``), one of :data:`LANGUAGES`."""
    return _option(
        "--lang", type=click.Choice(LANGUAGES), default=default, show_default=True, help=help
    )


def now_option(*, help: str = f"Act as of this instant ({_ISO_NOW}).") -> "Callable[[_FC], _FC]":
    """Return ``--now INSTANT`` (to ``now_text``, ``None`` when not given): moves the clock."""
    return _option("--now", "now_text", metavar="INSTANT", help=help)


def at_option(
    *, required: bool = False, help: str = f"When ({_ISO_NOW}; default: now)."
) -> "Callable[[_FC], _FC]":
    """Return ``--at WHEN`` (to ``at_text``): when what is recorded happened."""
    return _option("--at", "at_text", metavar="WHEN", required=required, help=help)


def policy_option(*, help: str, default: str | None = None) -> "Callable[[_FC], _FC]":
    """Return ``--policy`` (to ``policy_file``).

    Without ``default``: a policy FILE (a :class:`~pathlib.Path`, ``None`` when not given).
    With one (``init``'s ``'default'``): the text as given, which the command resolves.
    """
    if default is None:
        return _option(
            "--policy",
            "policy_file",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help=help,
        )
    return _option(
        "--policy", "policy_file", metavar="POLICY", default=default, show_default=True, help=help
    )


def out_option(
    *, help: str = "Write to FILE instead of standard output."
) -> "Callable[[_FC], _FC]":
    """Return ``--out``/``-o FILE`` (to ``out``, ``None`` when not given)."""
    return _option(
        "--out",
        "-o",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help=help,
    )


def store_option(*, help: str, multiple: bool = False) -> "Callable[[_FC], _FC]":
    """Return ``--store NAME`` (to ``store_name``; repeatable: to ``store_names``)."""
    dest = "store_names" if multiple else "store_name"
    return _option("--store", dest, metavar="NAME", multiple=multiple, help=help)


def subject_option(*, help: str, multiple: bool = False) -> "Callable[[_FC], _FC]":
    """Return ``--subject SUBJECT`` (to ``subject_id``; repeatable: to ``subject_ids``)."""
    dest = "subject_ids" if multiple else "subject_id"
    return _option("--subject", dest, metavar="SUBJECT", multiple=multiple, help=help)


def relation_option(
    *, help: str, multiple: bool = False, required: bool = False
) -> "Callable[[_FC], _FC]":
    """Return ``--relation TYPE`` (to ``relation``; repeatable: to ``relations``)."""
    dest = "relations" if multiple else "relation"
    return _option(
        "--relation", dest, metavar="TYPE", multiple=multiple, required=required, help=help
    )


def purpose_option(*, help: str, multiple: bool = False) -> "Callable[[_FC], _FC]":
    """Return ``--purpose``: repeatable, policy purposes (to ``purposes``); else free text.

    The free-text variant (``guard check``'s reason for access) fills ``purpose``, ``''``
    when not given.
    """
    if multiple:
        return _option("--purpose", "purposes", metavar="PURPOSE", multiple=True, help=help)
    return _option("--purpose", "purpose", metavar="TEXT", default="", help=help)


def category_option(*, help: str) -> "Callable[[_FC], _FC]":
    """Return ``--category CATEGORY`` (to ``category``, ``None`` when not given)."""
    return _option("--category", metavar="CATEGORY", help=help)


def name_option(*, help: str, required: bool = False) -> "Callable[[_FC], _FC]":
    """Return ``--name TEXT`` (to ``name``, ``None`` when not given)."""
    return _option("--name", metavar="TEXT", required=required, help=help)


def email_option(*, help: str, multiple: bool = False) -> "Callable[[_FC], _FC]":
    """Return ``--email ADDRESS`` (to ``email``; repeatable: to ``emails``)."""
    dest = "emails" if multiple else "email"
    return _option("--email", dest, metavar="ADDRESS", multiple=multiple, help=help)


def reason_option(*, help: str, required: bool = True) -> "Callable[[_FC], _FC]":
    """Return ``--reason TEXT`` (to ``reason``; ``None`` when optional and not given)."""
    return _option("--reason", metavar="TEXT", required=required, help=help)


def note_option(
    *, help: str = "A note kept with the request (not audited)."
) -> "Callable[[_FC], _FC]":
    """Return ``--note TEXT`` (to ``note``, ``''`` when not given)."""
    return _option("--note", metavar="TEXT", default="", help=help)


def scope_option(*, help: str, default: str | None = "") -> "Callable[[_FC], _FC]":
    """Return ``--scope TEXT`` (to ``scope``)."""
    return _option("--scope", metavar="TEXT", default=default, help=help)


def reference_option(*, help: str) -> "Callable[[_FC], _FC]":
    """Return ``--reference TEXT`` (to ``reference``, ``''`` when not given): the evidence."""
    return _option("--reference", metavar="TEXT", default="", help=help)


def method_option(*, help: str, default: str | None = None) -> "Callable[[_FC], _FC]":
    """Return ``--method TEXT`` (to ``method``): how consent or an answer was given.

    Required unless a ``default`` is given.
    """
    return _option(
        "--method",
        metavar="TEXT",
        required=default is None,
        default=default,
        show_default=default is not None,
        help=help,
    )


WORKSPACE_OPTION = workspace_option()
FORMAT_OPTION = format_option("text", "json")
NOW_OPTION = now_option()
AT_OPTION = at_option()


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
