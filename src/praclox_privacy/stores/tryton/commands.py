"""``praclox-privacy crm``: subjects that live in a CRM store (Tryton) on the command line.

Added to the command line by the tryton plugin through the ``register_commands`` hook.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ...ports import CommandKit

__all__ = ["crm_group"]

_OUTCOMES = ("added", "updated", "unchanged", "missing")


def crm_group(cli: "CommandKit") -> click.Group:
    """Return the ``crm`` group, built with the command line's shared options."""

    @click.group("crm", short_help="Subjects held in a CRM store (a Tryton database).")
    def crm() -> None:
        """Subjects held in a CRM store (a Tryton database, `plugin = "tryton"`)."""

    @crm.command("pull", short_help="Record the CRM's subjects in the ledger (ids, no values).")
    @cli.store_option(
        help="The CRM store (default: the workspace's only store that holds subjects)."
    )
    @cli.workspace_option
    @cli.format_option
    def crm_pull(store_name: str | None, workspace_dir: Path, fmt: str) -> None:
        """Record the subjects found in the CRM in the ledger.

        Each party becomes (or stays) a subject with its relation types and lifecycle
        events (a deactivated party: relation_ended). The personal values stay in the
        CRM, so the sweep, access requests and `check` cover them where they are.
        """
        with cli.open_workspace(workspace_dir) as ws:
            sources = ws.subject_sources()
            if store_name is None:
                if not sources:
                    raise click.ClickException(
                        "no store of this workspace holds subjects of its own: configure one "
                        '(e.g. [stores.crm] plugin = "tryton", docs/tryton.md)'
                    )
                if len(sources) > 1:
                    raise click.ClickException(
                        f"several stores hold subjects ({', '.join(sources)}): name one (--store)"
                    )
                store_name = sources[0]
            outcome = ws.sync_subjects(store_name, actor="cli")
        counts = {name: sum(1 for v in outcome.values() if v == name) for name in _OUTCOMES}
        if fmt == "json":
            cli.emit_json({"store": store_name, "subjects": outcome, "counts": counts})
            return
        for subject_id, result in outcome.items():
            click.echo(f"{result:<9}  {subject_id}")
        summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n or name != "missing")
        click.echo(f"{store_name}: {len(outcome)} subjects ({summary})")

    return crm
