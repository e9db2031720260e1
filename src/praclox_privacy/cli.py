"""The ``praclox-privacy`` command line.

Exit codes: 0 success, 1 a check failed or an operation was refused, 2 usage errors.
Heavy modules are imported inside the commands, so ``--help`` answers at once.
"""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .cli_support import FORMAT_OPTION as _FORMAT
from .cli_support import WORKSPACE_OPTION as _WORKSPACE
from .cli_support import emit_json as _json
from .cli_support import open_workspace as _workspace
from .cli_support import print_problems as _print_problems

if TYPE_CHECKING:
    from datetime import tzinfo

    from .domain.policy import Policy
    from .domain.records import Item, Subject
    from .sweep import SweepReport

__all__ = ["main"]


def _load(file: Path | None) -> "Policy":
    from .domain.errors import PolicyError
    from .policy_files import default_policy, load_policy_file

    try:
        return default_policy() if file is None else load_policy_file(file)
    except PolicyError as exc:
        _print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="praclox-privacy")
def main() -> None:
    """Turn a privacy statement into enforced code."""


@main.group()
def policy() -> None:
    """Check, show and create policy files."""


_FILE = click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))


@policy.command("check")
@_FILE
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def policy_check(file: Path | None, fmt: str) -> None:
    """Check that a policy FILE (default: Praclox's shipped policy) is valid and complete.

    Exits 0 when it is, 1 listing every problem with its location.
    """
    from .domain.errors import PolicyError
    from .domain.validation import check_policy
    from .policy_files import DEFAULT_POLICY_NAME, default_policy, load_policy_file

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
        click.echo(
            json.dumps(
                {
                    "source": source,
                    "valid": ok,
                    "problems": [
                        {
                            "location": p.location,
                            "message": p.message,
                            "code": p.code,
                            "severity": p.severity,
                        }
                        for p in problems
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default="en",
    show_default=True,
    help="Language of the labels in text output.",
)
def policy_show(file: Path | None, fmt: str, lang: str) -> None:
    """Show a policy FILE (default: Praclox's shipped policy)."""
    loaded = _load(file)
    if fmt == "json":
        from .policy_files import make_converter

        data: Any = make_converter().unstructure(loaded)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from .reports import policy_summary

    click.echo(policy_summary(loaded, lang))


@policy.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def policy_init(path: Path) -> None:
    """Write Praclox's policy to PATH as a starting point for editing.

    Refuses to overwrite an existing file.
    """
    from .policy_files import default_policy_text

    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(default_policy_text())
    except FileExistsError:
        raise click.ClickException(f"{path} already exists; not overwriting it") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"wrote {path}; check it with: praclox-privacy policy check {path}")


# -- workspaces --------------------------------------------------------------------------


def _item_json(item: "Item") -> dict[str, Any]:
    return {
        "subject_id": item.subject_id,
        "category": item.category,
        "field": item.field,
        "value": item.value,
        "collected_at": item.collected_at.isoformat(),
        "purposes": list(item.purposes),
    }


def _subject_json(subject: "Subject") -> dict[str, Any]:
    return {
        "id": subject.id,
        "relation_types": sorted(subject.relation_types),
        "organisation": subject.organisation,
        "events": [{"event": e.name, "at": e.at.isoformat()} for e in subject.events],
    }


@main.command("init")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=Path()
)
@click.option(
    "--policy",
    "policy_path",
    default="default",
    show_default=True,
    help="The policy: 'default' (Praclox's) or a policy file, relative to DIRECTORY.",
)
@click.option(
    "--url",
    default=None,
    help="Database URL of the primary store (default: an SQLite file in DIRECTORY).",
)
def init(directory: Path, policy_path: str, url: str | None) -> None:
    """Create a workspace in DIRECTORY: praclox-privacy.toml and its database."""
    from .domain.errors import DocumentError, PracloxPrivacyError
    from .workspace import Workspace

    try:
        path = Workspace.init(directory, policy=policy_path, url=url)
    except DocumentError as exc:
        _print_problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None
    except PracloxPrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {path}")


@main.group()
def subject() -> None:
    """Register subjects (relations) and their lifecycle events."""


@subject.command("add")
@click.option(
    "--relation",
    "relations",
    multiple=True,
    required=True,
    help="A relation type the subject holds (repeat for several).",
)
@click.option("--name", default=None, help="Stored in the category that has a 'name' field.")
@click.option("--email", default=None, help="Stored in the category that has an 'email' field.")
@click.option("--id", "subject_id", default=None, help="The subject id (default: generated).")
@click.option("--organisation", default=None, help="The organisation a person belongs to.")
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
    from .domain.errors import InvalidValue

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
            _json(_subject_json(added))
        else:
            click.echo(added.id)


@subject.command("event")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("event")
@click.option(
    "--at",
    "at_text",
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
@click.option(
    "--relation",
    "relations",
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


@subject.command("show")
@click.argument("subject_id", metavar="SUBJECT")
@_WORKSPACE
@_FORMAT
def subject_show(subject_id: str, workspace_dir: Path, fmt: str) -> None:
    """Show SUBJECT: relation types, events and the items held in every store."""
    with _workspace(workspace_dir) as ws:
        found = ws.ledger.subject(subject_id)
        held = ws.items_of(subject_id)
        if fmt == "json":
            _json(
                {
                    **_subject_json(found),
                    "items": {s: [_item_json(i) for i in items] for s, items in held.items()},
                }
            )
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
@click.option("--relation", default=None, help="Only subjects holding this relation type.")
@_WORKSPACE
@_FORMAT
def subject_list(relation: str | None, workspace_dir: Path, fmt: str) -> None:
    """List the registered subjects."""
    with _workspace(workspace_dir) as ws:
        found = [
            s for s in ws.ledger.subjects() if relation is None or relation in s.relation_types
        ]
        if fmt == "json":
            _json([_subject_json(s) for s in found])
            return
        for s in found:
            click.echo(f"{s.id}\t{', '.join(sorted(s.relation_types))}")


@main.group()
def data() -> None:
    """Add and import personal data items."""


@data.command("add")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("category")
@click.argument("field")
@click.argument("value")
@click.option("--purpose", "purposes", multiple=True, help="A purpose (repeatable).")
@click.option("--store", "store_name", default=None, help="The store (default: the primary).")
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
    from .domain.errors import InvalidValue
    from .domain.records import Item

    with _workspace(workspace_dir) as ws:
        try:
            item = Item(subject_id, category, field, value, ws.clock(), purposes)
        except InvalidValue as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
        ws.write([item], store_name, actor="cli")
        click.echo(f"stored {subject_id}/{category}/{field} in {store_name or ws.config.primary}")


@data.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--store", "store_name", default=None, help="The store (default: the primary).")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="The file's format (default: from its extension).",
)
@_WORKSPACE
def data_import(
    file: Path, store_name: str | None, file_format: str | None, workspace_dir: Path
) -> None:
    """Import items from a JSON Lines or CSV FILE, streamed; all or nothing."""
    with _workspace(workspace_dir) as ws:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
                count = ws.import_file(
                    file,
                    store_name,
                    file_format,
                    lambda done: progress.update(task, completed=done),
                    actor="cli",
                )
        else:
            count = ws.import_file(file, store_name, file_format, actor="cli")
        click.echo(f"imported {count} items from {file} into {store_name or ws.config.primary}")


@main.group()
def audit() -> None:
    """Show and verify the audit trail."""


@audit.command("show")
@click.option("--subject", "subject_id", default=None, help="Only entries about this subject.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The last N entries.")
@_WORKSPACE
@_FORMAT
def audit_show(subject_id: str | None, limit: int | None, workspace_dir: Path, fmt: str) -> None:
    """Show audit entries, oldest first."""
    with _workspace(workspace_dir) as ws:
        entries = ws.audit_entries(subject_id, limit)
        if fmt == "json":
            _json(
                [
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "subject_id": e.subject_id,
                        "details": e.details,
                        "hash": e.hash,
                    }
                    for e in entries
                ]
            )
            return
        for e in entries:
            details = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
            click.echo(
                f"{e.seq:>6} {e.at.isoformat()} {e.actor:<8} {e.action:<22} "
                f"{e.subject_id or '-'} {details}"
            )


@audit.command("verify")
@_WORKSPACE
@_FORMAT
def audit_verify(workspace_dir: Path, fmt: str) -> None:
    """Check the audit trail's hash chain; exit 1 naming the first broken entry."""
    with _workspace(workspace_dir) as ws:
        result = ws.verify_audit()
    if fmt == "json":
        _json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "broken_at": result.broken_at,
                "reason": result.reason,
            }
        )
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


