"""``praclox-privacy consent`` and ``disclosure``: consents (Art. 7) and disclosures (S9).

Exit codes as everywhere: 0 success, 1 refused, 2 usage.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import AT_OPTION as _AT_OPTION
from .options import FORMAT_OPTION as _FORMAT
from .options import WORKSPACE_OPTION as _WORKSPACE
from .options import emit_json as _json
from .options import (
    lang_option,
    method_option,
    now_option,
    reason_option,
    reference_option,
    scope_option,
    subject_option,
)
from .options import open_workspace as _workspace
from .options import parse_at as _parse_at

if TYPE_CHECKING:
    from ..domain.records import ConsentRecord

__all__ = ["consent", "disclosure"]


def _invalid(exc: ValueError) -> click.ClickException:
    return click.ClickException(str(exc))


def _consent_json(record: "ConsentRecord") -> dict[str, Any]:
    from ..formats.jsonout import to_json

    return {"id": record.id, **to_json(record.consent)}


# -- consent ------------------------------------------------------------------------------


@click.group(short_help="Grant, withdraw and show consents; export Kantara receipts.")
def consent() -> None:
    """Grant, withdraw and show consents (GDPR Art. 7); export Kantara receipts."""


@consent.command("grant")
@click.argument("subject_id", metavar="SUBJECT")
@click.argument("kind")
@method_option(help="How it was given (web form, e-mail, phone, ...).")
@click.option(
    "--text", metavar="TEXT", default=None, help="The text shown (default: the policy's text)."
)
@reference_option(help="Where the evidence is (message id, ...).")
@scope_option(help="What exactly it is for (a recording's session id).")
@click.option(
    "--until", "until_text", metavar="WHEN", default=None, help="It lapses then (ISO 8601)."
)
@lang_option(help="Language of the policy's text, when --text is not given.")
@_AT_OPTION
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
    from ..services import consents

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
                until=_parse_at(ws, until_text),
                at=_parse_at(ws, at_text),
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
@scope_option(default=None, help="Only the consent for this scope.")
@_AT_OPTION
@_WORKSPACE
def consent_withdraw(
    subject_id: str, kind: str, scope: str | None, at_text: str | None, workspace_dir: Path
) -> None:
    """Withdraw SUBJECT's consent of KIND, at once (the record stays)."""
    from ..services import consents

    with _workspace(workspace_dir) as ws:
        done = consents.withdraw(
            ws, subject_id, kind, scope=scope, at=_parse_at(ws, at_text), actor="cli"
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
    from ..services import consents

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


@consent.command(
    "receipt", short_help="Print consent CONSENT_ID as a Kantara Consent Receipt (JSON)."
)
@click.argument("consent_id", type=int)
@click.option(
    "--policy-url", metavar="URL", default=None, help="Where the privacy statement is published."
)
@lang_option(default="en", help="Language of the receipt's labels.")
@_WORKSPACE
def consent_receipt(
    consent_id: int, policy_url: str | None, lang: str, workspace_dir: Path
) -> None:
    """Print consent CONSENT_ID as a Kantara Consent Receipt v1.1 (JSON)."""
    from ..services import consents

    with _workspace(workspace_dir) as ws:
        _json(consents.receipt(ws, consent_id, policy_url=policy_url, lang=lang))


# -- disclosure ---------------------------------------------------------------------------


@click.group(short_help="Third parties' requests for someone's data, pending consent.")
def disclosure() -> None:
    """Third parties' requests for someone's data: pending until the person consents (S9)."""


@disclosure.command("request", short_help="Record a third party's request for SUBJECT's data.")
@click.argument("subject_id", metavar="SUBJECT")
@click.option("--requester", metavar="TEXT", required=True, help="Who asks.")
@click.option(
    "--data", metavar="CATEGORY", multiple=True, required=True, help="A category (repeatable)."
)
@reason_option(help="Why they ask.")
@_AT_OPTION
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
    from ..services import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.request(
            ws, subject_id, requester, data, reason, at=_parse_at(ws, at_text), actor="cli"
        )
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(req))
        else:
            click.echo(
                f"{req.id}: {req.status.value}; answer needed by {req.answer_by.isoformat()}"
            )


@disclosure.command(
    "decide", short_help="Record the person's ANSWER (consent or refuse) to REQUEST."
)
@click.argument("request_id", metavar="REQUEST")
@click.argument("answer", type=click.Choice(["consent", "refuse"]))
@method_option(default="recorded by staff", help="How the person answered.")
@reference_option(help="Where the answer is (message id, ...).")
@_AT_OPTION
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
    from ..services import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.decide(
            ws,
            request_id,
            answer == "consent",
            method=method,
            reference=reference,
            at=_parse_at(ws, at_text),
            actor="cli",
        )
        click.echo(f"{req.id}: {req.status.value}")


@disclosure.command(
    "carry-out", short_help="Record that REQUEST was carried out; needs an active consent."
)
@click.argument("request_id", metavar="REQUEST")
@_AT_OPTION
@_WORKSPACE
def disclosure_carry_out(request_id: str, at_text: str | None, workspace_dir: Path) -> None:
    """Record that REQUEST was carried out by hand; refused without an active consent."""
    from ..services import disclosure as service

    with _workspace(workspace_dir) as ws:
        req = service.carry_out(ws, request_id, at=_parse_at(ws, at_text), actor="cli")
        click.echo(f"{req.id}: {req.status.value}")


@disclosure.command(
    "list", short_help="List disclosure requests; overdue pending ones expire first."
)
@subject_option(help="Only this subject's requests.")
@click.option(
    "--status",
    type=click.Choice(["pending", "consented", "refused", "expired", "disclosed"]),
    default=None,
)
@now_option(help="List as of this instant (ISO 8601; default: now).")
@_WORKSPACE
@_FORMAT
def disclosure_list(
    subject_id: str | None, status: str | None, now_text: str | None, workspace_dir: Path, fmt: str
) -> None:
    """List disclosure requests (overdue pending ones are expired first)."""
    from ..domain.guards import DisclosureStatus
    from ..services import disclosure as service

    with _workspace(workspace_dir) as ws:
        found = service.list_requests(
            ws,
            subject_id,
            DisclosureStatus(status) if status else None,
            now=_parse_at(ws, now_text),
            actor="cli",
        )
        if fmt == "json":
            from ..formats.jsonout import to_json

            _json(to_json(found))
            return
        for r in found:
            click.echo(
                f"{r.id}\t{r.subject_id}\t{r.status.value}\t{r.requester}\t"
                f"{','.join(r.data)}\tanswer by {r.answer_by.isoformat()}"
            )
