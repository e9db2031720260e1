"""The guards: staff access to client data (S12), client system data (S10), recordings (S13).

* The **staff register** records each staff member's employment (``permanent`` or
  ``temporary``) and when they signed the confidentiality agreement; **client
  agreements** record a client's confidentiality agreement (kind ``confidentiality``)
  and data-transfer agreements (kind ``client_data_transfer``: scope, agreed at, delete
  by).
* :func:`check_access` decides whether a staff member may look into a client's data and
  audits every decision, allowed or refused; :func:`guard` is the same as a context
  manager (and decorator) that raises :class:`AccessRefused`::

      with guard(ws, "anna", "client-7"):
          show_client_data()

      @guarded(ws)                       # reads the staff_id and client_id arguments
      def open_client(staff_id: str, client_id: str) -> None: ...

* :func:`check_write` is called by the workspace for every write: an item of a category
  with ``requires_agreement`` is refused unless that client had such an agreement in
  force when the data was transferred (the item's ``collected_at``); an item of a
  category with ``requires_consent`` (a recording) is refused unless that very person
  consented beforehand, for that session: the consent's ``scope`` must equal the item's
  ``field`` (the session or call id), and the item's ``collected_at`` is the instant the
  recording started.
* :func:`mark_used` records the client's ``used`` event, which starts the deletion clock
  of its client system data (the sweep erases it when due).
"""

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from ..domain.errors import OperationRefused
from ..domain.guards import (
    CONFIDENTIALITY,
    Agreement,
    Decision,
    Employment,
    StaffMember,
    may_store_with_agreement,
    recording_allowed,
    staff_access,
)
from ..domain.policy import Policy, StaffAccessPolicy
from ..ports import WriteRefused

if TYPE_CHECKING:
    from ..domain.records import Consent, Item
    from .workspace import Workspace