# -- retention sweep -----------------------------------------------------------------------


def _print_sweep(report: "SweepReport", tz: "tzinfo") -> None:
    head = "Plan" if report.dry_run else "Sweep"
    click.echo(
        f"{head} at {report.now.isoformat()}"
        + (" (dry run: nothing changed)" if report.dry_run else "")
    )
    verb = "due" if report.dry_run else "erased"
    for e in report.erased:
        shown = ", ".join(e.subjects[:8]) + (
            f" and {len(e.subjects) - 8} more" if len(e.subjects) > 8 else ""
        )
        what = "anonymise" if e.action.value == "anonymise" else "erase"
        click.echo(
            f"  rule {e.rule}: {e.count} {e.category} item{'s' if e.count != 1 else ''}"
            f" {verb} ({what}) in {e.store}; subjects: {shown}"
        )
    for h in report.held:
        ends = sorted({t.astimezone(tz) for t in h.until.values()})
        end = (
            ends[0].date().isoformat()
            if len(ends) == 1
            else (f"{ends[0].date().isoformat()} to {ends[-1].date().isoformat()}")
        )
        why = f"legal hold: {h.ground}" if h.kind == "legal_hold" else f"consent {h.ground!r}"
        click.echo(
            f"  held by rule {h.rule}: {h.count} {h.category} item"
            f"{'s' if h.count != 1 else ''} in {h.store} of {len(h.until)} subject"
            f"{'s' if len(h.until) != 1 else ''}, {why}, until {end}"
        )
    for f in report.failures:
        click.echo(f"  FAILED store {f.store}: {f.error}", err=True)
    stores = len({e.store for e in report.erased})
    held = sum(h.count for h in report.held)
    summary = (
        f"{report.total} item{'s' if report.total != 1 else ''} {verb} in {stores} "
        f"store{'s' if stores != 1 else ''}; {held} held back; "
        f"{len(report.failures)} store{'s' if len(report.failures) != 1 else ''} failed"
    )
    if report.recovered:
        summary += f"; finished {report.recovered} erasures of an interrupted sweep"
    click.echo(summary)


