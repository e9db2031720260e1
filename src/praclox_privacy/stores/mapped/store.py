"""The ``sql-mapped`` store: items, subjects and erasure read from and done on mapped tables.

Items are the non-empty mapped columns of a subject's rows: in its subject table the
item's field is the column's field name; in an owned table it is ``field [table#key]``,
so each row's values stay apart. Nothing is ever copied out of the database except to
answer a call. Writes are refused: the application owns its tables.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import sqlalchemy as sa
from sqlalchemy import Connection, exc
from sqlalchemy.engine import Engine

from ...domain.errors import InvalidValue, MappingError
from ...domain.mapping import EraseMode, TableMapping
from ...domain.mapping import Mapping as TableMap
from ...domain.policy import Policy, RetentionAction
from ...domain.records import Consent, Item, ItemKey, Subject, SubjectEvent, check_subject_id
from ...formats.mapping import load_mapping_file
from ...ports import (
    ANONYMISED,
    BatchDone,
    Capabilities,
    DueQuery,
    ErasedItems,
    Health,
    InPlacePlan,
    InPlaceStep,
    RelationTypesOf,
    StoreContext,
    StoreError,
    StoreUnavailable,
)
from ..sql.database import resolve_url, sqlite_transactions
from . import MappedSettings
from .schema import check_schema, python_type, reflect_tables

__all__ = ["EPOCH", "KeptRow", "MappedStore"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The collection instant of data in a table without a ``collected`` column."""

_OWNED_FIELD = re.compile(r"^(?P<field>.+) \[(?P<table>[A-Za-z_][A-Za-z0-9_$]*)#(?P<key>[^\]]+)\]$")
_CHUNK = 500


@attrs.frozen
class KeptRow:
    """A row whose data was cleared but which stayed, because other rows reference it."""

    table: str
    key: str
    referenced_by: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.table}#{self.key} kept (its mapped columns cleared): referenced by "
            f"{', '.join(self.referenced_by)}"
        )


