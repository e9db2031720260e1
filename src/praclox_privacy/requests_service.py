"""Data-subject requests carried out across every store of a workspace (GDPR Art. 12-21).

Each function takes an open :class:`~praclox_privacy.workspace.Workspace`, like
:func:`praclox_privacy.sweep.run_sweep`; the CLI's ``request`` commands call exactly these.

The flow: a request is **received** (:func:`receive_request`, or :func:`intake_opendsr` for
an OpenDSR document) and registered with its deadline; the requester's identity is
**verified** (:func:`verify_request`), which also settles the subject it concerns; then the
right is **carried out** (:func:`answer_access`, :func:`erase_subject`,
:func:`rectify_data`, :func:`restrict_processing`, :func:`object_to_processing`), which
completes the request with its result. Nothing is exported, erased or rectified for a
request that is not verified. Every step is audited in the ledger, in the same transaction
as the register change; audit entries name ids, types, categories and counts, never a
value or an identity.

:func:`ensure_usable` is the guard every use of a subject's data must pass: it raises
:class:`~praclox_privacy.domain.requests.ProcessingRestricted` while a restriction or an
objection forbids the use.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .domain.policy import RelationKind, RetentionAction
from .domain.records import Item, ItemKey, Subject
from .domain.requests import (
    AccessReport,
    DataRequest,
    Identity,
    KeptItem,
    ProcessingRestricted,
    RequestRefused,
    RequestType,
    Restriction,
    RestrictionGround,
    RestrictionKind,
    build_access_report,
    cancel,
    check_objection,
    complete,
    extend,
    kept_item,
    new_request,
    refusal,
    require_actionable,
    verify,
)
from .domain.retention import erasure_plan
from .ports import StoreError, SubjectSource

if TYPE_CHECKING:
    from .stores.sql.request_register import RequestRegister
    from .workspace import Workspace

__all__ = [
    "ErasureResult",
    "ProcessingRestricted",
    "RectificationResult",
    "RequestRefused",
    "access_report",
    "answer_access",
    "cancel_request",
    "current_subject",
    "ensure_usable",
    "erase_subject",
    "extend_request",
    "find_subjects",
    "get_request",
    "intake_opendsr",
    "lift_restriction",
    "list_requests",
    "object_to_processing",
    "opendsr_status",
    "receive_request",
    "rectify_data",
    "register",
    "restrict_processing",
    "restrictions_of",
    "verify_request",
]

EMAIL_FIELD = "email"
"""The field that holds an e-mail address in the policy's categories."""


def register(ws: "Workspace") -> "RequestRegister":
    """Return the request register of ``ws`` (in its primary SQL database)."""
    from .stores.sql.request_register import RequestRegister

    return RequestRegister(ws.ledger)


