"""``praclox-privacy staff``, ``guard`` and ``agreement``: who may see client data (S10, S12).

Exit codes as everywhere: 0 success (``guard check``: allowed), 1 refused, 2 usage.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import AT_OPTION as _AT_OPTION
from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import emit_json as _json
from .options import name_option, purpose_option, reason_option, scope_option
from .options import open_workspace as _workspace
from .options import parse_at as _parse_at

if TYPE_CHECKING:
    from datetime import datetime


__all__ = ["agreement", "guard", "staff"]


def _iso(value: "datetime | None") -> str | None:
    return None if value is None else value.isoformat()


def _invalid(exc: ValueError) -> click.ClickException:
    return click.ClickException(str(exc))


# -- staff and the guard --------------------------------------------------------------------


@click.group(short_help="Keep the staff register: employment and confidentiality.")
def staff() -> None:
    """Keep the staff register: employment and confidentiality agreements (S12)."""


@staff.command("add")
@click.argument("staff_id", metavar="STAFF")
@name_option(required=True, help="The staff member's name.")
@click.option("--employment", type=click.Choice(["permanent", "temporary"]), required=True)
@click.option(
    "--confidentiality-signed",
    "signed_text",
    metavar="WHEN",
    default=None,
    help="When the confidentiality agreement was signed (ISO 8601).",
)
@click.option(
    "--started", "started_text", metavar="WHEN", default=None, help="Start of employment."
)
@click.option("--ended", "ended_text", metavar="WHEN", default=None, help="End of employment.")
@reason_option(
    required=False,
    help="Why a temporary worker becomes permanent (needed then: it opens client data, S12).",
)
@_WORKSPACE
def staff_add(
    staff_id: str,
    name: str,
    employment: str,
    signed_text: str | None,
    started_text: str | None,
    ended_text: str | None,
    reason: str | None,
    workspace_dir: Path,
) -> None:
    """Add STAFF to the register (or update their entry).

    Making a temporary worker permanent needs --reason; it is audited.
    """
    from ..services.guards import add_staff

    with _workspace(workspace_dir) as ws:
        try:
            member = add_staff(
                ws,
                staff_id,
                name,
                employment,
                confidentiality_signed_at=_parse_at(ws, signed_text),
                started_at=_parse_at(ws, started_text),
                ended_at=_parse_at(ws, ended_text),
                reason=reason,
                actor="cli",
            )
        except ValueError as exc:
            raise _invalid(exc) from None
        click.echo(f"{member.id}: {member.employment.value}")


@staff.command("list")
@_WORKSPACE
@_FORMAT
def staff_list(workspace_dir: Path, fmt: str) -> None:
    """List the staff register."""
    from ..services.guards import list_staff

    with _workspace(workspace_dir) as ws:
        found = list_staff(ws)
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(found))
            return
        for m in found:
            signed = _iso(m.confidentiality_signed_at) or "not signed"
            click.echo(f"{m.id}\t{m.name}\t{m.employment.value}\tconfidentiality: {signed}")


@click.group()
def guard() -> None:
    """Check staff access to client data (S12)."""


@guard.command(
    "check", short_help="Decide whether STAFF may see CLIENT's data; exit 1 when refused."
)
@click.argument("staff_id", metavar="STAFF")
@click.argument("client_id", metavar="CLIENT")
@purpose_option(help="Why access is needed (audited).")
@_AT_OPTION
@_WORKSPACE
@_FORMAT
def guard_check(
    staff_id: str,
    client_id: str,
    purpose: str,
    at_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Decide whether STAFF may look into CLIENT's data; exit 1 when refused.

    The decision is recorded in the audit trail, with --purpose.
    """
    from ..services.guards import check_access

    with _workspace(workspace_dir) as ws:
        decision = check_access(
            ws, staff_id, client_id, at=_parse_at(ws, at_text), purpose=purpose, actor="cli"
        )
    if fmt == "json":
        from ..formats.jsonout import to_json

        _json({"staff": staff_id, "client": client_id, **to_json(decision)})
    else:
        click.echo(f"{'allowed' if decision else 'refused'}: {decision.reason}", err=not decision)
    if not decision:
        sys.exit(1)


