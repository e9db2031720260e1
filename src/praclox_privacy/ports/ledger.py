"""The ledger contract: who the subjects are, what happened to them, and the audit trail.

A workspace has one ledger. It is supplied by the kind of the workspace's primary store
(the ``ledger`` of its :class:`~praclox_privacy.ports.StoreKind`): the built-in ``sql``
store keeps it in the same database as its items, so that a write to the primary store
and its audit entry commit together (:meth:`Ledger.transaction`).

The ledger holds no personal values: subject ids, relation types, event instants,
consent records and audit entries that name categories and counts, never data. Beside
it live the registers (:class:`Registers`: consents by id, agreements, staff and
disclosure requests) and the request register (:class:`RequestRegister`: data-subject
requests, restrictions and objections); every change to them is audited in the same
transaction.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from ..domain.audit import AuditEntry, AuditVerification
from ..domain.errors import PracloxPrivacyError
from ..domain.guards import Agreement, DisclosureRequest, DisclosureStatus, StaffMember
from ..domain.policy import Policy
from ..domain.records import Consent, ConsentRecord, Subject
from ..domain.requests import DataRequest, RequestType
from ..domain.restrictions import Restriction
from ..domain.sweep_plan import SweepPlan

__all__ = [
    "Intent",
    "Ledger",
    "LedgerError",
    "Registers",
    "RequestRegister",
]


class LedgerError(PracloxPrivacyError):
    """A ledger operation was refused (unknown or duplicate subject, no such entry, ...)."""


@attrs.frozen
class Intent:
    """A sweep's record of an erasure it is about to make in a store outside the ledger.

    :ivar id: the intent's number.
    :ivar store: the store the erasure is made in.
    :ivar details: what the sweep needs to finish or record the erasure (JSON data).
    """

    id: int
    store: str
    details: Mapping[str, Any]


@runtime_checkable
class Registers(Protocol):
    """Consents by id, agreements with clients, the staff register and disclosure requests.

    Nothing is ever deleted: a consent is withdrawn, an agreement ended, a request decided.
    """

    def consent_records(self, subject_id: str | None = None) -> list[ConsentRecord]:
        """Return the consents (of ``subject_id``, or all), oldest first, with their ids."""
        ...

    def consent_record(self, consent_id: int) -> ConsentRecord:
        """Return the consent ``consent_id``.

        :raises LedgerError: when there is none.
        """
        ...

    def withdraw_consent(self, consent_id: int, at: datetime, actor: str) -> ConsentRecord:
        """Set the consent's ``withdrawn_at`` (the record stays); audit it.

        :raises LedgerError: when it does not exist.
        :raises ValueError: when it was already withdrawn.
        """
        ...

    def add_agreement(self, agreement: Agreement, actor: str) -> Agreement:
        """Record ``agreement``; return it with its id. Audited.

        :raises LedgerError: when its subject is not registered.
        """
        ...

    def end_agreement(self, agreement_id: int, at: datetime, actor: str) -> None:
        """Set the agreement's end to ``at``; audit it.

        :raises LedgerError: when there is no such agreement.
        """
        ...

    def agreements(self, subject_id: str | None = None, kind: str | None = None) -> list[Agreement]:
        """Return the agreements (of ``subject_id``, of ``kind``), oldest first."""
        ...

    def save_staff(self, member: StaffMember, actor: str) -> StaffMember:
        """Add ``member`` to the staff register, or update their entry; audit it."""
        ...

    def staff_member(self, staff_id: str) -> StaffMember | None:
        """Return the staff member ``staff_id``, or ``None`` when not in the register."""
        ...

    def staff(self) -> list[StaffMember]:
        """Return the staff register, sorted by id."""
        ...

    def add_disclosure(self, request: DisclosureRequest) -> None:
        """Record a new disclosure request (the caller audits it)."""
        ...

    def disclosure(self, request_id: str) -> DisclosureRequest:
        """Return the disclosure request ``request_id``.

        :raises LedgerError: when there is none.
        """
        ...

    def disclosure_details(self, request_id: str) -> dict[str, Any]:
        """Return the request's bookkeeping (whether the person was asked, ...)."""
        ...

    def update_disclosure(
        self,
        request_id: str,
        *,
        status: DisclosureStatus | None = None,
        decided_at: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Change the request's status, decision instant or bookkeeping."""
        ...

    def disclosures(
        self, subject_id: str | None = None, status: DisclosureStatus | None = None
    ) -> list[DisclosureRequest]:
        """Return disclosure requests (of ``subject_id``, with ``status``), oldest first."""
        ...


@runtime_checkable
class RequestRegister(Protocol):
    """Data-subject requests and restrictions; every change is audited with it."""

    def add(
        self, request: DataRequest, details: Mapping[str, Any], actor: str = "system"
    ) -> DataRequest:
        """Register ``request`` and audit ``request.received`` with ``details``.

        :raises RequestRefused: when a request with that id is registered.
        """
        ...

    def save(
        self,
        request: DataRequest,
        action: str,
        details: Mapping[str, Any],
        actor: str = "system",
    ) -> DataRequest:
        """Store the changed ``request`` and audit ``action`` with ``details``, together.

        :raises RequestNotFound: when it is not registered.
        """
        ...

    def get(self, request_id: str) -> DataRequest:
        """Return the request ``request_id``.

        :raises RequestNotFound: when it is not registered.
        """
        ...

    def find(
        self,
        *,
        subject_id: str | None = None,
        open_only: bool = False,
        types: Iterable[RequestType] | None = None,
        overdue_at: datetime | None = None,
    ) -> list[DataRequest]:
        """Return the requests that match, oldest first.

        :param overdue_at: only open requests whose deadline (extended, if so) is before it.
        """
        ...

    def add_restriction(self, restriction: Restriction, actor: str = "system") -> Restriction:
        """Record a restriction or objection and audit it; return it with its id."""
        ...

    def restriction(self, restriction_id: int) -> Restriction:
        """Return the restriction ``restriction_id``.

        :raises RequestNotFound: when there is none.
        """
        ...

    def lift(self, restriction_id: int, at: datetime, actor: str = "system") -> Restriction:
        """Lift restriction ``restriction_id`` at ``at``; audit it.

        :raises RequestNotFound: when there is none.
        :raises RequestRefused: when it was already lifted, or ``at`` is before its start.
        """
        ...

    def restrictions_of(self, subject_id: str) -> list[Restriction]:
        """Return every restriction and objection of ``subject_id`` (lifted ones too)."""
        ...

    def all_restrictions(self) -> list[Restriction]:
        """Return every restriction and objection, oldest first."""
        ...


@runtime_checkable
class Ledger(Protocol):
    """Subjects, lifecycle events, consents, the audit trail, the registers and intents.

    Every method joins the transaction that :meth:`transaction` opened in the same thread
    (or task), so several changes and their audit entries commit together.
    """

    @property
    def location(self) -> str:
        """Where the ledger lives, for messages (a database URL without its password)."""
        ...

    @property
    def registers(self) -> Registers:
        """The registers of consents, agreements, staff and disclosure requests."""
        ...

    @property
    def requests(self) -> RequestRegister:
        """The register of data-subject requests, restrictions and objections."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Open a transaction (or join the one open): commit on success, roll back on error.

        Writes to the primary store made inside it commit together with the ledger's.

        :raises StoreUnavailable: when the ledger cannot be reached.
        """
        ...

    def exclusive(self, name: str, wait: bool = False) -> AbstractContextManager[bool]:
        """Hold a lock named ``name`` across processes while the block runs.

        The lock is released when its holder dies, so a killed process never leaves it.

        :param wait: wait for the lock instead of giving up at once.
        :returns: (as the ``with`` value) whether the lock is held.
        """
        ...

    # -- the audit trail -------------------------------------------------------------

    def audit(
        self,
        action: str,
        details: Mapping[str, Any],
        subject_id: str | None = None,
        actor: str = "system",
    ) -> AuditEntry:
        """Append an audit entry (in the current transaction, if one is open).

        :param details: JSON-serialisable facts (never personal values).
        """
        ...

    def audit_entry(self, seq: int) -> AuditEntry:
        """Return the audit entry number ``seq``.

        :raises LedgerError: when there is none.
        """
        ...

    def audit_entries(
        self, subject_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Return audit entries, oldest first (the last ``limit`` ones, if given)."""
        ...

    def verify_audit(self) -> AuditVerification:
        """Recompute the hash chain; report the first entry that does not match."""
        ...

    # -- subjects ----------------------------------------------------------------------

    def add_subject(self, subject: Subject, actor: str = "system") -> Subject:
        """Register ``subject`` with its relation types and events; audited.

        :raises LedgerError: when a subject with that id exists.
        """
        ...

    def has_subject(self, subject_id: str) -> bool:
        """Return whether ``subject_id`` is registered."""
        ...

    def subject(self, subject_id: str) -> Subject:
        """Return the subject ``subject_id``.

        :raises LedgerError: when it is not registered.
        """
        ...

    def subjects(self, ids: Iterable[str] | None = None) -> list[Subject]:
        """Return the subjects with ``ids`` (all, when ``None``), sorted by id."""
        ...

    def members_of(self, organisation: str) -> list[str]:
        """Return the ids of the subjects that belong to ``organisation`` (its persons)."""
        ...

    def relation_types_of(self, subject_id: str) -> frozenset[str]:
        """Return the relation types ``subject_id`` holds (empty when unknown)."""
        ...

    def all_relation_types(self) -> dict[str, frozenset[str]]:
        """Return the relation types of every subject at once (for bulk work)."""
        ...

    def set_relation_types(
        self, subject_id: str, relation_types: Iterable[str], actor: str = "system"
    ) -> Subject:
        """Replace the relation types of ``subject_id``; data and events stay. Audited."""
        ...

    def record_event(
        self, subject_id: str, name: str, at: datetime, actor: str = "system"
    ) -> Subject:
        """Record that event ``name`` happened to ``subject_id`` at ``at``. Audited."""
        ...

    def sync_subject(self, subject: Subject, source: str, actor: str = "system") -> str:
        """Make the ledger's entry of ``subject`` what store ``source`` says it is.

        :returns: ``added``, ``updated`` or ``unchanged`` (audited unless unchanged).
        """
        ...

    # -- consents ----------------------------------------------------------------------

    def add_consent(self, consent: Consent, actor: str = "system") -> int:
        """Record a consent; return its id. Audited."""
        ...

    def all_consents(self) -> dict[str, list[Consent]]:
        """Return every consent, by subject id, oldest first (for planning a sweep)."""
        ...

    def consents_of(self, subject_id: str) -> list[Consent]:
        """Return every consent of ``subject_id``, oldest first (withdrawn ones too)."""
        ...

    # -- the sweep ---------------------------------------------------------------------

    def plan_sweep(self, policy: Policy, now: datetime) -> SweepPlan:
        """Return the sweep plan of every subject of the ledger at ``now``.

        It is the plan :func:`~praclox_privacy.domain.sweep_plan.plan_sweep` makes; a
        ledger may compute it in place (the SQL ledger does the common case in SQL).
        """
        ...

    def add_intent(self, store: str, at: datetime, details: Mapping[str, Any]) -> int:
        """Record an intent to erase in ``store`` (see :class:`Intent`); return its id."""
        ...

    def update_intent(self, intent: int, details: Mapping[str, Any]) -> None:
        """Replace the details of intent ``intent``."""
        ...

    def intents(self) -> Iterator[Intent]:
        """Yield the intents left, oldest first."""
        ...

    def drop_intent(self, intent: int) -> None:
        """Forget intent ``intent`` (its erasure is done and audited)."""
        ...
