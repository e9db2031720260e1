"""``praclox-privacy crm``: subjects that live in a CRM store (Tryton) on the command line."""

from pathlib import Path

import click

from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import emit_json as _json
from .options import open_workspace as _workspace

__all__ = ["crm"]

_OUTCOMES = ("added", "updated", "unchanged", "missing")


@click.group()
def crm() -> None:
    """Subjects held in a CRM store (a Tryton database, `plugin = "tryton"`)."""


@crm.command("pull", short_help="Record the CRM's subjects in the ledger (ids, no values).")
@click.option(
    "--store",
    "store_name",
    default=None,
    help="The CRM store (default: the workspace's only store that holds subjects).",
)
@_WORKSPACE
@_FORMAT
def crm_pull(store_name: str | None, workspace_dir: Path, fmt: str) -> None:
    """Record the subjects found in the CRM in the ledger.

    Each party becomes (or stays) a subject with its relation types and lifecycle events
    (a deactivated party: relation_ended). The personal values stay in the CRM, so the
    sweep, access requests and `check` cover them where they are.
    """
    with _workspace(workspace_dir) as ws:
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
        _json({"store": store_name, "subjects": outcome, "counts": counts})
        return
    for subject_id, result in outcome.items():
        click.echo(f"{result:<9}  {subject_id}")
    summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n or name != "missing")
    click.echo(f"{store_name}: {len(outcome)} subjects ({summary})")
