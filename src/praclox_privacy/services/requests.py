"""The request register's flow: receive, verify, extend, cancel and list (GDPR Art. 12).

Each function takes an open :class:`~praclox_privacy.services.workspace.Workspace`, like
:func:`praclox_privacy.services.sweep.run_sweep`; the CLI's ``request`` commands call exactly these.

The flow: a request is **received** (:func:`receive_request`, or :func:`intake_opendsr` for
an OpenDSR document) and registered with its deadline; the requester's identity is
**verified** (:func:`verify_request`), which also settles the subject it concerns; then the
right is **carried out** by :mod:`praclox_privacy.services.rights`, which completes the
request with its result. Every step is audited in the ledger, in the same transaction as
the register change; audit entries name ids, types, categories and counts, never a value
or an identity.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..domain.records import Subject
from ..domain.requests import (
    DataRequest,
    Identity,
    RequestNotFound,
    RequestRefused,
    RequestType,
    cancel,
    extend,
    new_request,
    verify,
)
from ..ports import FindsByValue, SubjectSource

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "cancel_request",
    "current_subject",
    "extend_request",
    "find_subjects",
    "get_request",
    "intake_opendsr",
    "list_requests",
    "opendsr_status",
    "receive_request",
    "verify_request",
]

EMAIL_FIELD = "email"
"""The field that holds an e-mail address in the policy's categories."""


# -- the register: receive, verify, extend, cancel, list -------------------------------------


def receive_request(
    ws: "Workspace",
    type: RequestType | str,
    identities: Iterable[Identity],
    *,
    now: datetime | None = None,
    received_at: datetime | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    subject_id: str | None = None,
    actor: str = "api",
) -> DataRequest:
    """Register a request; it is due one month after ``received_at`` (default: now).

    :param identities: what the requester gave (e-mail address, subject id, ...).
    :param request_id: default: a new UUID v4 (the OpenDSR form).
    :param subject_id: the subject, when already known (it is settled on verification).
    :raises RequestRefused: without identities, or when the id is taken.
    """
    now = ws.now(now)
    received = received_at or now
    request = new_request(
        request_id or str(uuid.uuid4()),
        type,
        identities,
        received,
        response_time=ws.policy.statement.response_time,
        subject_id=subject_id,
        details=details,
    )
    source = str((details or {}).get("source", "api"))
    return ws.ledger.requests.add(
        request,
        {
            "request": request.id,
            "type": request.type.value,
            "identity_kinds": sorted({i.kind for i in request.identities}),
            "received_at": request.received_at.isoformat(),
            "due_at": request.due_at.isoformat(),
            "source": source,
        },
        actor,
    )


def intake_opendsr(
    ws: "Workspace",
    document: str | bytes | Mapping[str, Any],
    *,
    source: str = "<request>",
    now: datetime | None = None,
    actor: str = "api",
) -> DataRequest:
    """Register an OpenDSR request (access, portability or erasure).

    The deadline runs from its ``submitted_time``. Submitting the same request again
    (same ``subject_request_id`` and type) returns the registered one unchanged.

    :raises OpenDsrError: listing every problem of a malformed request.
    :raises RequestRefused: when its id names a different registered request.
    """
    from ..formats.opendsr import REQUEST_TYPES, identities_of, parse_opendsr

    now = ws.now(now)
    parsed = parse_opendsr(document, source, now)
    kind = REQUEST_TYPES[parsed.subject_request_type]
    try:
        existing = ws.ledger.requests.get(parsed.subject_request_id)
    except RequestNotFound:
        pass
    else:
        if existing.type is kind and existing.details.get("source") == "opendsr":
            return existing
        raise RequestRefused(
            f"a different request with id {parsed.subject_request_id!r} is already registered"
        )
    details: dict[str, Any] = {
        "source": "opendsr",
        "regulation": parsed.regulation,
        "api_version": parsed.api_version,
        "property_id": parsed.property_id,
        "status_callback_urls": list(parsed.status_callback_urls),
    }
    return receive_request(
        ws,
        kind,
        identities_of(parsed),
        now=now,
        received_at=parsed.submitted_at,
        request_id=parsed.subject_request_id,
        details=details,
        actor=actor,
    )


def opendsr_status(ws: "Workspace", request: DataRequest | str) -> dict[str, Any]:
    """Return the OpenDSR status object of ``request`` (or of the request with that id)."""
    from ..formats.opendsr import status_object

    if isinstance(request, str):
        request = get_request(ws, request)
    return status_object(request, ws.policy.controller.name)


def get_request(ws: "Workspace", request_id: str) -> DataRequest:
    """Return the request ``request_id``.

    :raises RequestRefused: (``RequestNotFound``) when it is not registered.
    """
    return ws.ledger.requests.get(request_id)


def list_requests(
    ws: "Workspace",
    *,
    overdue: bool = False,
    open_only: bool = False,
    subject_id: str | None = None,
    now: datetime | None = None,
) -> list[DataRequest]:
    """Return the registered requests, oldest first.

    :param overdue: only open requests whose deadline (extended, if so) passed at ``now``.
    :param open_only: only pending and in-progress requests.
    """
    return ws.ledger.requests.find(
        subject_id=subject_id,
        open_only=open_only,
        overdue_at=ws.now(now) if overdue else None,
    )


