"""CLI groups ``consent``, ``disclosure``, ``staff``, ``guard`` and ``agreement``.

Exit codes as everywhere: 0 success (``guard check``: allowed), 1 refused, 2 usage.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli_support import FORMAT_OPTION as _FORMAT
from .cli_support import WORKSPACE_OPTION as _WORKSPACE
from .cli_support import emit_json as _json
from .cli_support import open_workspace as _workspace

if TYPE_CHECKING:
    from datetime import datetime

    from .domain.guards import Agreement, DisclosureRequest, StaffMember
    from .stores.sql.registers import ConsentRecord
    from .workspace import Workspace

__all__ = ["agreement", "consent", "disclosure", "guard", "staff"]

_AT = click.option(
    "--at",
    "at_text",
    default=None,
    help="When (ISO 8601; no offset: the workspace's time zone; default: now).",
)


def _at(ws: "Workspace", text: str | None) -> "datetime | None":
    return None if text is None else ws.parse_instant(text)


def _iso(value: "datetime | None") -> str | None:
    return None if value is None else value.isoformat()


def _consent_json(record: "ConsentRecord") -> dict[str, Any]:
    c = record.consent
    return {
        "id": record.id,
        "subject_id": c.subject_id,
        "kind": c.kind,
        "scope": c.scope,
        "granted_at": c.granted_at.isoformat(),
        "withdrawn_at": _iso(c.withdrawn_at),
        "until": _iso(c.until),
        "method": c.evidence.method,
        "text": c.evidence.text,
        "reference": c.evidence.reference,
    }


def _invalid(exc: ValueError) -> click.ClickException:
    return click.ClickException(str(exc))


# -- consent ------------------------------------------------------------------------------


@click.group()
def consent() -> None:
    """Grant, withdraw and show consents (GDPR Art. 7); export Kantara receipts."""


@consent.command("grant")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("kind")
@click.option("--method", required=True, help="How it was given (web form, e-mail, phone, ...).")
@click.option("--text", default=None, help="The text shown (default: the policy's text).")
@click.option("--reference", default="", help="Where the evidence is (message id, ...).")
@click.option("--scope", default="", help="What exactly it is for (a recording's session id).")
@click.option("--until", "until_text", default=None, help="It lapses then (ISO 8601).")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@_AT
@_WORKSPACE
@_FORMAT
def consent_grant(
    subject_id: str,
    kind: str,
    method: str,
    text: str | None,
    reference: str,
    scope: str,
    until_text: str | None,
    lang: str,
    at_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Record that SUBJECT gave a consent of KIND; prints its id."""
    from . import consents

    with _workspace(workspace_dir) as ws:
        try:
            record = consents.grant(
                ws,
                subject_id,
                kind,
                method=method,
                text=text,
                reference=reference,
                scope=scope,
                until=_at(ws, until_text),
                at=_at(ws, at_text),
                lang=lang,
                actor="cli",
            )
        except ValueError as exc:
            raise _invalid(exc) from None
        if fmt == "json":
            _json(_consent_json(record))
        else:
            click.echo(f"consent {record.id}: {subject_id} granted {kind}")


@consent.command("withdraw")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("kind")
@click.option("--scope", default=None, help="Only the consent for this scope.")
@_AT
@_WORKSPACE
def consent_withdraw(
    subject_id: str, kind: str, scope: str | None, at_text: str | None, workspace_dir: Path
) -> None:
    """Withdraw SUBJECT's consent of KIND, at once (the record stays)."""
    from . import consents

    with _workspace(workspace_dir) as ws:
        done = consents.withdraw(
            ws, subject_id, kind, scope=scope, at=_at(ws, at_text), actor="cli"
        )
        if not done:
            click.echo(f"{subject_id} has no active {kind} consent; nothing withdrawn")
        for record in done:
            when = record.consent.withdrawn_at
            assert when is not None
            click.echo(f"consent {record.id}: {kind} withdrawn at {when.isoformat()}")


