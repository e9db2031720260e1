"""The request register: data-subject requests and restrictions, beside the ledger.

It lives in the workspace's primary SQL database (the ``requests`` and ``restrictions``
tables) and shares the ledger's transactions: every change and its audit entry commit
together. Audit entries name request ids, types, counts and categories, never an identity
or a data value; the identities the requester gave are kept in the register itself, as
proof of what was asked.

It implements :class:`~praclox_privacy.ports.RequestRegister`.
"""

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...domain.requests import (
    DataRequest,
    Identity,
    RequestNotFound,
    RequestRefused,
    RequestStatus,
    RequestType,
)
from ...domain.restrictions import Restriction, RestrictionKind
from ...formats.jsonout import to_json
from .ledger import SqlLedger

if TYPE_CHECKING:
    from .database import SqlDatabase

__all__ = ["SqlRequestRegister"]

_OPEN = (RequestStatus.PENDING.value, RequestStatus.IN_PROGRESS.value)


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class SqlRequestRegister:
    """Requests and restrictions in the primary SQL database, audited in the ledger."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.ledger = ledger
        self.database: SqlDatabase = ledger.database
        self._t = ledger.database.tables

    # -- requests --------------------------------------------------------------------------

    @staticmethod
    def _row(request: DataRequest) -> dict[str, Any]:
        return {
            "type": request.type.value,
            "subject_id": request.subject_id,
            "identities": json.dumps(to_json(request.identities), ensure_ascii=False),
            "received_at": request.received_at,
            "due_at": request.due_at,
            "extended_until": request.extended_until,
            "extension_reason": request.extension_reason,
            "verified_at": request.verified_at,
            "verified_by": request.verified_by,
            "status": request.status.value,
            "details": _dump(request.details),
            "result": _dump(request.result),
            "closed_at": request.closed_at,
        }

    @staticmethod
    def _request(row: Any) -> DataRequest:
        return DataRequest(
            row.id,
            RequestType(row.type),
            tuple(
                Identity(i["kind"], i["value"], i.get("format", "raw"))
                for i in json.loads(row.identities)
            ),
            row.received_at,
            row.due_at,
            RequestStatus(row.status),
            row.subject_id,
            row.verified_at,
            row.verified_by,
            row.extended_until,
            row.extension_reason,
            row.closed_at,
            json.loads(row.details or "{}"),
            json.loads(row.result or "{}"),
        )

    def add(
        self, request: DataRequest, details: Mapping[str, Any], actor: str = "system"
    ) -> DataRequest:
        """Register ``request`` and audit ``request.received`` with ``details``.

        :raises RequestRefused: when a request with that id is registered.
        """
        t = self._t.requests
        with self.database.begin() as conn:
            if conn.execute(sa.select(t.c.id).where(t.c.id == request.id)).first() is not None:
                raise RequestRefused(f"a request with id {request.id!r} is already registered")
            conn.execute(t.insert().values(id=request.id, **self._row(request)))
            self.ledger.audit("request.received", details, request.subject_id, actor)
        return request

    def save(
        self,
        request: DataRequest,
        action: str,
        details: Mapping[str, Any],
        actor: str = "system",
    ) -> DataRequest:
        """Store the changed ``request`` and audit ``action`` with ``details``, together."""
        t = self._t.requests
        with self.database.begin() as conn:
            updated = conn.execute(
                t.update().where(t.c.id == request.id).values(**self._row(request))
            ).rowcount
            if not updated:
                raise RequestNotFound(f"no request {request.id!r} in the register")
            self.ledger.audit(action, {"request": request.id, **details}, request.subject_id, actor)
        return request

    def get(self, request_id: str) -> DataRequest:
        """Return the request ``request_id``.

        :raises RequestNotFound: when it is not registered.
        """
        t = self._t.requests
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == request_id)).first()
        if row is None:
            raise RequestNotFound(f"no request {request_id!r} in the register")
        return self._request(row)

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
        t = self._t.requests
        stmt = sa.select(t).order_by(t.c.received_at, t.c.id)
        if subject_id is not None:
            stmt = stmt.where(t.c.subject_id == subject_id)
        if open_only or overdue_at is not None:
            stmt = stmt.where(t.c.status.in_(_OPEN))
        if types is not None:
            stmt = stmt.where(t.c.type.in_(sorted(k.value for k in types)))
        if overdue_at is not None:
            stmt = stmt.where(
                sa.or_(
                    sa.and_(t.c.extended_until.is_(None), t.c.due_at < overdue_at),
                    t.c.extended_until < overdue_at,
                )
            )
        with self.database.begin() as conn:
            rows = conn.execute(stmt).all()
        return [self._request(row) for row in rows]

    # -- restrictions and objections -------------------------------------------------------

    @staticmethod
    def _restriction(row: Any) -> Restriction:
        return Restriction(
            row.subject_id,
            RestrictionKind(row.kind),
            row.started_at,
            row.category,
            row.purpose,
            row.reason,
            row.request_id,
            row.lifted_at,
            row.id,
        )

    def add_restriction(self, restriction: Restriction, actor: str = "system") -> Restriction:
        """Record a restriction or objection and audit it in the same transaction.

        The audit action is ``restriction.started`` or ``objection.recorded``.

        :returns: the restriction with its id.
        """
        t = self._t.restrictions
        with self.database.begin() as conn:
            result = conn.execute(
                t.insert().values(
                    subject_id=restriction.subject_id,
                    kind=restriction.kind.value,
                    category=restriction.category,
                    purpose=restriction.purpose,
                    reason=restriction.reason,
                    request_id=restriction.request_id,
                    started_at=restriction.started_at,
                    lifted_at=restriction.lifted_at,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            added = Restriction(
                restriction.subject_id,
                restriction.kind,
                restriction.started_at,
                restriction.category,
                restriction.purpose,
                restriction.reason,
                restriction.request_id,
                restriction.lifted_at,
                int(key[0]),
            )
            action = (
                "objection.recorded"
                if restriction.kind is RestrictionKind.OBJECTION
                else "restriction.started"
            )
            self.ledger.audit(action, _restriction_details(added), added.subject_id, actor)
        return added

    def restriction(self, restriction_id: int) -> Restriction:
        """Return the restriction ``restriction_id``.

        :raises RequestNotFound: when there is none.
        """
        t = self._t.restrictions
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == restriction_id)).first()
        if row is None:
            raise RequestNotFound(f"no restriction or objection {restriction_id} in the register")
        return self._restriction(row)

    def lift(self, restriction_id: int, at: datetime, actor: str = "system") -> Restriction:
        """Lift restriction ``restriction_id`` at ``at``; audit it.

        :raises RequestNotFound: when there is none.
        :raises RequestRefused: when it was already lifted.
        """
        t = self._t.restrictions
        with self.database.begin() as conn:
            found = self.restriction(restriction_id)
            if found.lifted_at is not None:
                raise RequestRefused(
                    f"{found.kind.value} {restriction_id} was already lifted at "
                    f"{found.lifted_at.isoformat()}"
                )
            if at < found.started_at:
                raise RequestRefused(
                    f"{found.kind.value} {restriction_id} started at "
                    f"{found.started_at.isoformat()}; it cannot be lifted before that"
                )
            conn.execute(t.update().where(t.c.id == restriction_id).values(lifted_at=at))
            lifted = Restriction(
                found.subject_id,
                found.kind,
                found.started_at,
                found.category,
                found.purpose,
                found.reason,
                found.request_id,
                at,
                found.id,
            )
            self.ledger.audit(
                f"{found.kind.value}.lifted", _restriction_details(lifted), found.subject_id, actor
            )
        return lifted

    def restrictions_of(self, subject_id: str) -> list[Restriction]:
        """Return every restriction and objection of ``subject_id`` (lifted ones too)."""
        t = self._t.restrictions
        with self.database.begin() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.subject_id == subject_id).order_by(t.c.id)
            ).all()
        return [self._restriction(row) for row in rows]

    def all_restrictions(self) -> list[Restriction]:
        """Return every restriction and objection, oldest first."""
        t = self._t.restrictions
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.id)).all()
        return [self._restriction(row) for row in rows]


def _restriction_details(r: Restriction) -> dict[str, Any]:
    # Its JSON shape, under "restriction" its id; the audit entry itself names the subject.
    return dict(to_json(r, omit=("subject_id",), rename={"id": "restriction"}))
