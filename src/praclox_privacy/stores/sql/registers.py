"""The SQL registers beside the ledger: consents by id, agreements, staff and disclosures.

They implement :class:`~praclox_privacy.ports.Registers` and live in the primary store's
database (tables ``consents``, ``agreements``,
``staff`` and ``disclosures``), and every change is audited in the same transaction.
Nothing is ever deleted: a consent is withdrawn, an agreement ended, a request decided.
"""

import json
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from ...domain.guards import (
    Agreement,
    DisclosureRequest,
    DisclosureStatus,
    Employment,
    StaffMember,
)
from ...domain.records import ConsentRecord
from ...formats.jsonout import to_json
from ...ports import LedgerError
from .ledger import SqlLedger

__all__ = ["SqlRegisters"]


class SqlRegisters:
    """Consents, agreements, the staff register and disclosure requests of a ledger."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger
        self.database = ledger.database
        self._t = ledger.database.tables

    # -- consents ------------------------------------------------------------------------

    @staticmethod
    def _consent(r: Any) -> ConsentRecord:
        return ConsentRecord(int(r.id), SqlLedger.consent_from_row(r))

    def consent_records(self, subject_id: str | None = None) -> list[ConsentRecord]:
        """Return the consents (of ``subject_id``, or all), oldest first, with their ids."""
        c = self._t.consents
        stmt = sa.select(c).order_by(c.c.id)
        if subject_id is not None:
            stmt = stmt.where(c.c.subject_id == subject_id)
        with self.database.begin() as conn:
            return [self._consent(r) for r in conn.execute(stmt)]

    def consent_record(self, consent_id: int) -> ConsentRecord:
        """Return the consent ``consent_id``.

        :raises LedgerError: when there is none.
        """
        c = self._t.consents
        with self.database.begin() as conn:
            row = conn.execute(sa.select(c).where(c.c.id == consent_id)).first()
        if row is None:
            raise LedgerError(f"no consent with id {consent_id}")
        return self._consent(row)

    def withdraw_consent(self, consent_id: int, at: datetime, actor: str) -> ConsentRecord:
        """Set the consent's ``withdrawn_at`` (the row stays); audit it.

        :raises LedgerError: when it does not exist or was already withdrawn.
        """
        c = self._t.consents
        with self.database.begin() as conn:
            record = self.consent_record(consent_id)
            withdrawn = record.consent.withdraw(at)  # raises ValueError when already withdrawn
            conn.execute(c.update().where(c.c.id == consent_id).values(withdrawn_at=at))
            self.ledger.audit(
                "consent.withdrawn",
                {"consent": consent_id, "kind": record.consent.kind, "at": at.isoformat()},
                record.consent.subject_id,
                actor,
            )
        return ConsentRecord(consent_id, withdrawn)

    # -- agreements ----------------------------------------------------------------------

    def add_agreement(self, agreement: Agreement, actor: str) -> Agreement:
        """Record ``agreement``; return it with its id.

        :raises LedgerError: when its subject is not registered.
        """
        t = self._t.agreements
        with self.database.begin() as conn:
            if not self.ledger.has_subject(agreement.subject_id):
                raise LedgerError(f"unknown subject {agreement.subject_id!r}")
            result = conn.execute(
                t.insert().values(
                    subject_id=agreement.subject_id,
                    kind=agreement.kind,
                    scope=agreement.scope,
                    agreed_at=agreement.agreed_at,
                    ends_at=agreement.ends_at,
                    delete_by=agreement.delete_by,
                    details="{}",
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            recorded = attrs.evolve(agreement, id=int(key[0]))
            self.ledger.audit(
                "agreement.recorded",
                to_json(recorded, omit=("client", "scope"), rename={"id": "agreement"}),
                agreement.subject_id,
                actor,
            )
        return recorded

    def end_agreement(self, agreement_id: int, at: datetime, actor: str) -> None:
        """Set the agreement's end to ``at``; audit it."""
        t = self._t.agreements
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == agreement_id)).first()
            if row is None:
                raise LedgerError(f"no agreement with id {agreement_id}")
            conn.execute(t.update().where(t.c.id == agreement_id).values(ends_at=at))
            self.ledger.audit(
                "agreement.ended",
                {"agreement": agreement_id, "kind": row.kind, "at": at.isoformat()},
                row.subject_id,
                actor,
            )

    def agreements(self, subject_id: str | None = None, kind: str | None = None) -> list[Agreement]:
        """Return the agreements (of ``subject_id``, of ``kind``), oldest first."""
        t = self._t.agreements
        stmt = sa.select(t).order_by(t.c.id)
        if subject_id is not None:
            stmt = stmt.where(t.c.subject_id == subject_id)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        with self.database.begin() as conn:
            return [
                Agreement(
                    r.subject_id, r.kind, r.scope, r.agreed_at, r.ends_at, r.delete_by, int(r.id)
                )
                for r in conn.execute(stmt)
            ]

    # -- staff ---------------------------------------------------------------------------

    def save_staff(self, member: StaffMember, actor: str) -> StaffMember:
        """Add ``member`` to the staff register, or update their entry; audit it."""
        t = self._t.staff
        values = {
            "name": member.name,
            "employment": member.employment.value,
            "confidentiality_signed_at": member.confidentiality_signed_at,
            "started_at": member.started_at,
            "ended_at": member.ended_at,
        }
        with self.database.begin() as conn:
            exists = conn.execute(sa.select(t.c.id).where(t.c.id == member.id)).first()
            if exists is None:
                conn.execute(t.insert().values(id=member.id, **values))
            else:
                conn.execute(t.update().where(t.c.id == member.id).values(**values))
            self.ledger.audit(
                "staff.added" if exists is None else "staff.updated",
                to_json(member, omit=("name",), rename={"id": "staff"}),
                None,
                actor,
            )
        return member

    @staticmethod
    def _member(r: Any) -> StaffMember:
        return StaffMember(
            r.id,
            r.name,
            Employment(r.employment),
            r.started_at,
            r.confidentiality_signed_at,
            r.ended_at,
        )

    def staff_member(self, staff_id: str) -> StaffMember | None:
        """Return the staff member ``staff_id``, or ``None`` when not in the register."""
        t = self._t.staff
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == staff_id)).first()
        return None if row is None else self._member(row)

    def staff(self) -> list[StaffMember]:
        """Return the staff register, sorted by id."""
        t = self._t.staff
        with self.database.begin() as conn:
            return [self._member(r) for r in conn.execute(sa.select(t).order_by(t.c.id))]

    # -- disclosures ---------------------------------------------------------------------

    @staticmethod
    def _request(r: Any) -> DisclosureRequest:
        return DisclosureRequest(
            r.id,
            r.subject_id,
            r.requester,
            tuple(json.loads(r.data)),
            r.reason,
            r.requested_at,
            r.answer_by,
            DisclosureStatus(r.status),
            r.decided_at,
        )

    def add_disclosure(self, request: DisclosureRequest) -> None:
        """Record a new disclosure request (the caller audits it)."""
        with self.database.begin() as conn:
            conn.execute(
                self._t.disclosures.insert().values(
                    id=request.id,
                    subject_id=request.subject_id,
                    requester=request.requester,
                    data=json.dumps(list(request.data)),
                    reason=request.reason,
                    requested_at=request.requested_at,
                    answer_by=request.answer_by,
                    status=request.status.value,
                    decided_at=request.decided_at,
                    details="{}",
                )
            )

    def disclosure(self, request_id: str) -> DisclosureRequest:
        """Return the disclosure request ``request_id``.

        :raises LedgerError: when there is none.
        """
        t = self._t.disclosures
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == request_id)).first()
        if row is None:
            raise LedgerError(f"no disclosure request {request_id!r}")
        return self._request(row)

    def disclosure_details(self, request_id: str) -> dict[str, Any]:
        """Return the request's bookkeeping (whether the person was asked, ...)."""
        t = self._t.disclosures
        with self.database.begin() as conn:
            text = conn.execute(sa.select(t.c.details).where(t.c.id == request_id)).scalar()
        return dict(json.loads(text)) if text else {}

    def update_disclosure(
        self,
        request_id: str,
        *,
        status: DisclosureStatus | None = None,
        decided_at: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Change the request's status, decision instant or bookkeeping."""
        t = self._t.disclosures
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
        if decided_at is not None:
            values["decided_at"] = decided_at
        if details is not None:
            values["details"] = json.dumps(details, sort_keys=True)
        with self.database.begin() as conn:
            conn.execute(t.update().where(t.c.id == request_id).values(**values))

    def disclosures(
        self, subject_id: str | None = None, status: DisclosureStatus | None = None
    ) -> list[DisclosureRequest]:
        """Return disclosure requests (of ``subject_id``, with ``status``), oldest first."""
        t = self._t.disclosures
        stmt = sa.select(t).order_by(t.c.requested_at, t.c.id)
        if subject_id is not None:
            stmt = stmt.where(t.c.subject_id == subject_id)
        if status is not None:
            stmt = stmt.where(t.c.status == status.value)
        with self.database.begin() as conn:
            return [self._request(r) for r in conn.execute(stmt)]
