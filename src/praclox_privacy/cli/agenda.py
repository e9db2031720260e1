"""``praclox-privacy agenda``: the congratulations agenda (S8) on the command line."""

from datetime import date
from pathlib import Path

import click

from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import emit_json as _json
from .options import now_option, store_option
from .options import open_workspace as _workspace

__all__ = ["agenda"]

_LEAP_DAY = click.option(
    "--leap-day",
    type=click.Choice(["feb28", "mar1"]),
    default="feb28",
    show_default=True,
    help="Where a 29 February date falls in a common year.",
)


@click.group(
    invoke_without_command=True,
    short_help="List upcoming congratulations: birthdays and anniversaries.",
)
@click.option(
    "--days",
    type=click.IntRange(0, 3660),
    default=14,
    show_default=True,
    help="How many days ahead to look (today included).",
)
@now_option(help="List as of this instant (ISO 8601; default: now).")
@_LEAP_DAY
@click.option(
    "--ics",
    "ics_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    default=None,
    help="Also write every allowed life event as a yearly event to this iCalendar file.",
)
@_WORKSPACE
@_FORMAT
@click.pass_context
def agenda(
    ctx: click.Context,
    days: int,
    now_text: str | None,
    leap_day: str,
    ics_path: Path | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """List upcoming congratulations: birthdays, children's birthdays, anniversaries.

    Life events come from every store except the caldav agendas, and only of people
    whose data may be used for congratulations (not restricted, not objected).
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..domain.agenda import LeapDay
    from ..services.agenda import export_ics, life_events, upcoming_agenda

    with _workspace(workspace_dir) as ws:
        now = ws.parse_instant(now_text) if now_text else ws.clock()
        policy = LeapDay(leap_day)
        result = upcoming_agenda(ws, now, days, policy, actor="cli")
        if ics_path is not None:
            try:
                data = export_ics(life_events(ws, now, actor="cli"), policy)
            except ModuleNotFoundError as exc:
                raise click.ClickException(
                    f"the iCalendar export needs {exc.name}: pip install 'praclox-privacy[agenda]'"
                ) from None
            try:
                ics_path.write_bytes(data)
            except OSError as exc:
                raise click.ClickException(f"cannot write {ics_path}: {exc.strerror}") from None
    if fmt == "json":
        from ..formats.jsonout import to_json

        data_json = to_json(result)
        if ics_path is not None:
            data_json["ics"] = str(ics_path)
        _json(data_json)
    else:
        last = result.start.toordinal() + result.days
        click.echo(
            f"Congratulations from {result.start.isoformat()} through "
            f"{date.fromordinal(last).isoformat()}: {len(result.entries)}"
        )
        for entry in result.entries:
            click.echo(f"  {entry.congratulation.on.isoformat()}  {entry.describe()}")
        for subject_id, reason in sorted(result.excluded.items()):
            click.echo(f"left out {subject_id}: {reason}", err=True)
        if ics_path is not None:
            click.echo(f"wrote {ics_path}")
    for store, error in sorted(result.failures.items()):
        click.echo(f"store {store} could not be read: {error}", err=True)
    if result.failures:
        raise SystemExit(1)


@agenda.command("sync", short_help="Write the allowed life events to the caldav agendas.")
@store_option(
    multiple=True, help="A caldav store to sync (repeatable; default: every caldav store)."
)
@now_option(help="Check restrictions as of this instant (ISO 8601; default: now).")
@_WORKSPACE
@_FORMAT
def agenda_sync(
    store_names: tuple[str, ...], now_text: str | None, workspace_dir: Path, fmt: str
) -> None:
    """Write the allowed life events to the caldav agenda(s); remove the others.

    Running it again writes nothing new: each life event has one event with a stable UID.
    Exits 1 when a store could not be synced (nothing is lost; run it again later).
    """
    from ..services.agenda import agenda_stores, sync

    with _workspace(workspace_dir) as ws:
        if not agenda_stores(ws):
            raise click.ClickException(
                'the workspace has no caldav store; add one with plugin = "caldav" (docs/agenda.md)'
            )
        now = ws.parse_instant(now_text) if now_text else ws.clock()
        events, results = sync(ws, store_names or None, now, actor="cli")
    if fmt == "json":
        from ..formats.jsonout import to_json

        _json(
            {
                "stores": to_json(results),
                "life_events": len(events.items),
                "excluded": dict(sorted(events.excluded.items())),
                "failed_sources": dict(sorted(events.failures.items())),
            }
        )
    else:
        for r in results:
            if r.error is None:
                click.echo(
                    f"{r.store}: {r.written} written, {r.removed} removed, {r.unchanged} unchanged"
                )
            else:
                click.echo(f"{r.store}: not synced: {r.error}", err=True)
        for subject_id, reason in sorted(events.excluded.items()):
            click.echo(f"left out {subject_id}: {reason}", err=True)
        for store, error in sorted(events.failures.items()):
            click.echo(f"store {store} could not be read: {error}", err=True)
    if any(r.error for r in results) or events.failures:
        raise SystemExit(1)