# -- agreements ------------------------------------------------------------------------------


@click.group(short_help="Agreements with clients: confidentiality and data transfers.")
def agreement() -> None:
    """Agreements with clients: confidentiality (S12), data transfers (S10)."""


@agreement.command("record")
@click.argument("client_id", metavar="CLIENT")
@click.option(
    "--kind",
    metavar="KIND",
    required=True,
    help="confidentiality, or the agreement a category requires (client_data_transfer).",
)
@scope_option(help="What it covers.")
@click.option(
    "--agreed-at", "agreed_text", metavar="WHEN", default=None, help="When (default: now)."
)
@click.option(
    "--ends-at", "ends_text", metavar="WHEN", default=None, help="When it ends, if known."
)
@click.option(
    "--delete-by", "delete_text", metavar="WHEN", default=None, help="Delete the data by then."
)
@_WORKSPACE
def agreement_record(
    client_id: str,
    kind: str,
    scope: str,
    agreed_text: str | None,
    ends_text: str | None,
    delete_text: str | None,
    workspace_dir: Path,
) -> None:
    """Record an agreement with CLIENT, made beforehand; prints its id."""
    from ..services.guards import record_agreement

    with _workspace(workspace_dir) as ws:
        recorded = record_agreement(
            ws,
            client_id,
            kind,
            scope=scope,
            agreed_at=_parse_at(ws, agreed_text),
            ends_at=_parse_at(ws, ends_text),
            delete_by=_parse_at(ws, delete_text),
            actor="cli",
        )
        click.echo(f"agreement {recorded.id}: {kind} with {client_id}")


@agreement.command("list")
@click.argument("client_id", metavar="CLIENT", required=False)
@_WORKSPACE
@_FORMAT
def agreement_list(client_id: str | None, workspace_dir: Path, fmt: str) -> None:
    """List the agreements (with CLIENT, or all)."""
    from ..services.guards import agreements

    with _workspace(workspace_dir) as ws:
        found = agreements(ws, client_id)
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(found))
            return
        for a in found:
            click.echo(
                f"{a.id}\t{a.subject_id}\t{a.kind}\tagreed {a.agreed_at.isoformat()}"
                + (f"\tends {a.ends_at.isoformat()}" if a.ends_at else "")
                + (f"\tdelete by {a.delete_by.isoformat()}" if a.delete_by else "")
            )


@agreement.command(
    "used", short_help="Start CLIENT's deletion clock: the transferred data was used."
)
@click.argument("client_id", metavar="CLIENT")
@_AT_OPTION
@_WORKSPACE
def agreement_used(client_id: str, at_text: str | None, workspace_dir: Path) -> None:
    """Record that CLIENT's transferred data was used: its deletion clock starts (S10)."""
    from ..services.guards import mark_used

    with _workspace(workspace_dir) as ws:
        at = _parse_at(ws, at_text) or ws.clock()
        mark_used(ws, client_id, at=at, actor="cli")
        click.echo(f"{client_id}: used at {at.isoformat()}; the sweep erases the data when due")


@agreement.command(
    "end", short_help="End agreement AGREEMENT_ID; transferred data becomes due later."
)
@click.argument("agreement_id", type=int)
@_AT_OPTION
@_WORKSPACE
def agreement_end(agreement_id: int, at_text: str | None, workspace_dir: Path) -> None:
    """End agreement AGREEMENT_ID (a data-transfer agreement's data becomes due later)."""
    from ..services.guards import end_agreement

    with _workspace(workspace_dir) as ws:
        end_agreement(ws, agreement_id, at=_parse_at(ws, at_text), actor="cli")
        click.echo(f"agreement {agreement_id} ended")
