"""``praclox-privacy policy``: check, show and create policy files."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import FORMAT_OPTION, lang_option
from .options import print_problems as _print_problems

if TYPE_CHECKING:
    from ..domain.policy import Policy

__all__ = ["policy"]


def _load(file: Path | None) -> "Policy":
    from ..domain.errors import PolicyError
    from ..formats.policy import default_policy, load_policy_file

    try:
        return default_policy() if file is None else load_policy_file(file)
    except PolicyError as exc:
        _print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None


@click.group()
def policy() -> None:
    """Check, show and create policy files."""


_FILE = click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))


@policy.command("check", short_help="Check that a policy FILE is valid and complete.")
@_FILE
@FORMAT_OPTION
def policy_check(file: Path | None, fmt: str) -> None:
    """Check that a policy FILE (default: Praclox's shipped policy) is valid and complete.

    Exits 0 when it is, 1 listing every problem with its location.
    """
    from ..domain.errors import PolicyError
    from ..domain.validation import check_policy
    from ..formats.policy import DEFAULT_POLICY_NAME, default_policy, load_policy_file

    source = f"<default>/{DEFAULT_POLICY_NAME}" if file is None else str(file)
    try:
        loaded = default_policy() if file is None else load_policy_file(file)
    except PolicyError as exc:
        problems = list(exc.problems)
        ok = False
    else:
        problems = check_policy(loaded)  # only warnings remain after a successful load
        ok = True
    if fmt == "json":
        from ..formats.jsonout import dumps

        click.echo(dumps({"source": source, "valid": ok, "problems": problems}))
    else:
        for p in problems:
            click.echo(f"{source}: {p}", err=not ok)
        if ok:
            verdict = (
                "valid and complete"
                if not problems
                else f"valid, {len(problems)} warning{'s' if len(problems) != 1 else ''}"
            )
            click.echo(
                f"{source}: {verdict} ({len(loaded.relation_types)} relation types, "
                f"{len(loaded.categories)} categories, {len(loaded.purposes)} purposes, "
                f"{len(loaded.retention)} retention rules)"
            )
        else:
            n = len(problems)
            click.echo(f"{source}: {n} problem{'s' if n != 1 else ''}", err=True)
    if not ok:
        sys.exit(1)


@policy.command("show")
@_FILE
@FORMAT_OPTION
@lang_option(default="en", help="Language of the labels in text output.")
def policy_show(file: Path | None, fmt: str, lang: str) -> None:
    """Show a policy FILE (default: Praclox's shipped policy)."""
    loaded = _load(file)
    if fmt == "json":
        from ..formats.policy import make_converter

        data: Any = make_converter().unstructure(loaded)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from ..formats.summary import policy_summary

    click.echo(policy_summary(loaded, lang))


@policy.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def policy_init(path: Path) -> None:
    """Write Praclox's policy to PATH as a starting point for editing.

    Refuses to overwrite an existing file.
    """
    from ..formats.policy import default_policy_text

    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(default_policy_text())
    except FileExistsError:
        raise click.ClickException(f"{path} already exists; not overwriting it") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"wrote {path}; check it with: praclox-privacy policy check {path}")
