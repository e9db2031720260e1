"""The ``request`` commands: data-subject requests, from intake to answer (docs/requests.md).

Each command calls the function of :mod:`praclox_privacy.services.requests` of the same
name, so the CLI and the Python API do the same things. Exit codes as everywhere: 0
success, 1 refused (an unverified request, a closed one, a malformed OpenDSR document,
a use a restriction forbids, an erasure a store could not finish), 2 usage errors or a
workspace that cannot be opened. ``--now`` moves the clock (ISO 8601), for deadlines and
for tests.
"""

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import FORMAT_OPTION as _FORMAT
from .options import NOW_OPTION as _NOW
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import (
    category_option,
    email_option,
    format_option,
    lang_option,
    note_option,
    out_option,
    purpose_option,
    reason_option,
    store_option,
    subject_option,
)
from .options import emit_json as _json
from .options import open_workspace as _workspace

if TYPE_CHECKING:
    from datetime import datetime

    from ..domain.requests import DataRequest
    from ..services.workspace import Workspace

__all__ = ["request"]

_REQUEST_TYPES = ("access", "portability", "erasure", "rectification", "restriction", "objection")
_GROUNDS = ("accuracy_contested", "unlawful", "legal_claims", "objection_pending")

_LANG = lang_option(help="Language of the answer to the requester.")
_REQUEST = click.option(
    "--request",
    "request_id",
    metavar="REQUEST",
    default=None,
    help="The request to carry out (default: the subject's only verified open one).",
)


def _now(ws: "Workspace", text: str | None) -> "datetime":
    return ws.parse_instant(text) if text else ws.clock()


def _request_json(r: "DataRequest", now: "datetime") -> dict[str, Any]:
    from ..formats.jsonout import insert_after, to_json

    return insert_after(to_json(r), "deadline", overdue=r.is_overdue(now))


def _request_line(ws: "Workspace", r: "DataRequest", now: "datetime") -> str:
    def day(instant: "datetime") -> str:
        return instant.astimezone(ws.timezone).date().isoformat()

    extended = " (extended)" if r.extended_until else ""
    line = (
        f"{r.id}  {r.type.value:<13} {r.status.value:<11} received {day(r.received_at)}  "
        f"due {day(r.deadline)}{extended}  subject {r.subject_id or '-'}"
    )
    if r.is_overdue(now):
        line += "  OVERDUE"
    return line


@click.group(short_help="Data-subject requests: register, verify and answer them.")
def request() -> None:
    """Data-subject requests: register, verify and answer them (GDPR Art. 12-21)."""


