"""``praclox-privacy sweep`` and ``demo``: the retention sweep, and the library at work."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import emit_json as _json
from .options import now_option
from .options import open_workspace as _workspace

if TYPE_CHECKING:
    from datetime import tzinfo

    from ..services.sweep import SweepReport

__all__ = ["demo", "sweep"]


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


@click.command("sweep")
@click.option("--dry-run", is_flag=True, help="Show what is due and held back; change nothing.")
@now_option(help="Sweep as of this instant (ISO 8601; default: now).")
@click.option("--wait", is_flag=True, help="Wait for a running sweep instead of stopping.")
@_WORKSPACE
@_FORMAT
def sweep(dry_run: bool, now_text: str | None, wait: bool, workspace_dir: Path, fmt: str) -> None:
    """Erase or anonymise what the policy makes due, in every store.

    Exits 0 when every store completed, 1 when a store failed or another sweep runs.
    """
    from ..services.sweep import run_sweep

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
        from ..formats.jsonout import to_json

        _json(to_json(report))
    else:
        _print_sweep(report, ws_timezone)
    if not report.ok:
        sys.exit(1)


@click.command("demo", short_help="Show the library at work on a throw-away workspace.")
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    default=None,
    help="Create the workspace here and keep it (default: a temporary folder, removed afterwards).",
)
def demo(keep_dir: Path | None) -> None:
    """Show the library at work on a throw-away workspace on the embedded SQLite default."""
    import tempfile
    from datetime import UTC, datetime

    from ..services.demo import run_demo

    now = datetime.now(UTC)
    if keep_dir is not None:
        report = run_demo(keep_dir, now, click.echo)
    else:
        with tempfile.TemporaryDirectory(prefix="praclox-demo-") as tmp:
            report = run_demo(Path(tmp) / "workspace", now, click.echo)
    if not report.ok:
        sys.exit(1)
