"""The SQL ledger: subjects, relation types, lifecycle events, consents and the audit trail.

It lives in the workspace's primary SQL database, beside (and in the same transactions
as) that store's items; it implements :class:`~praclox_privacy.ports.Ledger`. It holds no
personal values: subject ids, relation types, event instants, consent records and audit
entries that name categories and counts, never data.

Every audit entry carries the SHA-256 of the previous one; :meth:`SqlLedger.verify_audit`
recomputes the chain and reports the first entry that does not match.
"""

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ...domain.audit import GENESIS, AuditEntry, AuditVerification, canonical, chain_hash
from ...domain.policy import Policy
from ...domain.records import Consent, Evidence, Subject, SubjectEvent
from ...domain.sweep_plan import SweepPlan
from ...ports import Intent, LedgerError
from .database import SqlDatabase

if TYPE_CHECKING:
    from .registers import SqlRegisters
    from .request_register import SqlRequestRegister

__all__ = ["SqlLedger"]


class SqlLedger:
    """Subjects, events, consents and the audit trail in an SQL database."""

    def __init__(self, db: SqlDatabase, clock: Callable[[], datetime]) -> None:
        self.database = db
        self._t = db.tables
        self._clock = clock

    @property
    def location(self) -> str:
        """The database's URL, without its password."""
        return self.database.where

    @functools.cached_property
    def registers(self) -> "SqlRegisters":
        """The registers of consents, agreements, staff and disclosure requests."""
        from .registers import SqlRegisters

        return SqlRegisters(self)

    @functools.cached_property
    def requests(self) -> "SqlRequestRegister":
        """The register of data-subject requests, restrictions and objections."""
        from .request_register import SqlRequestRegister

        return SqlRequestRegister(self)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Open a transaction of the database (or join the one open in this thread)."""
        with self.database.begin():
            yield

    @contextmanager
    def exclusive(self, name: str, wait: bool = False) -> Iterator[bool]:
        """Hold the lock ``name`` across processes (see :meth:`SqlDatabase.exclusive`)."""
        with self.database.exclusive(name, wait) as held:
            yield held

    # -- audit ---------------------------------------------------------------------------

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
        t = self._t
        at = self._clock().astimezone(UTC)
        with self.database.begin() as conn:
            head = conn.execute(
                sa.select(t.audit_head.c.seq, t.audit_head.c.hash)
                .where(t.audit_head.c.id == 1)
                .with_for_update()
            ).one()
            seq = head.seq + 1
            text = canonical(details)  # once: entries of a sweep batch can be large
            digest = chain_hash(head.hash, seq, at, actor, action, subject_id, text)
            conn.execute(
                t.audit.insert().values(
                    seq=seq,
                    at=at,
                    actor=actor,
                    action=action,
                    subject_id=subject_id,
                    details=text,
                    prev_hash=head.hash,
                    hash=digest,
                )
            )
            conn.execute(
                t.audit_head.update().where(t.audit_head.c.id == 1).values(seq=seq, hash=digest)
            )
        return AuditEntry(seq, at, actor, action, subject_id, dict(details), head.hash, digest)

    def audit_entry(self, seq: int) -> AuditEntry:
        """Return the audit entry number ``seq``.

        :raises LedgerError: when there is none.
        """
        a = self._t.audit
        with self.database.begin() as conn:
            row = conn.execute(sa.select(a).where(a.c.seq == seq)).first()
        if row is None:
            raise LedgerError(f"no audit entry {seq}")
        return self._entry(row)

    def audit_entries(
        self, subject_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Return audit entries, oldest first (the last ``limit`` ones, if given)."""
        a = self._t.audit
        stmt = sa.select(a).order_by(a.c.seq.desc())
        if subject_id is not None:
            stmt = stmt.where(a.c.subject_id == subject_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.database.begin() as conn:
            rows = conn.execute(stmt).all()
        return [self._entry(row) for row in reversed(rows)]

    @staticmethod
    def _entry(row: Any) -> AuditEntry:
        return AuditEntry(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.subject_id,
            json.loads(row.details),
            row.prev_hash,
            row.hash,
        )

    def verify_audit(self) -> AuditVerification:
        """Recompute the hash chain; report the first entry that does not match."""
        with self.database.begin() as conn:
            head = conn.execute(sa.select(self._t.audit_head)).one()
            result = self._walk(conn)
        if not result.ok:
            return result
        checked, last_hash = result.checked, result.reason
        if head.seq > checked:
            return AuditVerification(
                False,
                checked,
                checked + 1,
                f"entries after {checked} were removed (the head records {head.seq})",
            )
        if head.seq < checked:
            return AuditVerification(
                False,
                head.seq,
                head.seq + 1,
                f"entries after {head.seq} were added behind the head's back",
            )
        if head.hash != last_hash:
            return AuditVerification(
                False, checked - 1, checked, "the last entry does not match the head's hash"
            )
        return AuditVerification(True, checked)

    def _walk(self, conn: Connection) -> AuditVerification:
        """Check every entry's link and hash; when intact, ``reason`` is the last hash."""
        a = self._t.audit
        prev = GENESIS
        checked = 0
        with conn.execution_options(yield_per=1000).execute(sa.select(a).order_by(a.c.seq)) as rows:
            for row in rows:
                expected_seq = checked + 1
                try:
                    entry = self._entry(row)
                except ValueError:
                    return AuditVerification(False, checked, row.seq, "details are not JSON")
                if entry.seq != expected_seq:
                    return AuditVerification(
                        False, checked, expected_seq, f"entry {expected_seq} is missing"
                    )
                if entry.prev_hash != prev:
                    return AuditVerification(
                        False, checked, entry.seq, "does not link to the previous entry"
                    )
                if entry.expected_hash() != entry.hash:
                    return AuditVerification(
                        False, checked, entry.seq, "content does not match its hash"
                    )
                prev = entry.hash
                checked += 1
        return AuditVerification(True, checked, None, prev)

    # -- subjects ------------------------------------------------------------------------

    def add_subject(self, subject: Subject, actor: str = "system") -> Subject:
        """Register ``subject`` with its relation types and events.

        :raises LedgerError: when a subject with that id exists.
        """
        t = self._t
        with self.database.begin() as conn:
            if self._exists(conn, subject.id):
                raise LedgerError(f"subject {subject.id!r} already exists")
            conn.execute(
                t.subjects.insert().values(
                    id=subject.id, organisation=subject.organisation, created_at=self._clock()
                )
            )
            if subject.relation_types:
                conn.execute(
                    t.relations.insert(),
                    [
                        {"subject_id": subject.id, "relation_type": rt}
                        for rt in sorted(subject.relation_types)
                    ],
                )
            if subject.events:
                conn.execute(
                    t.events.insert(),
                    [
                        {"subject_id": subject.id, "name": e.name, "at": e.at}
                        for e in subject.events
                    ],
                )
            self.audit(
                "subject.added",
                {
                    "relation_types": sorted(subject.relation_types),
                    "organisation": subject.organisation,
                },
                subject.id,
                actor,
            )
        return subject

    def _exists(self, conn: Connection, subject_id: str) -> bool:
        s = self._t.subjects
        return conn.execute(sa.select(s.c.id).where(s.c.id == subject_id)).first() is not None

    def _require(self, conn: Connection, subject_id: str) -> None:
        if not self._exists(conn, subject_id):
            raise LedgerError(f"unknown subject {subject_id!r}")

    def has_subject(self, subject_id: str) -> bool:
        """Return whether ``subject_id`` is registered."""
        with self.database.begin() as conn:
            return self._exists(conn, subject_id)

    def subject(self, subject_id: str) -> Subject:
        """Return the subject ``subject_id``.

        :raises LedgerError: when it is not registered.
        """
        found = self.subjects([subject_id])
        if not found:
            raise LedgerError(f"unknown subject {subject_id!r}")
        return found[0]

    def subjects(self, ids: Iterable[str] | None = None) -> list[Subject]:
        """Return the subjects with ``ids`` (all, when ``None``), sorted by id."""
        t = self._t
        wanted = None if ids is None else sorted(set(ids))
        with self.database.begin() as conn:
            rows = self._select_in(conn, sa.select(t.subjects), t.subjects.c.id, wanted)
            rels = self._select_in(conn, sa.select(t.relations), t.relations.c.subject_id, wanted)
            evs = self._select_in(conn, sa.select(t.events), t.events.c.subject_id, wanted)
        types: dict[str, set[str]] = {}
        for r in rels:
            types.setdefault(r.subject_id, set()).add(r.relation_type)
        events: dict[str, list[SubjectEvent]] = {}
        for e in sorted(evs, key=lambda e: e.id):
            events.setdefault(e.subject_id, []).append(SubjectEvent(e.name, e.at))
        return sorted(
            (
                Subject(r.id, types.get(r.id, set()), events.get(r.id, ()), r.organisation)
                for r in rows
            ),
            key=lambda s: s.id,
        )

    @staticmethod
    def _select_in(conn: Connection, stmt: Any, column: Any, wanted: list[str] | None) -> list[Any]:
        if wanted is None:
            return list(conn.execute(stmt))
        rows: list[Any] = []
        for start in range(0, len(wanted), 500):
            rows.extend(conn.execute(stmt.where(column.in_(wanted[start : start + 500]))))
        return rows

    def members_of(self, organisation: str) -> list[str]:
        """Return the ids of the subjects that belong to ``organisation`` (its persons, S3)."""
        s = self._t.subjects
        with self.database.begin() as conn:
            rows = conn.execute(
                sa.select(s.c.id).where(s.c.organisation == organisation).order_by(s.c.id)
            )
            return list(rows.scalars())

    def relation_types_of(self, subject_id: str) -> frozenset[str]:
        """Return the relation types ``subject_id`` holds (empty when unknown)."""
        r = self._t.relations
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(r.c.relation_type).where(r.c.subject_id == subject_id))
            return frozenset(rows.scalars())

    def all_relation_types(self) -> dict[str, frozenset[str]]:
        """Return the relation types of every subject, in one query (for bulk work)."""
        r = self._t.relations
        found: dict[str, set[str]] = {}
        with self.database.begin() as conn:
            for subject_id, relation_type in conn.execute(
                sa.select(r.c.subject_id, r.c.relation_type)
            ):
                found.setdefault(subject_id, set()).add(relation_type)
        return {subject_id: frozenset(types) for subject_id, types in found.items()}

    def set_relation_types(
        self, subject_id: str, relation_types: Iterable[str], actor: str = "system"
    ) -> Subject:
        """Replace the relation types of ``subject_id``; data and events stay (S15)."""
        r = self._t.relations
        new = sorted(set(relation_types))
        with self.database.begin() as conn:
            self._require(conn, subject_id)
            old = sorted(
                conn.execute(
                    sa.select(r.c.relation_type).where(r.c.subject_id == subject_id)
                ).scalars()
            )
            conn.execute(r.delete().where(r.c.subject_id == subject_id))
            if new:
                conn.execute(
                    r.insert(), [{"subject_id": subject_id, "relation_type": rt} for rt in new]
                )
            self.audit("subject.relation_types", {"from": old, "to": new}, subject_id, actor)
        return self.subject(subject_id)

    def record_event(
        self, subject_id: str, name: str, at: datetime, actor: str = "system"
    ) -> Subject:
        """Record that event ``name`` happened to ``subject_id`` at ``at``."""
        event = SubjectEvent(name, at)
        with self.database.begin() as conn:
            self._require(conn, subject_id)
            conn.execute(
                self._t.events.insert().values(subject_id=subject_id, name=event.name, at=event.at)
            )
            self.audit(
                "subject.event",
                {"event": name, "at": at.astimezone(UTC).isoformat()},
                subject_id,
                actor,
            )
        return self.subject(subject_id)

    def sync_subject(self, subject: Subject, source: str, actor: str = "system") -> str:
        """Make the ledger's entry of ``subject`` what ``source`` (a store) says it is.

        Registers the subject when it is new; otherwise replaces its relation types,
        events and organisation when they differ. Audited (``subject.synced``) only when
        something changed.

        :returns: ``added``, ``updated`` or ``unchanged``.
        """
        t = self._t
        events = sorted((e.name, e.at.astimezone(UTC)) for e in subject.events)
        with self.database.begin() as conn:
            if not self._exists(conn, subject.id):
                conn.execute(
                    t.subjects.insert().values(
                        id=subject.id, organisation=subject.organisation, created_at=self._clock()
                    )
                )
                old_types: list[str] = []
                old_events: list[tuple[str, datetime]] = []
                old_org = subject.organisation
                outcome = "added"
            else:
                old_types = sorted(
                    conn.execute(
                        sa.select(t.relations.c.relation_type).where(
                            t.relations.c.subject_id == subject.id
                        )
                    ).scalars()
                )
                old_events = sorted(
                    (r.name, r.at)
                    for r in conn.execute(
                        sa.select(t.events.c.name, t.events.c.at).where(
                            t.events.c.subject_id == subject.id
                        )
                    )
                )
                old_org = conn.execute(
                    sa.select(t.subjects.c.organisation).where(t.subjects.c.id == subject.id)
                ).scalar_one()
                outcome = "updated"
            new_types = sorted(subject.relation_types)
            if outcome == "updated" and (old_types, old_events, old_org) == (
                new_types,
                events,
                subject.organisation,
            ):
                return "unchanged"
            if old_org != subject.organisation:
                conn.execute(
                    t.subjects.update()
                    .where(t.subjects.c.id == subject.id)
                    .values(organisation=subject.organisation)
                )
            if old_types != new_types:
                conn.execute(t.relations.delete().where(t.relations.c.subject_id == subject.id))
                if new_types:
                    conn.execute(
                        t.relations.insert(),
                        [{"subject_id": subject.id, "relation_type": rt} for rt in new_types],
                    )
            if old_events != events:
                conn.execute(t.events.delete().where(t.events.c.subject_id == subject.id))
                if events:
                    conn.execute(
                        t.events.insert(),
                        [{"subject_id": subject.id, "name": n, "at": at} for n, at in events],
                    )
            self.audit(
                "subject.synced",
                {
                    "source": source,
                    "outcome": outcome,
                    "relation_types": new_types,
                    "events": [{"event": n, "at": at.isoformat()} for n, at in events],
                    "organisation": subject.organisation,
                },
                subject.id,
                actor,
            )
        return outcome

    # -- consents ------------------------------------------------------------------------

    def add_consent(self, consent: Consent, actor: str = "system") -> int:
        """Record a consent; return its id."""
        with self.database.begin() as conn:
            self._require(conn, consent.subject_id)
            result = conn.execute(
                self._t.consents.insert().values(
                    subject_id=consent.subject_id,
                    kind=consent.kind,
                    granted_at=consent.granted_at,
                    withdrawn_at=consent.withdrawn_at,
                    until=consent.until,
                    method=consent.evidence.method,
                    text=consent.evidence.text,
                    reference=consent.evidence.reference,
                    scope=consent.scope,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            consent_id = int(key[0])
            self.audit(
                "consent.granted",
                {"consent": consent_id, "kind": consent.kind},
                consent.subject_id,
                actor,
            )
        return consent_id

    def all_consents(self) -> dict[str, list[Consent]]:
        """Return every consent, by subject id, oldest first (for planning a sweep)."""
        c = self._t.consents
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(c).order_by(c.c.id)).all()
        found: dict[str, list[Consent]] = {}
        for r in rows:
            found.setdefault(r.subject_id, []).append(self.consent_from_row(r))
        return found

    @staticmethod
    def consent_from_row(r: Any) -> Consent:
        """Build a :class:`Consent` from a row of the consents table."""
        return Consent(
            r.subject_id,
            r.kind,
            r.granted_at,
            Evidence(r.method, r.text, r.reference),
            r.withdrawn_at,
            r.until,
            r.scope,
        )

    def consents_of(self, subject_id: str) -> list[Consent]:
        """Return every consent of ``subject_id``, oldest first (withdrawn ones too)."""
        c = self._t.consents
        with self.database.begin() as conn:
            rows = conn.execute(
                sa.select(c).where(c.c.subject_id == subject_id).order_by(c.c.id)
            ).all()
        return [self.consent_from_row(r) for r in rows]

    # -- the sweep -----------------------------------------------------------------------

    def plan_sweep(self, policy: Policy, now: datetime) -> SweepPlan:
        """Plan the sweep at ``now``.

        Simple subjects are planned by grouped queries in the database, the others with
        :func:`~praclox_privacy.domain.sweep_plan.plan_sweep`.
        """
        from .sweep_planner import plan_from_ledger

        return plan_from_ledger(self, policy, now)

    def add_intent(self, store: str, at: datetime, details: Mapping[str, Any]) -> int:
        """Record an intent to erase in ``store``; return its id."""
        t = self._t.intents
        with self.database.begin() as conn:
            result = conn.execute(
                t.insert().values(store=store, created_at=at, details=json.dumps(dict(details)))
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def update_intent(self, intent: int, details: Mapping[str, Any]) -> None:
        """Replace the details of intent ``intent``."""
        t = self._t.intents
        with self.database.begin() as conn:
            conn.execute(
                t.update().where(t.c.id == intent).values(details=json.dumps(dict(details)))
            )

    def intents(self) -> Iterator[Intent]:
        """Yield the intents left, oldest first."""
        t = self._t.intents
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.id)).all()
        for row in rows:
            yield Intent(int(row.id), row.store, json.loads(row.details))

    def drop_intent(self, intent: int) -> None:
        """Forget intent ``intent``."""
        t = self._t.intents
        with self.database.begin() as conn:
            conn.execute(t.delete().where(t.c.id == intent))