@request.command("list", short_help="List the request register; --overdue for missed deadlines.")
@click.option("--overdue", is_flag=True, help="Only open requests past their deadline.")
@click.option("--open", "open_only", is_flag=True, help="Only pending and in-progress requests.")
@subject_option(help="Only requests about this subject.")
@_NOW
@_WORKSPACE
@_FORMAT
def request_list(
    overdue: bool,
    open_only: bool,
    subject_id: str | None,
    now_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """List the request register, oldest first; OVERDUE marks a missed deadline."""
    from ..services.requests import list_requests

    with _workspace(workspace_dir) as ws:
        now = _now(ws, now_text)
        found = list_requests(
            ws, overdue=overdue, open_only=open_only, subject_id=subject_id, now=now
        )
        if fmt == "json":
            _json([_request_json(r, now) for r in found])
            return
        for r in found:
            click.echo(_request_line(ws, r, now))
        if not found:
            click.echo("no overdue requests" if overdue else "no requests")


@request.command("new")
@click.option(
    "--type", "kind", type=click.Choice(_REQUEST_TYPES), required=True, help="The right asked for."
)
@email_option(multiple=True, help="An e-mail address the requester gave (repeatable).")
@subject_option(multiple=True, help="A subject id the requester gave (repeatable).")
@click.option(
    "--received",
    "received_text",
    metavar="WHEN",
    default=None,
    help="When the request reached you (ISO 8601; default: now); the deadline runs from it.",
)
@note_option()
@_NOW
@_WORKSPACE
@_FORMAT
def request_new(
    kind: str,
    emails: tuple[str, ...],
    subject_ids: tuple[str, ...],
    received_text: str | None,
    note: str,
    now_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Register a request; prints its id.

    Give at least one --email or --subject: what the requester said they are. Verify the
    requester next (`request verify`).
    """
    from ..domain.errors import InvalidValue
    from ..domain.requests import Identity
    from ..services.requests import receive_request

    try:
        identities = [Identity("email", e.strip()) for e in emails] + [
            Identity("subject_id", s) for s in subject_ids
        ]
    except InvalidValue as exc:
        raise click.BadParameter(exc.message, param_hint="--email/--subject") from None
    if not identities:
        raise click.UsageError("give the requester's --email or --subject (or both)")
    with _workspace(workspace_dir) as ws:
        now = _now(ws, now_text)
        received = ws.parse_instant(received_text) if received_text else now
        details = {"source": "cli", "note": note} if note else {"source": "cli"}
        added = receive_request(
            ws, kind, identities, now=now, received_at=received, details=details, actor="cli"
        )
        if fmt == "json":
            _json(_request_json(added, now))
        else:
            click.echo(added.id)


@request.command("intake", short_help="Register an OpenDSR (OpenGDPR) request read from FILE.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@_NOW
@_WORKSPACE
def request_intake(file: str, now_text: str | None, workspace_dir: Path) -> None:
    """Register an OpenDSR (OpenGDPR) request read from FILE ('-': standard input).

    Prints the request's OpenDSR status object; a malformed request exits 1 listing
    every problem.
    """
    from ..services.requests import intake_opendsr, opendsr_status

    source = "<stdin>" if file == "-" else file
    try:
        with click.open_file(file, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    with _workspace(workspace_dir) as ws:
        added = intake_opendsr(ws, data, source=source, now=_now(ws, now_text), actor="cli")
        _json(opendsr_status(ws, added))


@request.command("status")
@click.argument("request_id", metavar="REQUEST")
@_WORKSPACE
def request_status(request_id: str, workspace_dir: Path) -> None:
    """Print the OpenDSR status object of REQUEST."""
    from ..services.requests import opendsr_status

    with _workspace(workspace_dir) as ws:
        _json(opendsr_status(ws, request_id))


@request.command("show")
@click.argument("request_id", metavar="REQUEST")
@_NOW
@_WORKSPACE
@_FORMAT
def request_show(request_id: str, now_text: str | None, workspace_dir: Path, fmt: str) -> None:
    """Show REQUEST: identities, deadline, verification and result."""
    from ..services.requests import get_request

    with _workspace(workspace_dir) as ws:
        now = _now(ws, now_text)
        found = get_request(ws, request_id)
        data = _request_json(found, now)
        if fmt == "json":
            _json(data)
            return
        click.echo(_request_line(ws, found, now))
        for identity in found.identities:
            click.echo(f"  identity {identity.kind} ({identity.format}): {identity.value}")
        if found.extended_until:
            click.echo(f"  extended until {data['extended_until']}: {found.extension_reason}")
        if found.verified_at:
            click.echo(f"  verified by {found.verified_by} at {data['verified_at']}")
        if found.result:
            click.echo(
                f"  result: {json.dumps(data['result'], ensure_ascii=False, sort_keys=True)}"
            )


@request.command("verify", short_help="Mark the requester's identity of REQUEST verified.")
@click.argument("request_id", metavar="REQUEST")
@click.option(
    "--by",
    "verified_by",
    metavar="NAME",
    required=True,
    help="Who verified the requester's identity.",
)
@subject_option(help="The subject the requester is (default: the one their identities point to).")
@_NOW
@_WORKSPACE
def request_verify(
    request_id: str,
    verified_by: str,
    subject_id: str | None,
    now_text: str | None,
    workspace_dir: Path,
) -> None:
    """Mark the requester's identity of REQUEST verified; nothing is exported or erased before."""
    from ..services.requests import verify_request

    with _workspace(workspace_dir) as ws:
        done = verify_request(
            ws, request_id, verified_by, subject_id=subject_id, now=_now(ws, now_text), actor="cli"
        )
        click.echo(f"{done.id}: verified by {done.verified_by}; subject {done.subject_id}")


@request.command("extend", short_help="Extend the deadline of REQUEST by 1 or 2 months.")
@click.argument("request_id", metavar="REQUEST")
@click.option("--months", type=click.IntRange(1, 2), required=True, help="1 or 2 more months.")
@reason_option(help="Why (told to the person within the first month).")
@_NOW
@_WORKSPACE
def request_extend(
    request_id: str, months: int, reason: str, now_text: str | None, workspace_dir: Path
) -> None:
    """Extend the deadline of REQUEST (GDPR Art. 12(3)): at most 2 months in all."""
    from ..services.requests import extend_request

    with _workspace(workspace_dir) as ws:
        done = extend_request(ws, request_id, months, reason, now=_now(ws, now_text), actor="cli")
        assert done.extended_until is not None
        click.echo(f"{done.id}: due {done.extended_until.astimezone(ws.timezone).isoformat()}")


@request.command("cancel", short_help="Cancel REQUEST: withdrawn, unfounded or no data held.")
@click.argument("request_id", metavar="REQUEST")
@reason_option(help="Why (told to the person).")
@_NOW
@_WORKSPACE
def request_cancel(request_id: str, reason: str, now_text: str | None, workspace_dir: Path) -> None:
    """Cancel REQUEST: withdrawn, unfounded, or no data held about the requester."""
    from ..services.requests import cancel_request

    with _workspace(workspace_dir) as ws:
        done = cancel_request(ws, request_id, reason, now=_now(ws, now_text), actor="cli")
        click.echo(f"{done.id}: cancelled")


@request.command("access", short_help="Answer SUBJECT's verified access or portability request.")
@click.argument("subject_id", metavar="SUBJECT")
@_REQUEST
@format_option(
    "json",
    "csv",
    "html",
    default="json",
    help="JSON (machine-readable, Art. 20), CSV, or a readable HTML report.",
)
@_LANG
@out_option(
    help="Write the report to FILE (readable by its owner only) instead of standard output."
)
@_NOW
@_WORKSPACE
def request_access(
    subject_id: str,
    request_id: str | None,
    fmt: str,
    lang: str,
    out: Path | None,
    now_text: str | None,
    workspace_dir: Path,
) -> None:
    """Answer SUBJECT's verified access (Art. 15) or portability (Art. 20) request.

    Everything held in every store, with purposes, legal bases, retention dates or legal
    holds, and recipients; plus consents, events, requests and restrictions.
    """
    from ..formats.access_report import render_report
    from ..services.rights import answer_access

    with _workspace(workspace_dir) as ws:
        report = answer_access(
            ws, subject_id, request_id=request_id, now=_now(ws, now_text), actor="cli"
        )
        text = render_report(report, ws.policy, fmt, lang, ws.timezone)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out}: {len(report.items)} items of {subject_id}")


@request.command("erase", short_help="Carry out SUBJECT's verified erasure request in every store.")
@click.argument("subject_id", metavar="SUBJECT")
@_REQUEST
@_LANG
@_NOW
@_WORKSPACE
@_FORMAT
def request_erase(
    subject_id: str,
    request_id: str | None,
    lang: str,
    now_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Carry out SUBJECT's verified erasure request (Art. 17) in every store.

    What a legal hold keeps stays, with its law and the date it goes. Exits 1 when a
    store failed (run it again to finish).
    """
    from ..formats.letters import erasure_text
    from ..services.rights import erase_subject

    with _workspace(workspace_dir) as ws:
        result = erase_subject(
            ws, subject_id, request_id=request_id, now=_now(ws, now_text), actor="cli"
        )
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(result))
        else:
            click.echo(erasure_text(result, ws.policy, lang, ws.timezone), nl=False)
            for store, error in result.failures:
                click.echo(f"store {store} failed: {error}", err=True)
    if not result.done:
        sys.exit(1)


@request.command("rectify", short_help="Carry out SUBJECT's verified rectification request.")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("category")
@click.argument("field")
@click.argument("value")
@store_option(help="Only this store (default: every one).")
@_REQUEST
@_LANG
@_NOW
@_WORKSPACE
def request_rectify(
    subject_id: str,
    category: str,
    field: str,
    value: str,
    store_name: str | None,
    request_id: str | None,
    lang: str,
    now_text: str | None,
    workspace_dir: Path,
) -> None:
    """Carry out SUBJECT's verified rectification request (Art. 16).

    FIELD of CATEGORY becomes VALUE in every store that holds it (or is added when none
    does).
    """
    from ..formats.letters import rectification_text
    from ..services.rights import rectify_data

    with _workspace(workspace_dir) as ws:
        result = rectify_data(
            ws,
            subject_id,
            category,
            field,
            value,
            store=store_name,
            request_id=request_id,
            now=_now(ws, now_text),
            actor="cli",
        )
        where = ", ".join(result.rectified) or f"{result.added_to} (added)"
        click.echo(f"{result.request.id}: {category}/{field} in {where}")
        click.echo(rectification_text(result, ws.policy, lang), nl=False)


@request.command("restrict", short_help="Restrict the processing of SUBJECT's data until lifted.")
@click.argument("subject_id", metavar="SUBJECT")
@click.option(
    "--ground", type=click.Choice(_GROUNDS), required=True, help="The ground of Art. 18(1)."
)
@category_option(help="Only this category (default: all data).")
@note_option()
@_REQUEST
@_LANG
@_NOW
@_WORKSPACE
def request_restrict(
    subject_id: str,
    ground: str,
    category: str | None,
    note: str,
    request_id: str | None,
    lang: str,
    now_text: str | None,
    workspace_dir: Path,
) -> None:
    """Restrict the processing of SUBJECT's data (Art. 18): kept, but not used, until lifted."""
    from ..formats.letters import restriction_text
    from ..services.rights import restrict_processing

    with _workspace(workspace_dir) as ws:
        added = restrict_processing(
            ws,
            subject_id,
            ground,
            category=category,
            note=note,
            request_id=request_id,
            now=_now(ws, now_text),
            actor="cli",
        )
        click.echo(f"restriction {added.id} (request {added.request_id})")
        click.echo(restriction_text(added, ws.policy, lang, ws.timezone), nl=False)


@request.command("lift", short_help="Lift RESTRICTION (or withdraw an objection).")
@click.argument("restriction_id", metavar="RESTRICTION", type=int)
@_LANG
@_NOW
@_WORKSPACE
def request_lift(restriction_id: int, lang: str, now_text: str | None, workspace_dir: Path) -> None:
    """Lift RESTRICTION (or withdraw an objection); tell the person first (Art. 18(3))."""
    from ..formats.letters import lift_text
    from ..services.rights import lift_restriction

    with _workspace(workspace_dir) as ws:
        lifted = lift_restriction(ws, restriction_id, now=_now(ws, now_text), actor="cli")
        click.echo(lift_text(lifted, ws.policy, lang, ws.timezone), nl=False)


@request.command("object", short_help="Record SUBJECT's objection: the purposes end at once.")
@click.argument("subject_id", metavar="SUBJECT")
@purpose_option(
    multiple=True,
    help="A purpose objected to (repeatable; default: every direct-marketing purpose).",
)
@_REQUEST
@_LANG
@_NOW
@_WORKSPACE
def request_object(
    subject_id: str,
    purposes: tuple[str, ...],
    request_id: str | None,
    lang: str,
    now_text: str | None,
    workspace_dir: Path,
) -> None:
    """Record SUBJECT's objection (Art. 21): the purposes end at once, the others stay."""
    from ..formats.letters import objection_text
    from ..services.rights import object_to_processing

    with _workspace(workspace_dir) as ws:
        found = object_to_processing(
            ws, subject_id, purposes, request_id=request_id, now=_now(ws, now_text), actor="cli"
        )
        for o in found:
            click.echo(f"objection {o.id}: {o.purpose}")
        click.echo(objection_text(found, ws.policy, lang, ws.timezone), nl=False)


@request.command(
    "restrictions", short_help="List SUBJECT's restrictions and objections, lifted too."
)
@click.argument("subject_id", metavar="SUBJECT")
@_NOW
@_WORKSPACE
@_FORMAT
def request_restrictions(
    subject_id: str, now_text: str | None, workspace_dir: Path, fmt: str
) -> None:
    """List SUBJECT's restrictions and objections (lifted ones too)."""
    from ..services.rights import restrictions_of

    with _workspace(workspace_dir) as ws:
        now = _now(ws, now_text)
        found = restrictions_of(ws, subject_id)
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(found))
            return
        for r in found:
            state = "active" if r.active_at(now) else "lifted"
            what = r.purpose if r.purpose else (r.category or "all data")
            click.echo(f"{r.id}  {r.kind.value:<11} {what:<20} {r.reason:<20} {state}")
        if not found:
            click.echo(f"no restrictions or objections for {subject_id}")


@request.command("usable")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("purpose")
@category_option(help="The category used (default: any of PURPOSE).")
@_NOW
@_WORKSPACE
def request_usable(
    subject_id: str, purpose: str, category: str | None, now_text: str | None, workspace_dir: Path
) -> None:
    """Check that SUBJECT's data may be used for PURPOSE now.

    Exits 1 naming the restriction or objection that forbids it (the refusal is audited).
    """
    from ..services.rights import ensure_usable

    with _workspace(workspace_dir) as ws:
        ensure_usable(ws, subject_id, purpose, category, now=_now(ws, now_text), actor="cli")
        click.echo(f"{subject_id}: {purpose} allowed")