@consent.command("show")
@click.argument("subject_id", metavar="SUBJECT")
@_WORKSPACE
@_FORMAT
def consent_show(subject_id: str, workspace_dir: Path, fmt: str) -> None:
    """Show every consent of SUBJECT, withdrawn ones too."""
    from . import consents

    with _workspace(workspace_dir) as ws:
        found = consents.show(ws, subject_id)
        if fmt == "json":
            _json([_consent_json(r) for r in found])
            return
        for r in found:
            c = r.consent
            state = f"withdrawn {c.withdrawn_at.isoformat()}" if c.withdrawn_at else "active"
            scope = f" [{c.scope}]" if c.scope else ""
            click.echo(
                f"{r.id}\t{c.kind}{scope}\tgranted {c.granted_at.isoformat()} via "
                f"{c.evidence.method}\t{state}"
            )


@consent.command("receipt")
@click.argument("consent_id", type=int)
@click.option("--policy-url", default=None, help="Where the privacy statement is published.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True)
@_WORKSPACE
def consent_receipt(
    consent_id: int, policy_url: str | None, lang: str, workspace_dir: Path
) -> None:
    """Print consent CONSENT_ID as a Kantara Consent Receipt v1.1 (JSON)."""
    from . import consents

    with _workspace(workspace_dir) as ws:
        _json(consents.receipt(ws, consent_id, policy_url=policy_url, lang=lang))


# -- disclosure ---------------------------------------------------------------------------


def _request_json(r: "DisclosureRequest") -> dict[str, Any]:
    return {
        "id": r.id,
        "subject_id": r.subject_id,
        "requester": r.requester,
        "data": list(r.data),
        "reason": r.reason,
        "requested_at": r.requested_at.isoformat(),
        "answer_by": r.answer_by.isoformat(),
        "status": r.status.value,
        "decided_at": _iso(r.decided_at),
    }


@click.group()
def disclosure() -> None:
    """Third parties' requests for someone's data: pending until the person consents (S9)."""


@disclosure.command("request")
@click.argument("subject_id", metavar="SUBJECT")
@click.option("--requester", required=True, help="Who asks.")
@click.option("--data", "data", multiple=True, required=True, help="A category (repeatable).")
@click.option("--reason", required=True, help="Why they ask.")
@_AT
@_WORKSPACE
@_FORMAT
def disclosure_request(
    subject_id: str,
    requester: str,
    data: tuple[str, ...],
    reason: str,
    at_text: str | None,
    workspace_dir: Path,
    fmt: str,
) -> None:
    """Record a third party's request for SUBJECT's data and ask the person."""
    from . import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.request(
            ws, subject_id, requester, data, reason, at=_at(ws, at_text), actor="cli"
        )
        if fmt == "json":
            _json(_request_json(req))
        else:
            click.echo(
                f"{req.id}: {req.status.value}; answer needed by {req.answer_by.isoformat()}"
            )


@disclosure.command("decide")
@click.argument("request_id", metavar="REQUEST")
@click.argument("answer", type=click.Choice(["consent", "refuse"]))
@click.option("--method", default="recorded by staff", show_default=True)
@click.option("--reference", default="", help="Where the answer is (message id, ...).")
@_AT
@_WORKSPACE
def disclosure_decide(
    request_id: str,
    answer: str,
    method: str,
    reference: str,
    at_text: str | None,
    workspace_dir: Path,
) -> None:
    """Record the person's ANSWER (consent or refuse) to a pending REQUEST."""
    from . import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.decide(
            ws,
            request_id,
            answer == "consent",
            method=method,
            reference=reference,
            at=_at(ws, at_text),
            actor="cli",
        )
        click.echo(f"{req.id}: {req.status.value}")


@disclosure.command("carry-out")
@click.argument("request_id", metavar="REQUEST")
@_AT
@_WORKSPACE
def disclosure_carry_out(request_id: str, at_text: str | None, workspace_dir: Path) -> None:
    """Record that REQUEST was carried out by hand; refused without an active consent."""
    from . import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.carry_out(ws, request_id, at=_at(ws, at_text), actor="cli")
        click.echo(f"{req.id}: {req.status.value}")


@disclosure.command("list")
@click.option("--subject", "subject_id", default=None, help="Only this subject's requests.")
@click.option(
    "--status",
    type=click.Choice(["pending", "consented", "refused", "expired", "disclosed"]),
    default=None,
)
@click.option("--now", "now_text", default=None, help="As of this instant (ISO 8601).")
@_WORKSPACE
@_FORMAT
def disclosure_list(
    subject_id: str | None, status: str | None, now_text: str | None, workspace_dir: Path, fmt: str
) -> None:
    """List disclosure requests (overdue pending ones are expired first)."""
    from . import disclosure as service
    from .domain.guards import DisclosureStatus

    with _workspace(workspace_dir) as ws:
        found = service.list_requests(
            ws,
            subject_id,
            DisclosureStatus(status) if status else None,
            now=_at(ws, now_text),
            actor="cli",
        )
        if fmt == "json":
            _json([_request_json(r) for r in found])
            return
        for r in found:
            click.echo(
                f"{r.id}\t{r.subject_id}\t{r.status.value}\t{r.requester}\t"
                f"{','.join(r.data)}\tanswer by {r.answer_by.isoformat()}"
            )


# -- staff and the guard --------------------------------------------------------------------


def _staff_json(m: "StaffMember") -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "employment": m.employment.value,
        "confidentiality_signed_at": _iso(m.confidentiality_signed_at),
        "started_at": m.started_at.isoformat(),
        "ended_at": _iso(m.ended_at),
    }