def _now(ws: "Workspace", now: datetime | None) -> datetime:
    now = now or ws.clock()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    return now


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
    now = _now(ws, now)
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
    return register(ws).add(
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
    from .opendsr import REQUEST_TYPES, identities_of, parse_opendsr
    from .stores.sql.request_register import RequestNotFound

    now = _now(ws, now)
    parsed = parse_opendsr(document, source, now)
    kind = REQUEST_TYPES[parsed.subject_request_type]
    try:
        existing = register(ws).get(parsed.subject_request_id)
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
    from .opendsr import status_object

    if isinstance(request, str):
        request = get_request(ws, request)
    return status_object(request, ws.policy.controller.name)


def get_request(ws: "Workspace", request_id: str) -> DataRequest:
    """Return the request ``request_id``.

    :raises RequestRefused: (``RequestNotFound``) when it is not registered.
    """
    return register(ws).get(request_id)


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
    return register(ws).find(
        subject_id=subject_id,
        open_only=open_only,
        overdue_at=_now(ws, now) if overdue else None,
    )


def find_subjects(ws: "Workspace", identities: Iterable[Identity]) -> list[str]:
    """Return the registered subjects the identities point to, sorted.

    A ``subject_id`` identity names its subject; an ``email`` identity finds the subjects
    that hold that address (ignoring case) in a category with an ``email`` field, in every
    SQL store of the workspace (one statement per store). Stores that hold subjects of
    their own (:class:`~praclox_privacy.ports.SubjectSource`: mapped databases, a CRM) are
    asked for every identity, of any kind they know (``email``, ``party_code``, ...); the
    subjects they find are registered in the ledger (ids, relation types and events only).
    Files, memory and other third-party stores are not searched: a subject known only
    there is named by its id.
    """
    from .stores.sql.request_register import RequestRegister
    from .stores.sql.store import SqlStore

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
            if isinstance(store, SqlStore):
                for email in emails:
                    found.update(
                        RequestRegister.subjects_with_value(
                            store.database, categories, EMAIL_FIELD, email
                        )
                    )
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
    now = _now(ws, now)
    reg = register(ws)
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
    now = _now(ws, now)
    reg = register(ws)
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
    now = _now(ws, now)
    reg = register(ws)
    cancelled = cancel(reg.get(request_id), reason, now)
    return reg.save(cancelled, "request.cancelled", {"type": cancelled.type.value}, actor)


def _actionable(
    ws: "Workspace",
    subject_id: str,
    types: Sequence[RequestType],
    request_id: str | None,
) -> DataRequest:
    """Return the verified open request of ``types`` for ``subject_id`` to carry out.

    The caller has checked that the subject is registered.
    """
    reg = register(ws)
    if request_id is not None:
        request = reg.get(request_id)
        require_actionable(request, types, subject_id)
        return request
    wanted = " or ".join(t.value for t in types)
    candidates = reg.find(subject_id=subject_id, open_only=True, types=types)
    verified = [r for r in candidates if r.is_verified or not r.type.needs_verification]
    if len(verified) == 1:
        return verified[0]
    if verified:
        raise RequestRefused(
            f"subject {subject_id!r} has several open {wanted} requests "
            f"({', '.join(r.id for r in verified)}): name one (--request)"
        )
    raise RequestRefused(
        f"no verified {wanted} request for subject {subject_id!r}: register it "
        "(`praclox-privacy request new`), verify the requester's identity "
        "(`praclox-privacy request verify`), then try again; nothing was exported, "
        "erased or changed"
    )


# -- access and portability (Art. 15 and 20) -------------------------------------------------


def access_report(
    ws: "Workspace",
    subject_id: str,
    *,
    now: datetime | None = None,
    request: DataRequest | None = None,
) -> AccessReport:
    """Build the access report of ``subject_id`` without completing a request.

    For the controller's own checks; a data subject's copy goes through
    :func:`answer_access`, which needs a verified request.
    """
    now = _now(ws, now)
    reg = register(ws)
    return build_access_report(
        current_subject(ws, subject_id),
        ws.items_of(subject_id),
        ws.ledger.consents_of(subject_id),
        reg.find(subject_id=subject_id),
        reg.restrictions_of(subject_id),
        ws.policy,
        now,
        request,
    )


def answer_access(
    ws: "Workspace",
    subject_id: str,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> AccessReport:
    """Answer a verified access or portability request: everything held, in every store.

    Reads the subject's items with one query per store, completes the request (its result
    records how many items each store held) and returns the report, which the formats in
    :mod:`praclox_privacy.access_report` render.

    :param request_id: default: the subject's only verified open access or portability
        request.
    :raises RequestRefused: when there is no such request (nothing is exported).
    """
    now = _now(ws, now)
    subject = current_subject(ws, subject_id)  # an unknown subject is an error naming it
    request = _actionable(ws, subject_id, (RequestType.ACCESS, RequestType.PORTABILITY), request_id)
    reg = register(ws)
    items = ws.items_of(subject_id)
    counts = {name: len(held) for name, held in items.items() if held}
    total = sum(counts.values())
    done = complete(request, {"results_count": total, "stores": counts}, now)
    reg.save(
        done,
        "request.completed",
        {"type": done.type.value, "items": total, "stores": counts},
        actor,
    )
    return build_access_report(
        subject,
        items,
        ws.ledger.consents_of(subject_id),
        reg.find(subject_id=subject_id),
        reg.restrictions_of(subject_id),
        ws.policy,
        now,
        done,
    )


# -- erasure (Art. 17) -------------------------------------------------------------------------


@attrs.frozen
class ErasureResult:
    """What an erasure request did: what went, what stayed and why (WordPress's shape).

    :ivar erased: per store, the keys of the items erased.
    :ivar kept: the items a legal hold keeps (Art. 17(3)(b)), each with its law and date.
    :ivar recipients: recipients of erased data to notify (Art. 19); none by default. The
        ``items_erased`` plugin hook is called for every store that erased something.
    :ivar members_kept: for an organisation, its persons: separate subjects, not erased
        (S3); each asks for their own erasure.
    :ivar failures: stores that could not be reached or failed: ``(store, error)``; the
        request stays open and running the erasure again finishes it.
    """

    request: DataRequest
    subject_id: str
    at: datetime
    erased: Mapping[str, tuple[ItemKey, ...]]
    kept: tuple[KeptItem, ...]
    recipients: tuple[str, ...] = ()
    members_kept: tuple[str, ...] = ()
    failures: tuple[tuple[str, str], ...] = ()
    rows_kept: tuple[tuple[str, str], ...] = ()
    """``(store, what)`` for rows of a mapped database whose data was cleared but which
    stayed, because other rows (another subject's, or legally held ones) reference them."""
    anonymised_in: tuple[str, ...] = ()
    """Stores whose erasure anonymises rather than deletes (Tryton's ``party.erase``):
    the record stays, without the erased values."""

    @property
    def done(self) -> bool:
        """Whether every store completed (the request is then completed)."""
        return not self.failures

    @property
    def total(self) -> int:
        """How many items were erased in all."""
        return sum(len(keys) for keys in self.erased.values())

    def as_json(self) -> dict[str, Any]:
        """Return the result as JSON-serialisable data (no data values)."""
        return {
            "request": self.request.id,
            "status": self.request.status.value,
            "subject_id": self.subject_id,
            "at": self.at.isoformat(),
            "done": self.done,
            "erased": {
                store: [{"category": k.category, "field": k.field} for k in keys]
                for store, keys in self.erased.items()
            },
            "erased_count": self.total,
            "kept": [
                {
                    "store": k.store,
                    "category": k.category,
                    "field": k.field,
                    "rule": k.rule,
                    "law": k.law,
                    "until": k.until.isoformat() if k.until else None,
                }
                for k in self.kept
            ],
            "recipients_notified": list(self.recipients),
            "contact_persons_kept": list(self.members_kept),
            "ledger_kept": True,
            "failures": [{"store": s, "error": e} for s, e in self.failures],
            "rows_kept": [{"store": s, "row": r} for s, r in self.rows_kept],
            "anonymised_in": list(self.anonymised_in),
        }


def erase_subject(
    ws: "Workspace",
    subject_id: str,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> ErasureResult:
    """Carry out a verified erasure request in every store, except what a legal hold keeps.

    Per store: the subject's items are read (one query), split by
    :func:`~praclox_privacy.domain.retention.erasure_plan`, and the erasable ones erased
    through :meth:`Workspace.erase <praclox_privacy.workspace.Workspace.erase>` (audited,
    and the ``items_erased`` hook is called: Art. 19). Only this subject's items are
    touched: an organisation's contact persons stay (S3), and the subject's ledger entry
    (id, relation types, events), consent records, requests and the audit trail stay as
    the proof of what was done. A store that fails is reported and the request stays
    open; running the erasure again is safe and finishes it.

    :raises RequestRefused: when there is no verified erasure request (nothing is erased).
    """
    now = _now(ws, now)
    subject = current_subject(ws, subject_id)
    request = _actionable(ws, subject_id, (RequestType.ERASURE,), request_id)
    reg = register(ws)
    consents = ws.ledger.consents_of(subject_id)
    erased: dict[str, tuple[ItemKey, ...]] = {}
    kept: list[KeptItem] = []
    failures: list[tuple[str, str]] = []
    rows_kept: list[tuple[str, str]] = []
    anonymised: list[str] = []
    categories: set[str] = set()
    reason = f"erasure request {request.id} (GDPR Art. 17)"
    for name in ws.store_names:
        try:
            items = ws.store(name).items_of(subject_id)
            erasable, held = erasure_plan(items, subject, consents, ws.policy, now)
            kept.extend(kept_item(name, decision) for decision in held)
            if erasable:
                keys = tuple(i.key for i in erasable)
                ws.erase(keys, store=name, action=RetentionAction.ERASE, actor=actor, reason=reason)
                erased[name] = keys
                rows_kept.extend(
                    (name, str(row)) for row in getattr(ws.store(name), "kept_rows", ())
                )
                categories.update(k.category for k in keys)
                if ws.store(name).capabilities().erasure_anonymises:
                    anonymised.append(name)
        except StoreError as error:
            failures.append((name, str(error)))
    recipients = tuple(r.id for r in ws.policy.recipients if categories & set(r.categories))
    members: tuple[str, ...] = ()
    if any(
        ws.policy.relation_type(rt).kind is RelationKind.ORGANISATION
        for rt in subject.relation_types
    ):
        members = tuple(reg.members_of(subject_id))
    result = ErasureResult(
        request,
        subject_id,
        now,
        erased,
        tuple(kept),
        recipients,
        members,
        tuple(failures),
        tuple(rows_kept),
        tuple(anonymised),
    )
    summary = {
        "type": request.type.value,
        "erased": {store: len(keys) for store, keys in erased.items()},
        "kept": len(kept),
        "recipients": list(recipients),
        "failed_stores": [store for store, _ in failures],
    }
    if failures:
        reg.save(request, "request.erasure_incomplete", summary, actor)
        return result
    record = result.as_json()
    record["results_count"] = result.total
    done = complete(request, {k: v for k, v in record.items() if k != "status"}, now)
    reg.save(done, "request.completed", summary, actor)
    return attrs.evolve(result, request=done)


# -- rectification (Art. 16) -----------------------------------------------------------------


@attrs.frozen
class RectificationResult:
    """What a rectification request changed.

    :ivar rectified: the stores where the item's value was replaced.
    :ivar added_to: the store the item was added to, when no store held it (completing
        incomplete data, Art. 16).
    """

    request: DataRequest
    key: ItemKey
    rectified: tuple[str, ...]
    added_to: str | None = None


def rectify_data(
    ws: "Workspace",
    subject_id: str,
    category: str,
    field: str,
    value: str,
    *,
    store: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> RectificationResult:
    """Carry out a verified rectification request: replace the item in every store.

    Every store holding the item (or only ``store``) gets the new value; when none holds
    it, it is added to ``store`` (default: the primary), so incomplete data is completed.

    :raises RequestRefused: when there is no verified rectification request.
    :raises WriteRefused: when an added item is not allowed by the policy.
    """
    now = _now(ws, now)
    current_subject(ws, subject_id)
    request = _actionable(ws, subject_id, (RequestType.RECTIFICATION,), request_id)
    key = ItemKey(subject_id, category, field)
    names = [store] if store is not None else ws.store_names
    rectified: list[str] = []
    for name in names:
        if any(i.key == key for i in ws.store(name).items_of(subject_id)):
            ws.rectify(key, value, store=name, actor=actor)
            rectified.append(name)
    added_to = None
    if not rectified:
        added_to = store or ws.config.primary
        ws.write([Item(subject_id, category, field, value, now)], store=added_to, actor=actor)
    record = {
        "category": category,
        "field": field,
        "rectified": rectified,
        "added_to": added_to,
        "results_count": max(len(rectified), 1),
    }
    done = complete(request, record, now)
    register(ws).save(
        done,
        "request.completed",
        {"type": done.type.value, **{k: v for k, v in record.items() if k != "results_count"}},
        actor,
    )
    return RectificationResult(done, key, tuple(rectified), added_to)


# -- restriction (Art. 18) and objection (Art. 21) ------------------------------------------


def _limiting_request(
    ws: "Workspace",
    subject_id: str,
    kind: RequestType,
    request_id: str | None,
    now: datetime,
    details: Mapping[str, Any],
    actor: str,
) -> DataRequest:
    """Return the request a restriction or objection carries out (registered if none)."""
    if request_id is not None:
        return _actionable(ws, subject_id, (kind,), request_id)
    return receive_request(
        ws,
        kind,
        [Identity("subject_id", subject_id)],
        now=now,
        details={"source": "api", **details},
        subject_id=subject_id,
        actor=actor,
    )


def restrict_processing(
    ws: "Workspace",
    subject_id: str,
    ground: RestrictionGround | str,
    *,
    category: str | None = None,
    note: str = "",
    request_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> Restriction:
    """Restrict the processing of ``subject_id``'s data (all, or one ``category``).

    The data stays stored; every other use is refused by :func:`ensure_usable` until the
    restriction is lifted (:func:`lift_restriction`). A restriction takes effect at once:
    it needs no verification (it only limits processing). The request (registered now
    unless ``request_id`` names one) is completed.

    :param ground: the Art. 18(1) ground (``accuracy_contested``, ``unlawful``,
        ``legal_claims``, ``objection_pending``).
    :raises RequestRefused: for an unknown ground, category or subject.
    """
    now = _now(ws, now)
    try:
        ground = RestrictionGround(ground)
    except ValueError:
        allowed = ", ".join(g.value for g in RestrictionGround)
        raise RequestRefused(f"{ground!r} is not a ground of Art. 18(1) ({allowed})") from None
    current_subject(ws, subject_id)
    if category is not None:
        try:
            ws.policy.category(category)
        except KeyError as exc:
            raise RequestRefused(str(exc.args[0])) from None
    reg = register(ws)
    with ws.ledger.database.begin():
        request = _limiting_request(
            ws,
            subject_id,
            RequestType.RESTRICTION,
            request_id,
            now,
            {"ground": ground.value, "category": category, "note": note},
            actor,
        )
        restriction = reg.add_restriction(
            Restriction(
                subject_id,
                RestrictionKind.RESTRICTION,
                now,
                category=category,
                reason=ground.value,
                request_id=request.id,
            ),
            actor,
        )
        done = complete(request, {"restriction": restriction.id, "results_count": 1}, now)
        reg.save(
            done,
            "request.completed",
            {"type": done.type.value, "restriction": restriction.id},
            actor,
        )
    return restriction


def object_to_processing(
    ws: "Workspace",
    subject_id: str,
    purposes: Sequence[str] = (),
    *,
    request_id: str | None = None,
    now: datetime | None = None,
    actor: str = "api",
) -> tuple[Restriction, ...]:
    """Record an objection: the purposes end for ``subject_id`` at once; others stay.

    Without ``purposes``, every direct-marketing purpose of the subject's relation types
    ends (the newsletter, in Praclox's policy). Purposes already objected to keep their
    objection. See :func:`~praclox_privacy.domain.requests.check_objection` for which
    purposes can be objected to.

    :returns: the objections in force for the purposes (new or earlier).
    :raises RequestRefused: listing every problem with the purposes named.
    """
    now = _now(ws, now)
    subject = current_subject(ws, subject_id)
    chosen, problems = check_objection(ws.policy, subject.relation_types, purposes)
    if problems:
        raise RequestRefused("objection refused: " + "; ".join(problems))
    reg = register(ws)
    existing = {
        r.purpose: r
        for r in reg.restrictions_of(subject_id)
        if r.kind is RestrictionKind.OBJECTION and r.active_at(now)
    }
    result: list[Restriction] = []
    with ws.ledger.database.begin():
        request = _limiting_request(
            ws,
            subject_id,
            RequestType.OBJECTION,
            request_id,
            now,
            {"purposes": list(chosen)},
            actor,
        )
        for name in chosen:
            if name in existing:
                result.append(existing[name])
                continue
            purpose = ws.policy.purpose(name)
            result.append(
                reg.add_restriction(
                    Restriction(
                        subject_id,
                        RestrictionKind.OBJECTION,
                        now,
                        purpose=name,
                        reason="direct_marketing"
                        if purpose.direct_marketing
                        else purpose.legal_basis.value,
                        request_id=request.id,
                    ),
                    actor,
                )
            )
        done = complete(
            request,
            {"purposes": list(chosen), "objections": [r.id for r in result]},
            now,
        )
        reg.save(
            done, "request.completed", {"type": done.type.value, "purposes": list(chosen)}, actor
        )
    return tuple(result)


def lift_restriction(
    ws: "Workspace",
    restriction_id: int,
    *,
    now: datetime | None = None,
    actor: str = "api",
) -> Restriction:
    """Lift a restriction (or withdraw an objection) at ``now``; audit it.

    Art. 18(3): tell the person before a restriction is lifted.

    :raises RequestRefused: when there is no such restriction or it was lifted.
    """
    return register(ws).lift(restriction_id, _now(ws, now), actor)


def restrictions_of(ws: "Workspace", subject_id: str) -> list[Restriction]:
    """Return every restriction and objection of ``subject_id`` (lifted ones too)."""
    return register(ws).restrictions_of(subject_id)


def ensure_usable(
    ws: "Workspace",
    subject_id: str,
    purpose: str,
    category: str | None = None,
    *,
    now: datetime | None = None,
    actor: str = "api",
) -> None:
    """Refuse a use of ``subject_id``'s data that a restriction or objection forbids.

    Call it before every use other than storage: sending the newsletter, a congratulation,
    an invoice, a disclosure. A refusal is audited (``processing.refused``).

    :param purpose: the purpose of the use (a purpose the policy declares).
    :param category: the category used; ``None``: any category of the purpose.
    :raises ProcessingRestricted: naming the restriction or objection and its ground.
    :raises RequestRefused: when the policy declares no such purpose.
    """
    now = _now(ws, now)
    try:
        ws.policy.purpose(purpose)
    except KeyError as exc:
        raise RequestRefused(str(exc.args[0])) from None
    found = refusal(restrictions_of(ws, subject_id), ws.policy, purpose, category, now)
    if found is None:
        return
    ws.ledger.audit(
        "processing.refused",
        {
            "purpose": purpose,
            "category": category,
            "restriction": found.id,
            "kind": found.kind.value,
        },
        subject_id,
        actor,
    )
    what = f"category {category!r}" if category else "its data"
    raise ProcessingRestricted(
        f"subject {subject_id!r}: using {what} for purpose {purpose!r} is refused: "
        f"{found.describe()}",
        found,
    )