__all__ = [
    "AccessRefused",
    "add_staff",
    "agreement_kinds",
    "agreements",
    "check_access",
    "check_read",
    "check_write",
    "clients_of",
    "end_agreement",
    "guard",
    "guarded",
    "list_staff",
    "mark_used",
    "record_agreement",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class AccessRefused(OperationRefused):
    """A staff member may not look into a client's data (S12); the refusal is audited."""


# -- staff register ------------------------------------------------------------------------


def add_staff(
    ws: "Workspace",
    staff_id: str,
    name: str,
    employment: Employment | str,
    *,
    confidentiality_signed_at: datetime | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    reason: str | None = None,
    actor: str = "api",
) -> StaffMember:
    """Add a staff member to the register (or update their entry); audited.

    Temporary staff can be registered (the register is a record of fact) but never get
    access while the policy forbids it. Making a temporary worker permanent opens the
    client data to them (S12): it needs an explicit ``reason``, audited as
    ``staff.made_permanent``.

    :raises OperationRefused: when a temporary worker is made permanent without a reason.
    """
    regs = ws.ledger.registers
    member = StaffMember(
        staff_id,
        name,
        Employment(employment),
        started_at or ws.clock(),
        confidentiality_signed_at,
        ended_at,
    )
    before = regs.staff_member(staff_id)
    promoted = (
        before is not None
        and before.employment is Employment.TEMPORARY
        and member.employment is Employment.PERMANENT
    )
    if not promoted:
        return regs.save_staff(member, actor)
    if not (reason or "").strip():
        raise OperationRefused(
            f"{staff_id!r} is temporary staff: making them permanent gives access to client "
            "data (S12); give the reason (--reason), which is audited"
        )
    with ws.ledger.transaction():
        saved = regs.save_staff(member, actor)
        ws.ledger.audit("staff.made_permanent", {"staff": staff_id, "reason": reason}, None, actor)
    return saved


def list_staff(ws: "Workspace") -> list[StaffMember]:
    """Return the staff register, sorted by id."""
    return ws.ledger.registers.staff()


# -- agreements ----------------------------------------------------------------------------


def record_agreement(
    ws: "Workspace",
    client_id: str,
    kind: str,
    *,
    scope: str = "",
    agreed_at: datetime | None = None,
    ends_at: datetime | None = None,
    delete_by: datetime | None = None,
    actor: str = "api",
) -> Agreement:
    """Record an agreement with ``client_id`` (made beforehand); audited.

    :param kind: ``confidentiality`` (S12) or an agreement kind a category requires
        (``client_data_transfer``, S10).
    :raises OperationRefused: for an unknown kind or subject.
    """
    kinds = agreement_kinds(ws.policy)
    if kind not in kinds:
        raise OperationRefused(
            f"unknown agreement kind {kind!r} (known: {', '.join(sorted(kinds))})"
        )
    if not ws.ledger.has_subject(client_id):
        raise OperationRefused(f"unknown subject {client_id!r}")
    agreement = Agreement(client_id, kind, scope, agreed_at or ws.clock(), ends_at, delete_by)
    return ws.ledger.registers.add_agreement(agreement, actor)


def agreement_kinds(policy: Policy) -> frozenset[str]:
    """Return the agreement kinds: ``confidentiality`` and those categories require."""
    return frozenset(
        {CONFIDENTIALITY}
        | {c.requires_agreement for c in policy.categories if c.requires_agreement}
    )


def agreements(ws: "Workspace", client_id: str | None = None) -> list[Agreement]:
    """Return the agreements (with ``client_id``, or all), oldest first."""
    return ws.ledger.registers.agreements(client_id)


def end_agreement(
    ws: "Workspace", agreement_id: int, *, at: datetime | None = None, actor: str = "api"
) -> None:
    """End an agreement at ``at``; for a data-transfer agreement, record ``agreement_ended``.

    The client's ``agreement_ended`` event starts the deletion clock of its client system
    data, as :func:`mark_used` does.
    """
    at = at or ws.clock()
    regs = ws.ledger.registers
    found = [a for a in regs.agreements() if a.id == agreement_id]
    if not found:
        raise OperationRefused(f"no agreement with id {agreement_id}")
    with ws.ledger.transaction():
        regs.end_agreement(agreement_id, at, actor)
        if found[0].kind != CONFIDENTIALITY and _declares_event(ws.policy, "agreement_ended"):
            ws.record_event(found[0].subject_id, "agreement_ended", at, actor)


def _declares_event(policy: Policy, event: str) -> bool:
    return any(e.id == event for e in policy.events)


def mark_used(
    ws: "Workspace", client_id: str, *, at: datetime | None = None, actor: str = "api"
) -> None:
    """Record that the client's transferred data was used: its deletion clock starts (S10).

    :raises OperationRefused: when the policy declares no ``used`` event.
    """
    ws.record_event(client_id, "used", at or ws.clock(), actor)


# -- the staff access guard ------------------------------------------------------------------


def clients_of(ws: "Workspace", subject_id: str) -> list[str]:
    """Return the clients whose data ``subject_id``'s data is (S12): itself or its client.

    A subject holding one of the policy's client relation types
    (``staff_access.client_relation_types``) is a client; a person that belongs to one
    (a contact person) is that client's. Other subjects' data is not client data.

    :raises LedgerError: when the subject is not registered.
    """
    clients = set(_rules(ws.policy).client_relation_types)
    subject = ws.ledger.subject(subject_id)
    if subject.relation_types & clients:
        return [subject.id]
    org = subject.organisation
    if org is not None and ws.ledger.relation_types_of(org) & clients:
        return [org]
    return []


def check_read(ws: "Workspace", staff_id: str, subject_id: str, *, purpose: str = "") -> None:
    """Let ``staff_id`` read ``subject_id``'s data only when the guard allows it (S12).

    For client data (:func:`clients_of`) the access guard decides, and audits, as
    :func:`check_access` does; other subjects' data needs no guard.

    :raises AccessRefused: when the guard refuses; the refusal is audited.
    """
    for client_id in clients_of(ws, subject_id):
        decision = check_access(ws, staff_id, client_id, purpose=purpose or "read data")
        if not decision:
            raise AccessRefused(
                f"{staff_id} may not read {subject_id}'s data (client {client_id}): "
                f"{decision.reason}"
            )


def _rules(policy: Policy) -> StaffAccessPolicy:
    return policy.staff_access or StaffAccessPolicy()


def check_access(
    ws: "Workspace",
    staff_id: str,
    client_id: str,
    *,
    at: datetime | None = None,
    purpose: str = "",
    actor: str | None = None,
) -> Decision:
    """Decide whether ``staff_id`` may look into ``client_id``'s data now; audit it."""
    at = at or ws.clock()
    regs = ws.ledger.registers
    member = regs.staff_member(staff_id)
    decision = staff_access(
        member,
        client_id,
        regs.agreements(client_id, CONFIDENTIALITY),
        _rules(ws.policy),
        at,
    )
    ws.ledger.audit(
        "guard.allowed" if decision else "guard.refused",
        {
            "staff": staff_id,
            "client": client_id,
            "reason": decision.reason,
            "purpose": purpose,
            "at": at.isoformat(),
        },
        client_id if ws.ledger.has_subject(client_id) else None,
        actor or staff_id,
    )
    return decision


@contextmanager
def guard(
    ws: "Workspace", staff_id: str, client_id: str, *, purpose: str = ""
) -> Iterator[Decision]:
    """Let the block run only when ``staff_id`` may look into ``client_id``'s data.

    Also usable as a decorator (``@guard(ws, "anna", "client-7")``), checked on each call.

    :raises AccessRefused: when refused; the refusal is audited.
    """
    decision = check_access(ws, staff_id, client_id, purpose=purpose)
    if not decision:
        raise AccessRefused(f"{staff_id} may not see {client_id}'s data: {decision.reason}")
    yield decision


def guarded(
    ws: "Workspace", *, staff: str = "staff_id", client: str = "client_id"
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorate a function whose arguments ``staff`` and ``client`` name who sees whose data.

    Each call is checked (and audited) before the function runs.

    :raises AccessRefused: from the decorated function, when refused.
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        signature = inspect.signature(function)
        for name in (staff, client):
            if name not in signature.parameters:
                raise TypeError(f"{function.__qualname__} has no argument {name!r}")

        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            bound = signature.bind(*args, **kwargs)
            with guard(ws, str(bound.arguments[staff]), str(bound.arguments[client])):
                return function(*args, **kwargs)

        return wrapper

    return decorate


# -- write guards (S10, S13) ---------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _gated(policy: Policy) -> dict[str, tuple[str | None, str | None]]:
    """Return the categories a guard checks: id -> (agreement kind, consent kind)."""
    return {
        c.id: (c.requires_agreement, c.requires_consent)
        for c in policy.categories
        if c.requires_agreement or c.requires_consent
    }


def check_write(ws: "Workspace", items: Iterable["Item"]) -> Iterable["Item"]:
    """Return ``items``, refusing (lazily, as they stream) those a guard forbids.

    Only items whose category requires an agreement or a consent are checked; when the
    policy has no such category, ``items`` is returned as is.

    :raises WriteRefused: (while iterating) naming the item's position and the reason.
    """
    gated = _gated(ws.policy)
    if not gated:
        return items
    return _checked(ws, items, gated)


def _checked(
    ws: "Workspace", items: Iterable["Item"], gated: dict[str, tuple[str | None, str | None]]
) -> Iterator["Item"]:
    regs = ws.ledger.registers
    agreements_of: dict[tuple[str, str], list[Agreement]] = {}
    consents_of: dict[str, list[Consent]] = {}
    for index, item in enumerate(items):
        rule = gated.get(item.category)
        if rule is not None:
            agreement_kind, consent_kind = rule
            subject = item.subject_id
            if agreement_kind is not None:
                key = (subject, agreement_kind)
                if key not in agreements_of:
                    agreements_of[key] = regs.agreements(subject, agreement_kind)
                decision = may_store_with_agreement(
                    agreements_of[key], subject, agreement_kind, item.collected_at
                )
                if not decision:
                    raise WriteRefused(index, item.key, decision.reason)
            if consent_kind is not None:
                if subject not in consents_of:
                    consents_of[subject] = ws.ledger.consents_of(subject)
                decision = recording_allowed(
                    consents_of[subject], subject, consent_kind, item.field, item.collected_at
                )
                if not decision:
                    raise WriteRefused(index, item.key, decision.reason)
        yield item