def _reason(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


class MappedStore:
    """An existing database's tables, mapped onto the policy (see the module docs)."""

    def __init__(
        self,
        name: str,
        engine: Engine,
        mapping: TableMap,
        tables: dict[str, sa.Table],
        references: dict[str, list[tuple[str, str]]],
        policy: Policy,
        batch_size: int,
        source: str,
    ) -> None:
        self.name = name
        self.engine = engine
        self.mapping = mapping
        self.tables = tables
        self.policy = policy
        self.batch_size = batch_size
        self.source = source
        self.tz = ZoneInfo(mapping.timezone)
        self.kept_rows: list[KeptRow] = []
        """Rows the last :meth:`erase` cleared instead of deleting (reference targets)."""
        self._references = references

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, settings: MappedSettings, context: StoreContext) -> "MappedStore":
        """Load the mapping, check it against the live schema, and return the store.

        :raises MappingError: naming the table and column of every mismatch; nothing was
            written.
        :raises StoreUnavailable: when the database cannot be reached.
        """
        path = Path(context.base_dir) / settings.mapping
        mapping = load_mapping_file(path, context.policy)
        try:
            url = resolve_url(settings.url, context.base_dir, settings.password_env)
        except StoreUnavailable as error:
            raise StoreUnavailable(f"store {context.name!r}: {error}") from None
        try:
            engine = sa.create_engine(
                url, **({} if url.get_backend_name() == "sqlite" else {"pool_pre_ping": True})
            )
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            raise StoreError(f"store {context.name!r}: unusable database URL: {error}") from None
        if url.get_backend_name() == "sqlite":
            sqlite_transactions(engine, wal=False)
        where = url.render_as_string(hide_password=True)
        try:
            problems = check_schema(engine, mapping)
            if problems:
                raise MappingError(problems, f"{path} (against {where})")
            tables = reflect_tables(engine, mapping)
            references = _references(engine, mapping)
        except exc.DBAPIError as error:
            engine.dispose()
            raise StoreUnavailable(
                f"store {context.name!r}: cannot reach {where}: {_reason(error)}"
            ) from None
        except MappingError:
            engine.dispose()
            raise
        return cls(
            context.name,
            engine,
            mapping,
            tables,
            references,
            context.policy,
            settings.batch_size,
            str(path),
        )

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Open a transaction on the mapped database; commit on success.

        :raises StoreUnavailable: when the database cannot be reached.
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except exc.OperationalError as error:
            if error.connection_invalidated or "connect" in _reason(error).lower():
                raise StoreUnavailable(
                    f"store {self.name!r}: cannot reach the database: {_reason(error)}"
                ) from None
            raise StoreError(f"store {self.name!r}: {_reason(error)}") from None
        except exc.DBAPIError as error:
            raise StoreError(f"store {self.name!r}: {_reason(error)}") from None

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()

    def capabilities(self) -> Capabilities:
        """Everything but writes: the application owns its tables."""
        return Capabilities(
            write=False,
            categories_checked=True,
            notes=(
                "writes are refused: the application writes its own tables",
                "erasure deletes a row only when no other row references it; otherwise "
                "its mapped columns are cleared",
            ),
        )

    def health(self) -> Health:
        """Whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except exc.DBAPIError as error:
            return Health(False, _reason(error))
        return Health(True, f"{len(self.mapping.tables)} mapped tables")

    # -- conversions -----------------------------------------------------------------

    def table(self, name: str) -> tuple[TableMapping, sa.Table]:
        """Return the mapping and reflected table of ``name``."""
        return self.mapping.table(name), self.tables[name]

    def instant(self, value: object) -> datetime | None:
        """Return a column value as an aware instant (dates at midnight in the zone)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)
        if isinstance(value, dt.date):
            return datetime.combine(value, dt.time(), self.tz)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=self.tz)
        raise TypeError(f"not a date or date-time: {value!r}")

    def before(self, column: Any, cutoff: datetime) -> Any:
        """Return the condition "``column``'s instant is before ``cutoff``" in its own type."""
        kind = python_type(column)
        if kind is not None and issubclass(kind, datetime):
            if getattr(column.type, "timezone", False):
                return column < cutoff
            return column < cutoff.astimezone(self.tz).replace(tzinfo=None)
        local = cutoff.astimezone(self.tz)
        if local.time() == dt.time() and local.tzinfo is not None:
            return column < local.date()
        return column <= local.date()

    def subject_id(self, owner: TableMapping, value: object) -> str | None:
        """Return the subject id of ``value`` in subject table ``owner`` (``None``: unusable)."""
        if value is None:
            return None
        try:
            return check_subject_id(f"{owner.prefix}{value}")
        except InvalidValue:
            return None

    def subject_ids_of(self, owner: TableMapping, values: Sequence[object]) -> list[str]:
        """Return the subject ids of many subject column values (unusable ones left out).

        Integers need no check: the prefix was checked when the mapping was loaded.
        """
        column = self.tables[owner.name].c[owner.subject_column]
        if python_type(column) is int and None not in values:
            return list(map(f"{owner.prefix}{{}}".format, values))
        return [s for s in (self.subject_id(owner, v) for v in values) if s is not None]

    def parse_subject(self, subject_id: str) -> tuple[TableMapping, Any] | None:
        """Return the subject table and subject column value of ``subject_id``."""
        for owner in self.mapping.subject_tables():
            if subject_id.startswith(owner.prefix):
                raw = subject_id[len(owner.prefix) :]
                value = self.typed_value(owner, owner.subject_column, raw)
                return None if value is None else (owner, value)
        return None

    def typed_value(self, table: TableMapping, column: str, raw: str) -> Any:
        """Return ``raw`` as a value of ``column`` (``None``: it cannot be one)."""
        kind = python_type(self.tables[table.name].c[column])
        if kind is int:
            try:
                return int(raw)
            except ValueError:
                return None
        return raw

    def _text(self, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime | dt.date):
            return value.isoformat()
        if isinstance(value, bytes):
            return f"<{len(value)} bytes>"
        text = str(value)
        return text if text.strip() else None

    def _field(self, table: TableMapping, column: str, key: object) -> str:
        field = table.field_of(column)
        return field if table.is_subject_table else f"{field} [{table.name}#{key}]"

    def _locate(self, key: ItemKey) -> tuple[TableMapping, Any, str] | None:
        """Return the table, key value and column of item ``key`` (``None``: not mapped)."""
        parsed = self.parse_subject(key.subject_id)
        if parsed is None:
            return None
        owner, subject_value = parsed
        match = _OWNED_FIELD.match(key.field)
        if match is not None:
            try:
                table = self.mapping.table(match["table"])
            except KeyError:
                return None
            if table.is_subject_table or self.mapping.owner_of(table) is not owner:
                return None
            field, row_key = match["field"], self.typed_value(table, table.key, match["key"])
        else:
            table, field, row_key = owner, key.field, None
        for column, mapped in table.columns.items():
            if mapped.category == key.category and table.field_of(column) == field:
                return table, (subject_value if row_key is None else row_key), column
        return None

    # -- reading ---------------------------------------------------------------------

    def _rows_of(
        self, conn: Connection, owner: TableMapping, value: object
    ) -> Iterator[tuple[TableMapping, Any]]:
        for table in self.mapping.owned_by(owner):
            t = self.tables[table.name]
            column = t.c[table.subject_column]
            for row in conn.execute(sa.select(t).where(column == value).order_by(t.c[table.key])):
                yield table, row

    def _items(self, subject_id: str, table: TableMapping, row: Any) -> Iterator[Item]:
        collected = (
            self.instant(getattr(row, table.collected)) if table.collected else None
        ) or EPOCH
        key = getattr(row, table.key)
        for column, mapped in sorted(table.columns.items()):
            text = self._text(getattr(row, column))
            if text is not None:
                yield Item(
                    subject_id,
                    mapped.category,
                    self._field(table, column, key),
                    text,
                    collected,
                )

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id`` in its subject table and owned tables."""
        parsed = self.parse_subject(subject_id)
        if parsed is None:
            return []
        owner, value = parsed
        with self.begin() as conn:
            items = [
                item
                for table, row in self._rows_of(conn, owner, value)
                for item in self._items(subject_id, table, row)
            ]
        return sorted(items, key=lambda i: (i.category, i.field))

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one row in its subject table."""
        for owner in self.mapping.subject_tables():
            t = self.tables[owner.name]
            column = t.c[owner.subject_column]
            with self.begin() as conn:
                values = list(conn.execute(sa.select(column).order_by(column)).scalars())
            for value in values:
                subject_id = self.subject_id(owner, value)
                if subject_id is not None:
                    yield subject_id

    def categories_held(self) -> Mapping[str, int]:
        """Return how many non-empty mapped values each category has (one query a table)."""
        counts: dict[str, int] = {}
        with self.begin() as conn:
            for table in self.mapping.tables:
                t = self.tables[table.name]
                columns = sorted(table.columns)
                row = conn.execute(
                    sa.select(*(sa.func.count(self._holds(t.c[c])) for c in columns))
                ).one()
                for column, n in zip(columns, row, strict=True):
                    category = table.columns[column].category
                    counts[category] = counts.get(category, 0) + int(n)
        return {c: n for c, n in sorted(counts.items()) if n}

    def _holds(self, column: Any) -> Any:
        """Return an expression that is NULL unless ``column`` holds a (non-anonymised) value."""
        if python_type(column) is str:
            return sa.case((column == ANONYMISED, None), else_=column)
        return column

    # -- subjects (SubjectSource) ------------------------------------------------------

    def _subject_from_row(self, owner: TableMapping, row: Any) -> Subject | None:
        subject_id = self.subject_id(owner, getattr(row, owner.subject_column))
        if subject_id is None:
            return None
        assert owner.relation_type is not None
        events = []
        for name, column in sorted(owner.events.items()):
            at = self.instant(getattr(row, column))
            if at is not None:
                events.append(SubjectEvent(name, at))
        organisation = None
        belongs_to = self.policy.relation_type(owner.relation_type).belongs_to
        for column, target_name in sorted(owner.references.items()):
            target = self.mapping.table(target_name)
            value = getattr(row, column)
            if value is not None and target.relation_type in belongs_to:
                organisation = self.subject_id(target, value)
        return Subject(subject_id, {owner.relation_type}, events, organisation)

    def subject(self, subject_id: str) -> Subject | None:
        """Return the subject as its subject table says (relation type, events)."""
        parsed = self.parse_subject(subject_id)
        if parsed is None:
            return None
        owner, value = parsed
        t = self.tables[owner.name]
        with self.begin() as conn:
            row = conn.execute(
                sa.select(t).where(t.c[owner.subject_column] == value).limit(1)
            ).first()
        return None if row is None else self._subject_from_row(owner, row)

    def subjects(self) -> Iterator[Subject]:
        """Yield every subject of every subject table."""
        for owner in self.mapping.subject_tables():
            t = self.tables[owner.name]
            with self.begin() as conn:
                rows = list(conn.execute(sa.select(t).order_by(t.c[owner.key])))
            for row in rows:
                subject = self._subject_from_row(owner, row)
                if subject is not None:
                    yield subject

    def find_subjects(self, kind: str, value: str) -> list[str]:
        """Return the subjects whose identity column ``kind`` holds ``value``.

        E-mail addresses are compared ignoring case; other identities exactly.
        """
        found: set[str] = set()
        with self.begin() as conn:
            for owner in self.mapping.subject_tables():
                column_name = owner.identities.get(kind)
                if column_name is None:
                    continue
                t = self.tables[owner.name]
                column = t.c[column_name]
                if kind == "email":
                    condition = sa.func.lower(column) == value.strip().lower()
                else:
                    typed = self.typed_value(owner, column_name, value.strip())
                    if typed is None:
                        continue
                    condition = column == typed
                for subject_value in conn.execute(
                    sa.select(t.c[owner.subject_column]).where(condition)
                ).scalars():
                    subject_id = self.subject_id(owner, subject_value)
                    if subject_id is not None:
                        found.add(subject_id)
        return sorted(found)

    # -- changing --------------------------------------------------------------------

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Refuse: the application writes its own tables."""
        raise StoreError(
            f"store {self.name!r} is a mapped database: the application writes its own "
            "tables; nothing was written"
        )

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Set the mapped column of item ``key`` to ``value`` (converted to its type).

        :raises KeyError: when no such item exists.
        :raises StoreError: when ``value`` does not fit the column; nothing changed.
        """
        located = self._locate(key)
        if located is None:
            raise KeyError(f"no item {key} in store {self.name!r}")
        table, row_key, column = located
        t = self.tables[table.name]
        converted = self._convert(table, column, value)
        with self.begin() as conn:
            current = conn.execute(sa.select(t.c[column]).where(t.c[table.key] == row_key)).first()
            if current is None or self._text(current[0]) is None:
                raise KeyError(f"no item {key} in store {self.name!r}")
            conn.execute(t.update().where(t.c[table.key] == row_key).values({column: converted}))
            row = conn.execute(sa.select(t).where(t.c[table.key] == row_key)).one()
        item = next((i for i in self._items(key.subject_id, table, row) if i.key == key), None)
        assert item is not None
        return item

    def _convert(self, table: TableMapping, column: str, value: str) -> object:
        kind = python_type(self.tables[table.name].c[column])
        try:
            if kind is int:
                return int(value)
            if kind is datetime:
                return datetime.fromisoformat(value)
            if kind is dt.date:
                return dt.date.fromisoformat(value)
        except ValueError:
            raise StoreError(
                f"store {self.name!r}: {value!r} does not fit column {table.name}.{column} "
                f"({kind.__name__ if kind else 'unknown type'}); nothing changed"
            ) from None
        return value

    def clear_values(
        self, table: TableMapping, columns: Iterable[str], action: RetentionAction
    ) -> dict[str, object]:
        """Return the values that clear ``columns`` of ``table`` (NULL or anonymised)."""
        t = self.tables[table.name]
        values: dict[str, object] = {}
        for column in columns:
            mode = table.erase_mode(column)
            if action is RetentionAction.ANONYMISE and table.columns[column].erase is None:
                mode = EraseMode.ANONYMISE
            col = t.c[column]
            text = python_type(col) is str
            if (mode is EraseMode.ANONYMISE and text) or (not col.nullable and text):
                values[column] = ANONYMISED
            else:
                values[column] = None
        return values

    def referencing(self, table: TableMapping) -> list[tuple[str, str]]:
        """Return ``(table, column)`` pairs that reference ``table``'s key (mapped or FK)."""
        return self._references.get(table.name, [])

    def referenced_by(self, conn: Connection, table: TableMapping, key: object) -> list[str]:
        """Return ``table.column`` of every reference to row ``key`` of ``table``."""
        found = []
        for name, column in self.referencing(table):
            other = self.tables.get(name)
            if other is None:
                other = sa.Table(name, sa.MetaData(), autoload_with=conn)
            if conn.execute(
                sa.select(sa.literal(1)).where(other.c[column] == key).limit(1)
            ).first():
                found.append(f"{name}.{column}")
        return found

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase the items ``keys`` in one transaction; return how many held a value.

        A row whose every value goes is deleted when its table's erase mode is
        ``delete``, the action is ``erase`` and no other row references it; otherwise the
        erased columns are cleared (NULL or anonymised). Rows kept as reference targets
        are listed in :attr:`kept_rows`.
        """
        self.kept_rows = []
        rows: dict[tuple[str, Any], set[str]] = {}
        for key in keys:
            located = self._locate(key)
            if located is not None:
                table, row_key, column = located
                rows.setdefault((table.name, row_key), set()).add(column)
        count = 0
        with self.begin() as conn:
            for (name, row_key), columns in sorted(rows.items(), key=lambda kv: str(kv[0])):
                table, t = self.table(name)
                row = conn.execute(sa.select(t).where(t.c[table.key] == row_key)).first()
                if row is None:
                    continue
                holding = {
                    c
                    for c in table.columns
                    if self._text(getattr(row, c)) is not None and getattr(row, c) != ANONYMISED
                }
                erased = columns & holding
                if not erased:
                    continue
                count += len(erased)
                whole = holding <= columns
                blockers = (
                    self.referenced_by(conn, table, row_key)
                    if whole and table.erase is EraseMode.DELETE
                    else []
                )
                where = t.c[table.key] == row_key
                if (
                    whole
                    and table.erase is EraseMode.DELETE
                    and action is RetentionAction.ERASE
                    and not blockers
                ):
                    conn.execute(t.delete().where(where))
                    continue
                conn.execute(
                    t.update().where(where).values(self.clear_values(table, erased, action))
                )
                if blockers:
                    self.kept_rows.append(KeptRow(name, str(row_key), tuple(blockers)))
        return count

    # -- the sweep, in place (SweepsInPlace) ---------------------------------------------

    def plan_in_place(
        self,
        now: datetime,
        consents: Mapping[str, Sequence[Consent]],
        ledger_location: str,
    ) -> InPlacePlan:
        """Plan the set-based sweep of the mapped tables at ``now``.

        Subjects holding a consent that can extend retention are left out of the
        statements and returned to be judged one by one.

        :raises StoreError: when the mapped database is the ledger's own SQLite file
            (each batch holds the file's write lock while the ledger commits).
        """
        from . import sweeping

        ledger = sa.make_url(ledger_location)
        if (
            self.engine.url.get_backend_name() == "sqlite"
            and ledger.get_backend_name() == "sqlite"
            and self.engine.url.database == ledger.database
        ):
            raise StoreError(
                f"store {self.name!r} maps the ledger's own SQLite file ({ledger.database}); "
                "keep the ledger in a file of its own (the primary store's url)"
            )
        excluded = sweeping.extended_subjects(self, consents)
        alone = [s for group in excluded.values() for s in group]
        subjects = tuple(s for s in (self.subject(i) for i in alone) if s is not None)
        return InPlacePlan(tuple(sweeping.plan_tables(self, now, excluded)), subjects)

    def run_in_place(
        self,
        step: InPlaceStep,
        dry_run: bool,
        intent: Callable[[dict[str, Any]], int],
        done: Callable[[int, dict[str, Any]], None],
    ) -> Iterator[BatchDone]:
        """Run one table's statements in batches (see :mod:`.sweeping`)."""
        from . import sweeping

        if not isinstance(step, sweeping.TableSweep):
            raise TypeError(f"store {self.name!r} cannot run {step!r}")
        return sweeping.run_table(self, step, dry_run, intent, done)

    def recover_in_place(self, details: Mapping[str, Any]) -> BatchDone:
        """Finish a batch a killed sweep recorded as an intent (see :mod:`.sweeping`)."""
        from . import sweeping

        return sweeping.recover(self, details)

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys of the items ``query`` selects (subject by subject)."""
        ids = query.subject_ids if query.subject_ids is not None else self.subject_ids()
        for subject_id in sorted(ids):
            for item in self.items_of(subject_id):
                if query.matches(item):
                    yield item.key

    def erase_due(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """Erase what ``query`` selects (used when a sweep recovers an interrupted batch)."""
        keys: Sequence[ItemKey] = list(self.find_due(query))
        count = self.erase(keys, action) if keys else 0
        return ErasedItems(count, {k.subject_id for k in keys} if count else set())


def _references(engine: Engine, mapping: TableMap) -> dict[str, list[tuple[str, str]]]:
    """Return, per mapped table, the ``(table, column)`` pairs referencing its key."""
    inspector = sa.inspect(engine)
    found: dict[str, set[tuple[str, str]]] = {t.name: set() for t in mapping.tables}
    keys = {t.name: t.key for t in mapping.tables}
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            target = fk.get("referred_table")
            if (
                target in keys
                and fk.get("referred_columns") == [keys[target]]
                and len(fk.get("constrained_columns", [])) == 1
            ):
                found[target].add((name, fk["constrained_columns"][0]))
    for table in mapping.tables:
        for column, target in table.references.items():
            found[target].add((table.name, column))
    return {name: sorted(pairs) for name, pairs in found.items()}
