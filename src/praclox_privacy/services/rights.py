"""Carrying out the rights of data subjects across every store (GDPR Art. 15 to 21).

Each function takes an open :class:`~praclox_privacy.services.workspace.Workspace` and acts
on a verified request of the register (:mod:`praclox_privacy.services.requests`):
:func:`answer_access` (Art. 15 and 20), :func:`erase_subject` (Art. 17),
:func:`rectify_data` (Art. 16), :func:`restrict_processing` (Art. 18) and
:func:`object_to_processing` (Art. 21). Nothing is exported, erased or rectified for a
request that is not verified; every step is audited in the same transaction as the
register change.

:func:`ensure_usable` is the guard every use of a subject's data must pass: it raises
:class:`~praclox_privacy.domain.restrictions.ProcessingRestricted` while a restriction or
an objection forbids the use.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..domain.answers import (
    AccessReport,
    ErasureResult,
    KeptItem,
    RectificationResult,
    build_access_report,
    kept_item,
)
from ..domain.policy import RelationKind, RetentionAction
from ..domain.records import Item, ItemKey
from ..domain.requests import (
    DataRequest,
    Identity,
    RequestRefused,
    RequestType,
    complete,
    require_actionable,
)
from ..domain.restrictions import (
    ProcessingRestricted,
    Restriction,
    RestrictionGround,
    RestrictionKind,
    check_objection,
    refusal,
)
from ..domain.retention import erasure_plan
from ..formats.jsonout import to_json
from ..ports import ReportsKeptRows, StoreError
from .requests import current_subject, receive_request

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "access_report",
    "answer_access",
    "ensure_usable",
    "erase_subject",
    "lift_restriction",
    "object_to_processing",
    "rectify_data",
    "restrict_processing",
    "restrictions_of",
]


def _actionable(
    ws: "Workspace",
    subject_id: str,
    types: Sequence[RequestType],
    request_id: str | None,
) -> DataRequest:
    """Return the verified open request of ``types`` for ``subject_id`` to carry out.

    The caller has checked that the subject is registered.
    """
    reg = ws.ledger.requests
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
    now = ws.now(now)
    reg = ws.ledger.requests
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
    :mod:`praclox_privacy.formats.access_report` render.

    :param request_id: default: the subject's only verified open access or portability
        request.
    :raises RequestRefused: when there is no such request (nothing is exported).
    """
    now = ws.now(now)
    subject = current_subject(ws, subject_id)  # an unknown subject is an error naming it
    request = _actionable(ws, subject_id, (RequestType.ACCESS, RequestType.PORTABILITY), request_id)
    reg = ws.ledger.requests
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
    :func:`~praclox_privacy.domain.erasure_plan`, and the erasable ones erased
    through :meth:`Workspace.erase <praclox_privacy.services.workspace.Workspace.erase>` (audited,
    and the ``items_erased`` hook is called: Art. 19). Only this subject's items are
    touched: an organisation's contact persons stay (S3), and the subject's ledger entry
    (id, relation types, events), consent records, requests and the audit trail stay as
    the proof of what was done. A store that fails is reported and the request stays
    open; running the erasure again is safe and finishes it.

    :raises RequestRefused: when there is no verified erasure request (nothing is erased).
    """
    now = ws.now(now)
    subject = current_subject(ws, subject_id)
    request = _actionable(ws, subject_id, (RequestType.ERASURE,), request_id)
    reg = ws.ledger.requests
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
                store = ws.store(name)
                if isinstance(store, ReportsKeptRows):
                    rows_kept.extend((name, str(row)) for row in store.kept_rows)
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
        members = tuple(ws.ledger.members_of(subject_id))
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
    record = to_json(result)
    record["results_count"] = result.total
    done = complete(request, {k: v for k, v in record.items() if k != "status"}, now)
    reg.save(done, "request.completed", summary, actor)
    return attrs.evolve(result, request=done)


# -- rectification (Art. 16) -----------------------------------------------------------------


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
    now = ws.now(now)
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
    ws.ledger.requests.save(
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
    now = ws.now(now)
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
    reg = ws.ledger.requests
    with ws.ledger.transaction():
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
    objection. See :func:`~praclox_privacy.domain.restrictions.check_objection` for which
    purposes can be objected to.

    :returns: the objections in force for the purposes (new or earlier).
    :raises RequestRefused: listing every problem with the purposes named.
    """
    now = ws.now(now)
    subject = current_subject(ws, subject_id)
    chosen, problems = check_objection(ws.policy, subject.relation_types, purposes)
    if problems:
        raise RequestRefused("objection refused: " + "; ".join(problems))
    reg = ws.ledger.requests
    existing = {
        r.purpose: r
        for r in reg.restrictions_of(subject_id)
        if r.kind is RestrictionKind.OBJECTION and r.active_at(now)
    }
    result: list[Restriction] = []
    with ws.ledger.transaction():
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
    return ws.ledger.requests.lift(restriction_id, ws.now(now), actor)


def restrictions_of(ws: "Workspace", subject_id: str) -> list[Restriction]:
    """Return every restriction and objection of ``subject_id`` (lifted ones too)."""
    return ws.ledger.requests.restrictions_of(subject_id)


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
    now = ws.now(now)
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
