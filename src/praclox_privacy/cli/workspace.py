"""``praclox-privacy init``, ``subject``, ``data`` and ``audit``: a workspace and what it holds."""

import json
import sys
from pathlib import Path

import click

from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import (
    at_option,
    email_option,
    format_option,
    name_option,
    policy_option,
    purpose_option,
    relation_option,
    store_option,
    subject_option,
)
from .options import emit_json as _json
from .options import open_workspace as _workspace
from .options import print_problems as _print_problems

__all__ = ["audit", "data", "init", "subject"]


@click.command("init", short_help="Create a workspace: praclox-privacy.toml and its database.")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=Path()
)
@policy_option(
    default="default",
    help="The policy: 'default' (Praclox's) or a policy file, relative to DIRECTORY.",
)
@click.option(
    "--url",
    metavar="URL",
    default=None,
    help="Database URL of the primary store (default: an SQLite file in DIRECTORY).",
)
def init(directory: Path, policy_file: str, url: str | None) -> None:
    """Create a workspace in DIRECTORY: praclox-privacy.toml and its database."""
    from ..domain.errors import DocumentError, PracloxPrivacyError
    from ..services.workspace import Workspace

    try:
        path = Workspace.init(directory, policy=policy_file, url=url)
    except DocumentError as exc:
        _print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None
    except PracloxPrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {path}")


@click.group()
def subject() -> None:
    """Register subjects (relations) and their lifecycle events."""


@subject.command("add")
@relation_option(
    multiple=True, required=True, help="A relation type the subject holds (repeat for several)."
)
@name_option(help="Stored in the category that has a 'name' field.")
@email_option(help="Stored in the category that has an 'email' field.")
@click.option(
    "--id", "subject_id", metavar="ID", default=None, help="The subject id (default: generated)."
)
@click.option(
    "--organisation", metavar="SUBJECT", default=None, help="The organisation a person belongs to."
)
@_WORKSPACE
@_FORMAT
def subject_add(
    relations: tuple[str, ...],
    name: str | None,
    email: str | None,
    subject_id: str | None,
    organisation: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Register a subject; prints its id."""
    from ..domain.errors import InvalidValue

    with _workspace(workspace_dir) as ws:
        try:
            added = ws.add_subject(
                relations,
                subject_id=subject_id,
                organisation=organisation,
                name=name,
                email=email,
                actor="cli",
            )
        except InvalidValue as exc:
            hint = f"--{exc.field.replace('_', '-')}"
            raise click.BadParameter(exc.message, param_hint=hint) from None
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(added))
        else:
            click.echo(added.id)


@subject.command("event")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("event")
@at_option(
    required=True,
    help="When (ISO 8601 date or date-time; no offset: the workspace's time zone).",
)
@_WORKSPACE
def subject_event(subject_id: str, event: str, at_text: str, workspace_dir: Path) -> None:
    """Record that lifecycle EVENT happened to SUBJECT."""
    with _workspace(workspace_dir) as ws:
        ws.record_event(subject_id, event, ws.parse_instant(at_text), actor="cli")
        click.echo(f"{subject_id}: {event} at {ws.parse_instant(at_text).isoformat()}")


@subject.command("relations")
@click.argument("subject_id", metavar="SUBJECT")
@relation_option(
    multiple=True,
    required=True,
    help="The relation types the subject holds from now on (e.g. a prospect that "
    "became a client: --relation client).",
)
@_WORKSPACE
def subject_relations(subject_id: str, relations: tuple[str, ...], workspace_dir: Path) -> None:
    """Replace SUBJECT's relation types; its data and history stay."""
    with _workspace(workspace_dir) as ws:
        changed = ws.set_relation_types(subject_id, relations, actor="cli")
        click.echo(f"{subject_id}: {', '.join(sorted(changed.relation_types))}")


@subject.command(
    "show", short_help="Show SUBJECT: relation types, events and items in every store."
)
@click.argument("subject_id", metavar="SUBJECT")
@click.option(
    "--as",
    "staff_id",
    metavar="STAFF",
    envvar="PRACLOX_PRIVACY_STAFF",
    default=None,
    help="Who reads (a staff member in the register; default: $PRACLOX_PRIVACY_STAFF). "
    "Needed for client data: the access guard decides and audits it (S12).",
)
@_WORKSPACE
@_FORMAT
def subject_show(subject_id: str, staff_id: str | None, workspace_dir: Path, fmt: str) -> None:
    """Show SUBJECT: relation types, events and the items held in every store.

    The data of a client and of its contact persons is shown only to a staff member the
    access guard allows (--as STAFF, S12); the read is audited.
    """
    from ..services.guards import clients_of

    with _workspace(workspace_dir) as ws:
        found = ws.ledger.subject(subject_id)
        if staff_id is None and clients_of(ws, subject_id):
            raise click.UsageError(
                f"{subject_id} holds client data (S12): name who reads it with --as STAFF "
                "(or set PRACLOX_PRIVACY_STAFF); the access guard decides and audits it"
            )
        held = ws.items_of(subject_id, staff=staff_id, purpose="subject show")
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json({**to_json(found), "items": to_json(held)})
            return
        click.echo(
            f"{found.id}: {', '.join(sorted(found.relation_types))}"
            + (f" of {found.organisation}" if found.organisation else "")
        )
        for e in found.events:
            click.echo(f"  event {e.name} at {e.at.isoformat()}")
        for store_name, items in held.items():
            for i in items:
                click.echo(f"  [{store_name}] {i.category}.{i.field} = {i.value}")


@subject.command("list")
@relation_option(help="Only subjects holding this relation type.")
@_WORKSPACE
@_FORMAT
def subject_list(relation: str | None, workspace_dir: Path, fmt: str) -> None:
    """List the registered subjects."""
    with _workspace(workspace_dir) as ws:
        found = [
            s for s in ws.ledger.subjects() if relation is None or relation in s.relation_types
        ]
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(found))
            return
        for s in found:
            click.echo(f"{s.id}\t{', '.join(sorted(s.relation_types))}")


