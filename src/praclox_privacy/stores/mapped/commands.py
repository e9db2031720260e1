"""``praclox-privacy map``: map an existing database's tables onto the policy.

``map suggest URL`` reflects a database (read-only) and drafts a mapping file for a
person to review; ``map check`` checks every mapped store's mapping against the policy
and the live schema (docs/mapped-databases.md). Exit codes as everywhere: 0 success, 1 the
database could not be read, 2 usage errors or a policy file that does not load.

Added to the command line by the sql-mapped plugin through the ``register_commands`` hook.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ...ports import CommandKit

__all__ = ["map_group"]


def map_group(cli: "CommandKit") -> click.Group:
    """Return the ``map`` group, built with the command line's shared options."""

    @click.group("map", short_help="Map an existing database's own tables onto the policy.")
    def group() -> None:
        """Map an existing database's own tables onto the policy (docs/mapped-databases.md)."""

    @group.command("suggest", short_help="Draft a mapping of a database for you to review.")
    @click.argument("url")
    @click.option(
        "--output",
        "-o",
        "output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the draft to FILE (refuses to overwrite one) instead of standard output.",
    )
    @cli.policy_option(
        help="The policy whose relation types and categories are suggested (default: "
        "Praclox's shipped policy)."
    )
    def map_suggest(
        url: str,
        output: Path | None,
        policy_file: Path | None,
    ) -> None:
        """Draft a mapping of the database at URL (an SQLAlchemy URL) for you to review.

        Only the database's catalogue is read; nothing is written to it (an SQLite file is
        opened read-only). Every table becomes a [[table]] entry with the guesses commented;
        review them, then run `praclox-privacy map check`.
        """
        import sqlalchemy as sa

        from .suggest import suggest_mapping

        policy = cli.load_policy(policy_file)
        try:
            sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise click.BadParameter(str(exc), param_hint="URL") from None
        try:
            text = suggest_mapping(url, policy)
        except (sa.exc.SQLAlchemyError, ModuleNotFoundError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise click.ClickException(f"cannot read the database: {first}") from None
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except FileExistsError:
            raise click.ClickException(f"{output} already exists; not overwriting it") from None
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {output}; review it, then run: praclox-privacy map check")

    @group.command("check", short_help="Check every mapped store against the policy and schema.")
    @cli.store_option(help="Check only this sql-mapped store (default: every one).")
    @cli.workspace_option
    @cli.format_option
    def map_check(store_name: str | None, workspace_dir: Path, fmt: str) -> None:
        """Check every mapped store's mapping against the policy and the live schema.

        Names the key, table and column of each problem (a renamed column, an event column
        that is not a date, a category the policy does not declare). Reads the schema only;
        nothing is written. Exit 0 when every mapping is valid, 1 when one is not.
        """
        from ...formats.jsonout import to_json
        from .checking import check_mappings

        with cli.open_workspace(workspace_dir) as ws:
            results = check_mappings(ws, store_name)
        if fmt == "json":
            cli.emit_json({"ok": all(r.ok for r in results), "stores": to_json(results)})
        elif not results:
            click.echo("no sql-mapped store in this workspace")
        for result in results if fmt != "json" else ():
            if result.ok:
                click.echo(f"{result.store}: {result.source}: {result.tables} tables, valid")
            else:
                cli.print_problems(result.source, [str(p) for p in result.problems])
        if not all(r.ok for r in results):
            raise SystemExit(1)

    return group
