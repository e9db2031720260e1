"""The SQL store: items in one table, written and erased with set-based statements."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import mysql, postgresql, sqlite

from ...domain.policy import Policy, RetentionAction
from ...domain.records import Item, ItemKey
from ...ports import (
    ANONYMISED,
    Capabilities,
    DueQuery,
    ErasedItems,
    Health,
    RelationTypesOf,
    StoreContext,
    StoreError,
    WriteRefused,
    check_storable,
)
from . import SqlSettings
from .database import SqlDatabase

__all__ = ["SqlStore"]

_T = TypeVar("_T")
_CHUNK = 500
"""Subject ids or keys per IN list: bounded statements, well under every driver's limit."""
_ANALYZE_AFTER = 10_000
"""Bulk writes of at least this many items refresh the planner's statistics."""


def _chunks(values: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class SqlStore:
    """Items in the ``<prefix>items`` table of an SQL database."""

    def __init__(self, db: SqlDatabase, policy: Policy, name: str) -> None:
        self.name = name
        self.database = db
        self._policy = policy
        self._t = db.tables.items
        self._upsert = self._make_upsert()

    @classmethod
    def open(cls, settings: SqlSettings, context: StoreContext) -> "SqlStore":
        """Connect, create or upgrade the schema, and return the store."""
        db = SqlDatabase.connect(settings, context.base_dir, context.name)
        return cls(db, context.policy, context.name)

    def _make_upsert(self) -> Any:
        t = self._t
        dialect = self.database.dialect
        if dialect in ("mysql", "mariadb"):
            my = mysql.insert(t)
            return my.on_duplicate_key_update(
                value=my.inserted.value,
                collected_at=my.inserted.collected_at,
                purposes=my.inserted.purposes,
            )
        stmt: Any = postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)
        return stmt.on_conflict_do_update(
            index_elements=[t.c.subject_id, t.c.category, t.c.field],
            set_={
                "value": stmt.excluded.value,
                "collected_at": stmt.excluded.collected_at,
                "purposes": stmt.excluded.purposes,
            },
        )

    # -- the contract ------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Return what this store supports: everything, in transactions."""
        return Capabilities()

    def health(self) -> Health:
        """Return whether the database answers; never raises."""
        try:
            with self.database.begin() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(self._t)).scalar()
        except StoreError as error:
            return Health(False, str(error))
        return Health(True, f"{self.database.where}: {count} items")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Upsert ``items`` in batches inside one transaction; all or nothing."""
        if self.database.dialect == "sqlite":
            return self._write_sqlite(items, relation_types)
        cache: dict[str, frozenset[str]] = {}
        count = 0
        with self.database.begin() as conn:
            batch: dict[tuple[str, str, str], dict[str, Any]] = {}
            for index, item in enumerate(items):
                subject = item.subject_id
                types = cache.get(subject)
                if types is None:
                    types = cache[subject] = relation_types(subject)
                reason = check_storable(item, types, self._policy)
                if reason is not None:
                    raise WriteRefused(index, item.key, reason)
                batch[(subject, item.category, item.field)] = {
                    "subject_id": subject,
                    "category": item.category,
                    "field": item.field,
                    "value": item.value,
                    "collected_at": item.collected_at,
                    "purposes": ",".join(item.purposes),
                }
                count += 1
                if len(batch) >= self.database.batch_size:
                    conn.execute(self._upsert, list(batch.values()))
                    batch.clear()
            if batch:
                conn.execute(self._upsert, list(batch.values()))
        if count >= _ANALYZE_AFTER:
            with self.database.begin() as conn:
                self.database.refresh_statistics(conn)
        return count

    def _write_sqlite(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Bulk upsert for SQLite through the driver's ``executemany``.

        The statement is SQLAlchemy's own upsert, compiled once; the rows are plain tuples
        with instants in the text form SQLAlchemy's SQLite ``DateTime`` reads and compares.
        Skipping SQLAlchemy's per-row parameter processing halves the time of a large
        import, and SQLite applies duplicate keys in order, so no de-duplication is needed.
        """
        sql = self._sqlite_upsert_sql()
        policy = self._policy
        cache: dict[str, frozenset[str]] = {}
        count = 0
        size = self.database.batch_size
        with self.database.begin() as conn:
            rows: list[tuple[str, str, str, str, str, str]] = []
            for index, item in enumerate(items):
                subject = item.subject_id
                types = cache.get(subject)
                if types is None:
                    types = cache[subject] = relation_types(subject)
                reason = check_storable(item, types, policy)
                if reason is not None:
                    raise WriteRefused(index, item.key, reason)
                at = item.collected_at.astimezone(UTC).replace(tzinfo=None)
                rows.append(
                    (
                        subject,
                        item.category,
                        item.field,
                        item.value,
                        at.isoformat(" ", "microseconds"),
                        ",".join(item.purposes),
                    )
                )
                count += 1
                if len(rows) >= size:
                    conn.exec_driver_sql(sql, rows)
                    rows = []
            if rows:
                conn.exec_driver_sql(sql, rows)
            if count >= _ANALYZE_AFTER:
                self.database.refresh_statistics(conn)
        return count

    def _sqlite_upsert_sql(self) -> str:
        compiled = self._upsert.compile(dialect=self.database.engine.dialect)
        order = ["subject_id", "category", "field", "value", "collected_at", "purposes"]
        if list(compiled.positiontup or []) != order:  # pragma: no cover - SQLAlchemy change
            raise StoreError(f"unexpected parameter order {compiled.positiontup}")
        return str(compiled)

    def _item(self, row: Any) -> Item:
        return Item(
            row.subject_id,
            row.category,
            row.field,
            row.value,
            row.collected_at,
            tuple(p for p in row.purposes.split(",") if p),
        )

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id`` (one indexed query)."""
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(self._t).where(self._t.c.subject_id == subject_id))
            found = [self._item(row) for row in rows]
        return sorted(found, key=lambda i: (i.category, i.field))

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one item."""
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(self._t.c.subject_id).distinct()).scalars().all()
        yield from rows

    def categories_held(self) -> Mapping[str, int]:
        """Return how many items the store holds per category (one grouped query)."""
        t = self._t
        with self.database.begin() as conn:
            rows = conn.execute(sa.select(t.c.category, sa.func.count()).group_by(t.c.category))
            return {str(category): int(count) for category, count in rows}

    def _conditions(self, query: DueQuery, subjects: Sequence[str] | None) -> list[Any]:
        t = self._t
        conditions = [t.c.category.in_(sorted(query.categories)), t.c.value != ANONYMISED]
        if subjects is not None:
            conditions.append(t.c.subject_id.in_(subjects))
        if query.collected_before is not None:
            conditions.append(t.c.collected_at < query.collected_before)
        return conditions

    def _subject_chunks(self, query: DueQuery) -> Iterator[Sequence[str] | None]:
        if query.subject_ids is None:
            yield None
        else:
            yield from _chunks(sorted(query.subject_ids))

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys ``query`` selects; one statement per chunk of subjects."""
        t = self._t
        keys: list[ItemKey] = []
        with self.database.begin() as conn:
            for subjects in self._subject_chunks(query):
                stmt = sa.select(t.c.subject_id, t.c.category, t.c.field).where(
                    *self._conditions(query, subjects)
                )
                keys.extend(ItemKey(*row) for row in conn.execute(stmt))
        yield from keys

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase or anonymise the items with ``keys``; one statement per chunk of keys."""
        t = self._t
        unique = sorted({(k.subject_id, k.category, k.field) for k in keys})
        count = 0
        with self.database.begin() as conn:
            for chunk in _chunks(unique):
                # The subject condition lets SQLite use the primary key; a row-value IN
                # alone makes it scan the whole table.
                where = sa.and_(
                    t.c.subject_id.in_(sorted({k[0] for k in chunk})),
                    sa.tuple_(t.c.subject_id, t.c.category, t.c.field).in_(chunk),
                )
                if action is RetentionAction.ERASE:
                    count += conn.execute(t.delete().where(where)).rowcount
                else:
                    count += self._anonymise(conn, where)
        return count

    def _anonymise(self, conn: Connection, where: Any) -> int:
        # Count matched rows: MariaDB reports only *changed* ones, and an item that was
        # anonymised before still counts, as in the reference store.
        t = self._t
        matched = conn.execute(sa.select(sa.func.count()).select_from(t).where(where)).scalar()
        conn.execute(t.update().where(where).values(value=ANONYMISED))
        return int(matched or 0)

    def erase_due(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """Erase or anonymise what ``query`` selects, set-based.

        Per chunk of subjects: one statement finds whose items are due (``SELECT DISTINCT``,
        at most one row per subject) and one erases them, in the same transaction.
        """
        if self.database.dialect == "sqlite":
            return self._erase_due_sqlite(query, action)
        t = self._t
        count = 0
        subjects: set[str] = set()
        with self.database.begin() as conn:
            for chunk in self._subject_chunks(query):
                where = sa.and_(*self._conditions(query, chunk))
                subjects.update(
                    conn.execute(sa.select(t.c.subject_id).where(where).distinct()).scalars()
                )
                if action is RetentionAction.ERASE:
                    count += conn.execute(t.delete().where(where)).rowcount
                else:
                    count += conn.execute(t.update().where(where).values(value=ANONYMISED)).rowcount
        return ErasedItems(count, subjects)

    def _erase_due_sqlite(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """:meth:`erase_due` for SQLite through the driver, as the bulk write does.

        The same conditions as :meth:`_conditions`, written once as SQL with parameters:
        a sweep runs hundreds of these statements, each with hundreds of subject ids, and
        SQLAlchemy's per-statement parameter handling would cost more than SQLite's work.
        """
        table = self._t.name
        categories = sorted(query.categories)
        base = [f"category IN ({', '.join('?' * len(categories))})", "value != ?"]
        params: list[Any] = [*categories, ANONYMISED]
        if query.collected_before is not None:
            base.append("collected_at < ?")
            at = query.collected_before.astimezone(UTC).replace(tzinfo=None)
            params.append(at.isoformat(" ", "microseconds"))
        count = 0
        subjects: set[str] = set()
        with self.database.begin() as conn:
            for chunk in self._subject_chunks(query):
                conditions, values = list(base), list(params)
                if chunk is not None:
                    conditions.append(f"subject_id IN ({', '.join('?' * len(chunk))})")
                    values.extend(chunk)
                where = " AND ".join(conditions)
                found = conn.exec_driver_sql(
                    f"SELECT DISTINCT subject_id FROM {table} WHERE {where}", tuple(values)
                )
                subjects.update(row[0] for row in found)
                if action is RetentionAction.ERASE:
                    result = conn.exec_driver_sql(
                        f"DELETE FROM {table} WHERE {where}", tuple(values)
                    )
                else:
                    result = conn.exec_driver_sql(
                        f"UPDATE {table} SET value = ? WHERE {where}", (ANONYMISED, *values)
                    )
                count += result.rowcount
        return ErasedItems(count, subjects)

    def subjects_with_value(self, categories: Iterable[str], field: str, value: str) -> list[str]:
        """Return the subjects with an item ``field`` equal to ``value`` (ignoring case).

        One statement over the items table. The items are indexed by subject, so this
        reads the items of ``field`` in ``categories``; fine for an occasional identity
        lookup, not for bulk work.
        """
        t = self._t
        cats = sorted(set(categories))
        if not cats:
            return []
        stmt = (
            sa.select(t.c.subject_id)
            .where(
                t.c.category.in_(cats),
                t.c.field == field,
                sa.func.lower(t.c.value) == value.strip().lower(),
            )
            .distinct()
            .order_by(t.c.subject_id)
        )
        with self.database.begin() as conn:
            return list(conn.execute(stmt).scalars())

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key``; ``collected_at`` stays."""
        t = self._t
        where = sa.and_(
            t.c.subject_id == key.subject_id, t.c.category == key.category, t.c.field == key.field
        )
        with self.database.begin() as conn:
            row = conn.execute(sa.select(t).where(where)).first()
            if row is None:
                raise KeyError(f"no item {key} in store {self.name!r}")
            conn.execute(t.update().where(where).values(value=value))
            return attrs.evolve(self._item(row), value=value)

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.database.engine.dispose()