@click.group()
def data() -> None:
    """Add and import personal data items."""


@data.command("add")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("category")
@click.argument("field")
@click.argument("value")
@purpose_option(multiple=True, help="A purpose (repeatable).")
@store_option(help="The store (default: the primary).")
@_WORKSPACE
def data_add(
    subject_id: str,
    category: str,
    field: str,
    value: str,
    purposes: tuple[str, ...],
    store_name: str | None,
    workspace_dir: Path,
) -> None:
    """Store one item: VALUE of FIELD in CATEGORY for SUBJECT."""
    from ..domain.errors import InvalidValue
    from ..domain.records import Item

    with _workspace(workspace_dir) as ws:
        try:
            item = Item(subject_id, category, field, value, ws.clock(), purposes)
        except InvalidValue as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        ws.write([item], store_name, actor="cli")
        click.echo(f"stored {subject_id}/{category}/{field} in {store_name or ws.config.primary}")


@data.command("import", short_help="Import items from a JSON Lines or CSV FILE; all or nothing.")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@store_option(help="The store (default: the primary).")
@format_option(
    "jsonl", "csv", default=None, help="The file's format (default: from its extension)."
)
@_WORKSPACE
def data_import(file: Path, store_name: str | None, fmt: str | None, workspace_dir: Path) -> None:
    """Import items from a JSON Lines or CSV FILE, streamed; all or nothing."""
    with _workspace(workspace_dir) as ws:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
                count = ws.import_file(
                    file,
                    store_name,
                    fmt,
                    lambda done: progress.update(task, completed=done),
                    actor="cli",
                )
        else:
            count = ws.import_file(file, store_name, fmt, actor="cli")
        click.echo(f"imported {count} items from {file} into {store_name or ws.config.primary}")


@click.group()
def audit() -> None:
    """Show and verify the audit trail."""


@audit.command("show")
@subject_option(help="Only entries about this subject.")
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", default=None, help="The last N entries."
)
@_WORKSPACE
@_FORMAT
def audit_show(subject_id: str | None, limit: int | None, workspace_dir: Path, fmt: str) -> None:
    """Show audit entries, oldest first."""
    with _workspace(workspace_dir) as ws:
        entries = ws.audit_entries(subject_id, limit)
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json([to_json(e, omit=("prev_hash",)) for e in entries])
            return
        for e in entries:
            details = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
            click.echo(
                f"{e.seq:>6} {e.at.isoformat()} {e.actor:<8} {e.action:<22} "
                f"{e.subject_id or '-'} {details}"
            )


@audit.command("verify", short_help="Check the audit trail's hash chain; exit 1 when it is broken.")
@_WORKSPACE
@_FORMAT
def audit_verify(workspace_dir: Path, fmt: str) -> None:
    """Check the audit trail's hash chain; exit 1 naming the first broken entry."""
    with _workspace(workspace_dir) as ws:
        result = ws.verify_audit()
    if fmt == "json":
        from ..formats.jsonout import to_json

        _json(to_json(result))
    elif result.ok:
        click.echo(f"audit trail intact: {result.checked} entries")
    else:
        click.echo(
            f"audit trail broken at entry {result.broken_at}: {result.reason} "
            f"({result.checked} entries before it are intact)",
            err=True,
        )
    if not result.ok:
        sys.exit(1)