@main.command("sweep")
@click.option("--dry-run", is_flag=True, help="Show what is due and held back; change nothing.")
@click.option(
    "--now", "now_text", default=None, help="Sweep as of this instant (ISO 8601; default: now)."
)
@click.option("--wait", is_flag=True, help="Wait for a running sweep instead of stopping.")
@_WORKSPACE
@_FORMAT
def sweep(dry_run: bool, now_text: str | None, wait: bool, workspace_dir: Path, fmt: str) -> None:
    """Erase or anonymise what the policy makes due, in every store.

    Exits 0 when every store completed, 1 when a store failed or another sweep runs.
    """
    from .sweep import run_sweep

    with _workspace(workspace_dir) as ws:
        ws_timezone = ws.timezone
        now = ws.parse_instant(now_text) if now_text else None
        if sys.stderr.isatty() and fmt == "text":
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task("sweeping", total=None)
                report = run_sweep(
                    ws,
                    now,
                    dry_run=dry_run,
                    wait=wait,
                    on_progress=lambda done, total: progress.update(
                        task, completed=done, total=total
                    ),
                )
        else:
            report = run_sweep(ws, now, dry_run=dry_run, wait=wait)
    if fmt == "json":
        _json(report.as_json())
    else:
        _print_sweep(report, ws_timezone)
    if not report.ok:
        sys.exit(1)


@main.command("demo")
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Create the workspace here and keep it (default: a temporary folder, removed afterwards).",
)
def demo(keep_dir: Path | None) -> None:
    """Show the library at work on a throw-away workspace on the embedded SQLite default."""
    import tempfile
    from datetime import UTC, datetime

    from .demo import run_demo

    now = datetime.now(UTC)
    if keep_dir is not None:
        report = run_demo(keep_dir, now, click.echo)
    else:
        with tempfile.TemporaryDirectory(prefix="praclox-demo-") as tmp:
            report = run_demo(Path(tmp) / "workspace", now, click.echo)
    if not report.ok:
        sys.exit(1)


from .commands_documents import export, register, statement  # noqa: E402

main.add_command(statement)
main.add_command(register)
main.add_command(export)

from .commands_requests import request  # noqa: E402

main.add_command(request)

from .commands_check import check  # noqa: E402

main.add_command(check)

from .commands_guards import agreement, consent, disclosure, guard, staff  # noqa: E402

main.add_command(consent)
main.add_command(disclosure)
main.add_command(staff)
main.add_command(guard)
main.add_command(agreement)

from .commands_agenda import agenda  # noqa: E402

main.add_command(agenda)

from .commands_crm import crm  # noqa: E402

main.add_command(crm)

from .commands_map import map_group  # noqa: E402

main.add_command(map_group)