def find_subjects(ws: "Workspace", identities: Iterable[Identity]) -> list[str]:
    """Return the registered subjects the identities point to, sorted.

    A ``subject_id`` identity names its subject; an ``email`` identity finds the subjects
    that hold that address (ignoring case) in a category with an ``email`` field, in every
    store that can search by value (:class:`~praclox_privacy.ports.FindsByValue`: the SQL
    stores, one statement each). Stores that hold subjects of
    their own (:class:`~praclox_privacy.ports.SubjectSource`: mapped databases, a CRM) are
    asked for every identity, of any kind they know (``email``, ``party_code``, ...); the
    subjects they find are registered in the ledger (ids, relation types and events only).
    Files, memory and other third-party stores are not searched: a subject known only
    there is named by its id.
    """
    found: set[str] = set()
    emails = [i.value for i in identities if i.usable and i.kind == "email"]
    for identity in identities:
        if (
            identity.usable
            and identity.kind == "subject_id"
            and ws.ledger.has_subject(identity.value)
        ):
            found.add(identity.value)
    if emails:
        categories = [c.id for c in ws.policy.categories if EMAIL_FIELD in c.fields]
        for name in ws.store_names:
            store = ws.store(name)
            if isinstance(store, FindsByValue):
                for email in emails:
                    found.update(store.subjects_with_value(categories, EMAIL_FIELD, email))
    for name in ws.subject_sources():
        source = ws.store(name)
        assert isinstance(source, SubjectSource)
        ids: set[str] = set()
        for identity in identities:
            if not identity.usable:
                continue
            if identity.kind == "subject_id":
                if source.subject(identity.value) is not None:
                    ids.add(identity.value)
            else:
                ids.update(source.find_subjects(identity.kind, identity.value))
        if ids:
            ws.sync_subjects(name, ids, actor="request")
            found.update(ids)
    return sorted(s for s in found if ws.ledger.has_subject(s))


def current_subject(ws: "Workspace", subject_id: str) -> Subject:
    """Return ``subject_id`` from the ledger, refreshed first from the stores that hold it.

    A subject that lives in a :class:`~praclox_privacy.ports.SubjectSource` store (a
    mapped table, a CRM) may have changed there since it was registered: its relation
    types and events are synced before a request is answered, so retention and legal
    holds are judged on what the store says now.

    :raises LedgerError: when no store knows the subject.
    """
    for name in ws.subject_sources():
        source = ws.store(name)
        assert isinstance(source, SubjectSource)
        if source.subject(subject_id) is not None:
            ws.sync_subjects(name, [subject_id], actor="request")
    return ws.ledger.subject(subject_id)


def verify_request(
    ws: "Workspace",
    request_id: str,
    verified_by: str,
    *,
    subject_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> DataRequest:
    """Mark the requester's identity verified by ``verified_by`` and settle the subject.

    Without ``subject_id`` the request's identities must point to exactly one subject
    (:func:`find_subjects`); with it, that subject must be registered.

    :raises RequestRefused: when the request is closed or verified, or the subject is
        unknown or ambiguous.
    """
    now = ws.now(now)
    reg = ws.ledger.requests
    request = reg.get(request_id)
    candidates = find_subjects(ws, request.identities)
    if subject_id is None:
        if len(candidates) == 1:
            subject_id = candidates[0]
        elif not candidates:
            raise RequestRefused(
                f"the identities of request {request_id} match no registered subject: name "
                "the subject (--subject), or cancel the request and tell the person that no "
                "data about them is held"
            )
        else:
            raise RequestRefused(
                f"the identities of request {request_id} match several subjects "
                f"({', '.join(candidates)}): name the one verified (--subject)"
            )
    elif not ws.ledger.has_subject(subject_id):
        raise RequestRefused(f"unknown subject {subject_id!r}")
    verified = verify(request, verified_by, now, subject_id)
    return reg.save(
        verified,
        "request.verified",
        {
            "type": verified.type.value,
            "verified_by": verified.verified_by,
            "matched_identities": subject_id in candidates,
        },
        actor,
    )


def extend_request(
    ws: "Workspace",
    request_id: str,
    months: int,
    reason: str,
    *,
    now: datetime | None = None,
    actor: str = "api",
) -> DataRequest:
    """Extend the deadline of ``request_id`` by ``months`` (1 or 2), with a reason.

    :raises RequestRefused: see :func:`praclox_privacy.domain.requests.extend`.
    """
    now = ws.now(now)
    reg = ws.ledger.requests
    request = reg.get(request_id)
    # Months are counted on the workspace's calendar, as the first month was.
    local = attrs.evolve(request, due_at=request.due_at.astimezone(ws.timezone))
    extended = extend(local, months, reason, now)
    assert extended.extended_until is not None
    return reg.save(
        extended,
        "request.extended",
        {"months": months, "until": extended.extended_until.isoformat()},
        actor,
    )


def cancel_request(
    ws: "Workspace",
    request_id: str,
    reason: str,
    *,
    now: datetime | None = None,
    actor: str = "api",
) -> DataRequest:
    """Cancel an open request (withdrawn by the person, unfounded, or no data held).

    :raises RequestRefused: when it is closed or ``reason`` is blank.
    """
    now = ws.now(now)
    reg = ws.ledger.requests
    cancelled = cancel(reg.get(request_id), reason, now)
    return reg.save(cancelled, "request.cancelled", {"type": cancelled.type.value}, actor)
