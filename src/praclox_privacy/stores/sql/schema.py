"""The SQL schema of the store and the ledger, and its versioned creation and upgrade."""

from datetime import UTC, datetime
from typing import Any

import attrs
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    select,
)
from sqlalchemy.dialects import mysql

from ...ports import StoreError

__all__ = ["SCHEMA_VERSION", "Tables", "UTCDateTime", "ensure_schema", "make_tables"]

SCHEMA_VERSION = 2
"""The schema version this library writes; older databases are upgraded on open."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC without zone (portable to every backend)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Use microsecond precision on MariaDB/MySQL."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware instant to naive UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store naive datetime {value.isoformat()}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the stored naive instant."""
        return None if value is None else value.replace(tzinfo=UTC)


def _key(length: int) -> Any:
    """Return a key column type: case- and space-exact on MariaDB (binary collation)."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _text() -> Any:
    return Text().with_variant(mysql.LONGTEXT(charset="utf8mb4"), "mysql", "mariadb")


@attrs.frozen
class Tables:
    """The tables of one store (one table prefix)."""

    metadata: MetaData
    schema: Table
    items: Table
    subjects: Table
    relations: Table
    events: Table
    consents: Table
    audit: Table
    audit_head: Table
    intents: Table
    requests: Table
    restrictions: Table
    agreements: Table
    staff: Table
    disclosures: Table


def make_tables(prefix: str) -> Tables:
    """Return the tables, named with ``prefix``."""
    md = MetaData()
    opts: dict[str, Any] = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}
    schema = Table(
        f"{prefix}schema",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("version", Integer, nullable=False),
        **opts,
    )
    items = Table(
        f"{prefix}items",
        md,
        Column("subject_id", _key(128), primary_key=True),
        Column("category", _key(64), primary_key=True),
        Column("field", _key(200), primary_key=True),
        Column("value", _text(), nullable=False),
        Column("collected_at", UTCDateTime(), nullable=False),
        Column("purposes", String(1000), nullable=False),
        **opts,
    )
    subjects = Table(
        f"{prefix}subjects",
        md,
        Column("id", _key(128), primary_key=True),
        Column("organisation", _key(128), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        **opts,
    )
    relations = Table(
        f"{prefix}subject_relations",
        md,
        Column("subject_id", _key(128), primary_key=True),
        Column("relation_type", _key(64), primary_key=True),
        Index(f"{prefix}relations_type", "relation_type"),
        **opts,
    )
    events = Table(
        f"{prefix}subject_events",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject_id", _key(128), nullable=False),
        Column("name", _key(64), nullable=False),
        Column("at", UTCDateTime(), nullable=False),
        Index(f"{prefix}events_subject", "subject_id", "name", "at"),
        Index(f"{prefix}events_name_at", "name", "at"),
        **opts,
    )
    consents = Table(
        f"{prefix}consents",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject_id", _key(128), nullable=False),
        Column("kind", _key(64), nullable=False),
        Column("granted_at", UTCDateTime(), nullable=False),
        Column("withdrawn_at", UTCDateTime(), nullable=True),
        Column("until", UTCDateTime(), nullable=True),
        Column("method", String(200), nullable=False),
        Column("text", _text(), nullable=False),
        Column("reference", String(500), nullable=False),
        Column("scope", String(500), nullable=False),
        Index(f"{prefix}consents_subject", "subject_id"),
        **opts,
    )
    audit = Table(
        f"{prefix}audit",
        md,
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(64), nullable=False),
        Column("subject_id", _key(128), nullable=True),
        Column("details", _text(), nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Index(f"{prefix}audit_subject", "subject_id"),
        **opts,
    )
    audit_head = Table(
        f"{prefix}audit_head",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", Integer, nullable=False),
        Column("hash", String(64), nullable=False),
        **opts,
    )
    intents = Table(
        f"{prefix}sweep_intents",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("store", String(64), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("details", _text(), nullable=False),
        **opts,
    )
    requests = Table(
        f"{prefix}requests",
        md,
        Column("id", _key(64), primary_key=True),
        Column("type", String(32), nullable=False),
        Column("subject_id", _key(128), nullable=True),
        Column("identities", _text(), nullable=False),
        Column("received_at", UTCDateTime(), nullable=False),
        Column("due_at", UTCDateTime(), nullable=False),
        Column("extended_until", UTCDateTime(), nullable=True),
        Column("extension_reason", _text(), nullable=False),
        Column("verified_at", UTCDateTime(), nullable=True),
        Column("verified_by", String(200), nullable=False),
        Column("status", String(32), nullable=False),
        Column("details", _text(), nullable=False),
        Column("result", _text(), nullable=False),
        Column("closed_at", UTCDateTime(), nullable=True),
        Index(f"{prefix}requests_subject", "subject_id"),
        Index(f"{prefix}requests_status_due", "status", "due_at"),
        **opts,
    )
    restrictions = Table(
        f"{prefix}restrictions",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject_id", _key(128), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("category", _key(64), nullable=True),
        Column("purpose", _key(64), nullable=True),
        Column("reason", _text(), nullable=False),
        Column("request_id", _key(64), nullable=True),
        Column("started_at", UTCDateTime(), nullable=False),
        Column("lifted_at", UTCDateTime(), nullable=True),
        Index(f"{prefix}restrictions_subject", "subject_id"),
        **opts,
    )
    agreements = Table(
        f"{prefix}agreements",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject_id", _key(128), nullable=False),
        Column("kind", String(64), nullable=False),
        Column("scope", _text(), nullable=False),
        Column("agreed_at", UTCDateTime(), nullable=False),
        Column("ends_at", UTCDateTime(), nullable=True),
        Column("delete_by", UTCDateTime(), nullable=True),
        Column("details", _text(), nullable=False),
        Index(f"{prefix}agreements_subject", "subject_id", "kind"),
        **opts,
    )
    staff = Table(
        f"{prefix}staff",
        md,
        Column("id", _key(128), primary_key=True),
        Column("name", String(300), nullable=False),
        Column("employment", String(32), nullable=False),
        Column("confidentiality_signed_at", UTCDateTime(), nullable=True),
        Column("started_at", UTCDateTime(), nullable=False),
        Column("ended_at", UTCDateTime(), nullable=True),
        **opts,
    )
    disclosures = Table(
        f"{prefix}disclosures",
        md,
        Column("id", _key(64), primary_key=True),
        Column("subject_id", _key(128), nullable=False),
        Column("requester", String(300), nullable=False),
        Column("data", _text(), nullable=False),
        Column("reason", _text(), nullable=False),
        Column("requested_at", UTCDateTime(), nullable=False),
        Column("answer_by", UTCDateTime(), nullable=False),
        Column("status", String(32), nullable=False),
        Column("decided_at", UTCDateTime(), nullable=True),
        Column("details", _text(), nullable=False),
        Index(f"{prefix}disclosures_subject", "subject_id"),
        Index(f"{prefix}disclosures_status", "status", "answer_by"),
        **opts,
    )
    return Tables(
        md,
        schema,
        items,
        subjects,
        relations,
        events,
        consents,
        audit,
        audit_head,
        intents,
        requests,
        restrictions,
        agreements,
        staff,
        disclosures,
    )


def ensure_schema(conn: Connection, tables: Tables) -> None:
    """Create the tables if missing, record the version, upgrade older schemas.

    :raises StoreError: when the database was written by a newer library version.
    """
    tables.metadata.create_all(conn, checkfirst=True)
    version = conn.execute(select(tables.schema.c.version).where(tables.schema.c.id == 1))
    found = version.scalar_one_or_none()
    if found is None:
        conn.execute(tables.schema.insert().values(id=1, version=SCHEMA_VERSION))
        conn.execute(tables.audit_head.insert().values(id=1, seq=0, hash="0" * 64))
        return
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the database schema is version {found}, newer than this library supports "
            f"({SCHEMA_VERSION}); upgrade praclox-privacy"
        )
    for step in range(found, SCHEMA_VERSION):
        _UPGRADES[step](conn, tables)
    if found < SCHEMA_VERSION:
        conn.execute(
            tables.schema.update().where(tables.schema.c.id == 1).values(version=SCHEMA_VERSION)
        )


def _upgrade_0(conn: Connection, tables: Tables) -> None:
    """Version 0 (a schema row without an audit head) gets the audit head."""
    if conn.execute(select(tables.audit_head.c.id)).first() is None:
        conn.execute(tables.audit_head.insert().values(id=1, seq=0, hash="0" * 64))


def _upgrade_1(conn: Connection, tables: Tables) -> None:
    """Move to version 2: new tables only, which ``create_all`` has just created.

    (Sweep intents, requests, restrictions, agreements, staff and disclosures.)
    """


_UPGRADES = {0: _upgrade_0, 1: _upgrade_1}
"""Upgrade steps: ``_UPGRADES[n]`` moves a version-n database to n + 1."""