@click.group()
def staff() -> None:
    """Keep the staff register: employment and confidentiality agreements (S12)."""


@staff.command("add")
@click.argument("staff_id", metavar="STAFF")
@click.option("--name", required=True)
@click.option("--employment", type=click.Choice(["permanent", "temporary"]), required=True)
@click.option(
    "--confidentiality-signed",
    "signed_text",
    default=None,
    help="When the confidentiality agreement was signed (ISO 8601).",
)
@click.option("--started", "started_text", default=None, help="Start of employment.")
@click.option("--ended", "ended_text", default=None, help="End of employment.")
@_WORKSPACE
def staff_add(
    staff_id: str,
    name: str,
    employment: str,
    signed_text: str | None,
    started_text: str | None,
    ended_text: str | None,
    workspace_dir: Path,
) -> None:
    """Add STAFF to the register (or update their entry)."""
    from .guards_service import add_staff

    with _workspace(workspace_dir) as ws:
        try:
            member = add_staff(
                ws,
                staff_id,
                name,
                employment,
                confidentiality_signed_at=_at(ws, signed_text),
                started_at=_at(ws, started_text),
                ended_at=_at(ws, ended_text),
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
    from .guards_service import list_staff

    with _workspace(workspace_dir) as ws:
        found = list_staff(ws)
        if fmt == "json":
            _json([_staff_json(m) for m in found])
            return
        for m in found:
            signed = _iso(m.confidentiality_signed_at) or "not signed"
            click.echo(f"{m.id}\t{m.name}\t{m.employment.value}\tconfidentiality: {signed}")


@click.group()
def guard() -> None:
    """Check staff access to client data (S12)."""


@guard.command("check")
@click.argument("staff_id", metavar="STAFF")
@click.argument("client_id", metavar="CLIENT")
@click.option("--purpose", default="", help="Why access is needed (audited).")
@_AT
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
    """Decide whether STAFF may look into CLIENT's data; exit 1 when refused. Audited."""
    from .guards_service import check_access

    with _workspace(workspace_dir) as ws:
        decision = check_access(
            ws, staff_id, client_id, at=_at(ws, at_text), purpose=purpose, actor="cli"
        )
    if fmt == "json":
        _json({"staff": staff_id, "client": client_id, **_decision(decision)})
    else:
        click.echo(f"{'allowed' if decision else 'refused'}: {decision.reason}", err=not decision)
    if not decision:
        sys.exit(1)


def _decision(decision: Any) -> dict[str, Any]:
    return {"allowed": bool(decision), "reason": decision.reason}


# -- agreements ------------------------------------------------------------------------------


def _agreement_json(a: "Agreement") -> dict[str, Any]:
    return {
        "id": a.id,
        "client": a.subject_id,
        "kind": a.kind,
        "scope": a.scope,
        "agreed_at": a.agreed_at.isoformat(),
        "ends_at": _iso(a.ends_at),
        "delete_by": _iso(a.delete_by),
    }


@click.group()
def agreement() -> None:
    """Agreements with clients: confidentiality (S12), data transfers (S10)."""


@agreement.command("record")
@click.argument("client_id", metavar="CLIENT")
@click.option(
    "--kind",
    required=True,
    help="confidentiality, or the agreement a category requires (client_data_transfer).",
)
@click.option("--scope", default="", help="What it covers.")
@click.option("--agreed-at", "agreed_text", default=None, help="When (default: now).")
@click.option("--ends-at", "ends_text", default=None, help="When it ends, if known.")
@click.option("--delete-by", "delete_text", default=None, help="Delete the data by then.")
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
    from .guards_service import record_agreement

    with _workspace(workspace_dir) as ws:
        recorded = record_agreement(
            ws,
            client_id,
            kind,
            scope=scope,
            agreed_at=_at(ws, agreed_text),
            ends_at=_at(ws, ends_text),
            delete_by=_at(ws, delete_text),
            actor="cli",
        )
        click.echo(f"agreement {recorded.id}: {kind} with {client_id}")


@agreement.command("list")
@click.argument("client_id", metavar="CLIENT", required=False)
@_WORKSPACE
@_FORMAT
def agreement_list(client_id: str | None, workspace_dir: Path, fmt: str) -> None:
    """List the agreements (with CLIENT, or all)."""
    from .guards_service import agreements

    with _workspace(workspace_dir) as ws:
        found = agreements(ws, client_id)
        if fmt == "json":
            _json([_agreement_json(a) for a in found])
            return
        for a in found:
            click.echo(
                f"{a.id}\t{a.subject_id}\t{a.kind}\tagreed {a.agreed_at.isoformat()}"
                + (f"\tends {a.ends_at.isoformat()}" if a.ends_at else "")
                + (f"\tdelete by {a.delete_by.isoformat()}" if a.delete_by else "")
            )


@agreement.command("used")
@click.argument("client_id", metavar="CLIENT")
@_AT
@_WORKSPACE
def agreement_used(client_id: str, at_text: str | None, workspace_dir: Path) -> None:
    """Record that CLIENT's transferred data was used: its deletion clock starts (S10)."""
    from .guards_service import mark_used

    with _workspace(workspace_dir) as ws:
        at = _at(ws, at_text) or ws.clock()
        mark_used(ws, client_id, at=at, actor="cli")
        click.echo(f"{client_id}: used at {at.isoformat()}; the sweep erases the data when due")


@agreement.command("end")
@click.argument("agreement_id", type=int)
@_AT
@_WORKSPACE
def agreement_end(agreement_id: int, at_text: str | None, workspace_dir: Path) -> None:
    """End agreement AGREEMENT_ID (a data-transfer agreement's data becomes due later)."""
    from .guards_service import end_agreement

    with _workspace(workspace_dir) as ws:
        end_agreement(ws, agreement_id, at=_at(ws, at_text), actor="cli")
        click.echo(f"agreement {agreement_id} ended")
