"""Mappings of existing database tables onto the policy (pure; no I/O).

A company's own tables (a website's users, an applicants table, a client administration)
hold personal data the policy governs. A :class:`Mapping` says, per table, which relation
type its rows' subjects hold, which column identifies the subject, which columns are
identities (to find a person by e-mail or customer number), which hold data of which
category, which hold lifecycle events, how tables reference each other, and what erasure
does. The ``sql-mapped`` store (``praclox_privacy.stores.mapped``) enforces the policy on
those tables in place.

Two kinds of table:

* a **subject table** names a ``relation_type``: every row is one subject, identified by
  its ``subject`` column (default: the ``key``); the subject's id in the ledger is
  ``subject_prefix`` + that value (default prefix: the table's name and ``-``);
* an **owned table** names no relation type: its ``subject`` column references a subject
  table (listed in ``references``), and each row is data of that subject (a client's
  invoices).
"""

import enum
import re
from collections.abc import Iterator
from typing import Any

import attrs

from .errors import InvalidValue, Problem
from .policy import COLLECTED, Policy
from .records import check_subject_id

__all__ = [
    "ColumnMapping",
    "EraseMode",
    "Mapping",
    "TableMapping",
    "check_mapping",
]

_SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def _sql_name(instance: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
    if not isinstance(value, str) or not _SQL_NAME.fullmatch(value):
        raise InvalidValue(
            attribute.name,
            f"{value!r} is not a plain SQL name (letters, digits, '_' or '$', not starting "
            "with a digit, at most 63 characters)",
        )


def _optional_sql_name(instance: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
    if value is not None:
        _sql_name(instance, attribute, value)


def _names_dict(instance: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
    assert isinstance(value, dict)
    for key, column in value.items():
        if not isinstance(column, str) or not _SQL_NAME.fullmatch(column):
            raise InvalidValue(f"{attribute.name}.{key}", f"{column!r} is not a plain SQL name")


class EraseMode(enum.StrEnum):
    """What erasing a row's data does in a mapped table."""

    DELETE = "delete"
    """Delete the row (when it is no other row's reference target; otherwise clear it)."""
    NULL = "null"
    """Set the mapped columns to NULL; the row stays."""
    ANONYMISE = "anonymise"
    """Replace text values with ``[anonymised]`` (and others with NULL); the row stays."""


@attrs.frozen
class ColumnMapping:
    """A column holding personal data of one category.

    :ivar category: the policy's data category.
    :ivar field: the field name shown in access reports (default: the column's name).
    :ivar erase: ``null`` or ``anonymise`` to clear this column instead of the table's mode.
    """

    category: str
    field: str | None = None
    erase: EraseMode | None = attrs.field(default=None)

    @erase.validator
    def _check_erase(self, attribute: "attrs.Attribute[Any]", value: EraseMode | None) -> None:
        if value is EraseMode.DELETE:
            raise InvalidValue(
                attribute.name, "a column is cleared ('null' or 'anonymise'); only a table deletes"
            )


@attrs.frozen(eq=False)
class TableMapping:
    """How one table maps onto the policy; see the module documentation.

    :ivar name: the table's name in the database.
    :ivar key: the column that identifies a row (its primary key).
    :ivar relation_type: for a subject table, the relation type its subjects hold.
    :ivar subject: the column identifying the row's subject (default: ``key``); in an
        owned table, a column listed in ``references``.
    :ivar subject_prefix: prefixed to the subject column's value to form the subject id.
    :ivar collected: a date or date-time column: when the row's data was collected.
    :ivar identities: identity kind (``email``, ``customer_number``, ...) -> column.
    :ivar events: lifecycle event -> date or date-time column (NULL: not happened).
    :ivar references: column -> the mapped table whose ``key`` it references.
    :ivar erase: what erasing the row's data does.
    :ivar columns: column -> the category (and field) of the data it holds.
    """

    name: str = attrs.field(validator=_sql_name)
    columns: dict[str, ColumnMapping] = attrs.field(factory=dict)
    key: str = attrs.field(default="id", validator=_sql_name)
    relation_type: str | None = None
    subject: str | None = attrs.field(default=None, validator=_optional_sql_name)
    subject_prefix: str | None = None
    collected: str | None = attrs.field(default=None, validator=_optional_sql_name)
    identities: dict[str, str] = attrs.field(factory=dict, validator=_names_dict)
    events: dict[str, str] = attrs.field(factory=dict, validator=_names_dict)
    references: dict[str, str] = attrs.field(factory=dict)
    erase: EraseMode = EraseMode.DELETE

    @property
    def is_subject_table(self) -> bool:
        """Whether each row is a subject (the table names a relation type)."""
        return self.relation_type is not None

    @property
    def subject_column(self) -> str:
        """The column identifying the row's subject."""
        return self.subject or self.key

    @property
    def prefix(self) -> str:
        """The prefix of this table's subject ids (subject tables only)."""
        return self.subject_prefix if self.subject_prefix is not None else f"{self.name}-"

    def field_of(self, column: str) -> str:
        """Return the field name of mapped ``column``."""
        return self.columns[column].field or column

    def erase_mode(self, column: str) -> EraseMode:
        """Return how ``column`` is cleared when its row stays."""
        own = self.columns[column].erase
        if own is not None:
            return own
        return EraseMode.NULL if self.erase is EraseMode.DELETE else self.erase


@attrs.frozen(eq=False)
class Mapping:
    """Every mapped table of one database.

    :ivar timezone: the zone of date and naive date-time columns (default ``UTC``).
    """

    tables: tuple[TableMapping, ...] = ()
    timezone: str = "UTC"

    def table(self, name: str) -> TableMapping:
        """Return the mapping of table ``name``.

        :raises KeyError: when it is not mapped.
        """
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"table {name!r} is not mapped")

    def owner_of(self, table: TableMapping) -> TableMapping:
        """Return the subject table whose subjects own ``table``'s rows (itself, if one)."""
        if table.is_subject_table:
            return table
        return self.table(table.references[table.subject_column])

    def subject_tables(self) -> Iterator[TableMapping]:
        """Yield the subject tables."""
        return (t for t in self.tables if t.is_subject_table)

    def owned_by(self, owner: TableMapping) -> Iterator[TableMapping]:
        """Yield ``owner`` and every owned table whose rows belong to its subjects."""
        yield owner
        for table in self.tables:
            if table.is_subject_table:
                continue
            try:
                if self.owner_of(table) is owner:
                    yield table
            except KeyError:
                continue  # an invalid reference, reported by check_mapping

    def referencing(self, target: TableMapping) -> Iterator[tuple[TableMapping, str]]:
        """Yield ``(table, column)`` for every mapped reference to ``target``'s key."""
        for table in self.tables:
            for column, name in sorted(table.references.items()):
                if name == target.name:
                    yield table, column


def _subject_table_problems(
    at: str, table: TableMapping, mapping: Mapping, policy: Policy
) -> Iterator[Problem]:
    assert table.relation_type is not None
    try:
        relation = policy.relation_type(table.relation_type)
    except KeyError:
        yield Problem(
            f"{at}.relation_type",
            f"relation type {table.relation_type!r} is not declared in the policy",
            "unknown-relation-type",
        )
        return
    try:
        check_subject_id(f"{table.prefix}1")
    except InvalidValue:
        yield Problem(
            f"{at}.subject_prefix",
            f"{table.prefix!r} cannot start a subject id (letters, digits or '._@+-', "
            "starting with a letter or digit)",
            "invalid-prefix",
        )
    for event in sorted(table.events):
        if event == COLLECTED:
            yield Problem(
                f"{at}.events.{event}",
                "'collected' is the row's own instant: map it with the table's 'collected' key",
                "collected-event",
            )
            continue
        try:
            policy.event(event)
        except KeyError:
            yield Problem(
                f"{at}.events.{event}",
                f"lifecycle event {event!r} is not declared in the policy",
                "unknown-event",
            )
    for column, target in sorted(table.references.items()):
        if column == table.subject_column:
            yield Problem(
                f"{at}.references.{column}",
                "a subject table's subject column cannot reference another table",
                "invalid-reference",
            )
        try:
            other = mapping.table(target)
        except KeyError:
            continue  # reported by the caller
        if (
            relation.belongs_to
            and other.relation_type is not None
            and other.relation_type not in relation.belongs_to
        ):
            yield Problem(
                f"{at}.references.{column}",
                f"a {table.relation_type} belongs to a {' or '.join(relation.belongs_to)}, "
                f"not to a {other.relation_type} (table {target!r})",
                "invalid-reference",
            )


def _column_problems(
    at: str, table: TableMapping, relation_type: str | None, policy: Policy
) -> Iterator[Problem]:
    for column, mapped in sorted(table.columns.items()):
        where = f"{at}.columns.{column}"
        if not _SQL_NAME.fullmatch(column):
            yield Problem(where, f"{column!r} is not a plain SQL name", "invalid-value")
        try:
            category = policy.category(mapped.category)
        except KeyError:
            yield Problem(
                f"{where}.category",
                f"category {mapped.category!r} is not declared in the policy",
                "unknown-category",
            )
            continue
        if category.ephemeral:
            yield Problem(
                f"{where}.category",
                f"category {mapped.category!r} is ephemeral: it is never stored",
                "ephemeral-category",
            )
        if relation_type is not None and not policy.declares(relation_type, mapped.category):
            yield Problem(
                f"{where}.category",
                f"category {mapped.category!r} is not declared for relation type {relation_type!r}",
                "undeclared-category",
            )
            continue
        if relation_type is None:
            continue
        for rule in policy.rules_for(relation_type, mapped.category):
            if COLLECTED in rule.after and table.collected is None:
                yield Problem(
                    where,
                    f"retention rule {rule.id!r} counts from 'collected': the table needs a "
                    "'collected' column",
                    "no-collected-column",
                )


def check_mapping(mapping: Mapping, policy: Policy) -> list[Problem]:
    """Return every problem of ``mapping`` against ``policy`` (not the live schema).

    Checks: tables mapped once, subject tables' relation types, events and categories
    declared in the policy (and declared for the relation type), prefixes that form valid
    and unambiguous subject ids, references to mapped tables, owned tables whose subject
    column references a subject table, and retention rules that can be evaluated (a rule
    counted from an event needs that event's column in the subject table; one counted
    from ``collected`` needs a ``collected`` column).
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(mapping.tables):
        at = f"table[{index}]"
        if table.name in seen:
            problems.append(
                Problem(
                    f"{at}.name",
                    f"table {table.name!r} is mapped twice (also table[{seen[table.name]}])",
                    "duplicate-table",
                )
            )
            continue
        seen[table.name] = index
    names = set(seen)
    for index, table in enumerate(mapping.tables):
        at = f"table[{index}]"
        for column, target in sorted(table.references.items()):
            if target not in names:
                problems.append(
                    Problem(
                        f"{at}.references.{column}",
                        f"table {target!r} is not mapped",
                        "unknown-table",
                    )
                )
                continue
            other = mapping.table(target)
            if other.is_subject_table and other.subject_column != other.key:
                problems.append(
                    Problem(
                        f"{at}.references.{column}",
                        f"table {target!r} identifies its subjects by {other.subject_column!r}, "
                        f"not by its key {other.key!r}: a reference to it must find the "
                        "subject, so a referenced subject table's subject is its key",
                        "invalid-reference",
                    )
                )
        relation_type = table.relation_type
        if table.is_subject_table:
            problems.extend(_subject_table_problems(at, table, mapping, policy))
            if relation_type not in {r.id for r in policy.relation_types}:
                relation_type = None
        else:
            problems.extend(_owned_table_problems(at, table, mapping))
            try:
                relation_type = mapping.owner_of(table).relation_type
            except KeyError:
                relation_type = None
        if not table.columns:
            problems.append(
                Problem(f"{at}.columns", "no column is mapped to a category", "no-columns")
            )
        problems.extend(_column_problems(at, table, relation_type, policy))
        if table.is_subject_table and relation_type is not None:
            problems.extend(_rule_event_problems(at, table, mapping, policy))
    problems.extend(_prefix_problems(mapping))
    return problems


def _owned_table_problems(at: str, table: TableMapping, mapping: Mapping) -> Iterator[Problem]:
    if table.subject is None:
        yield Problem(
            at,
            "a table without 'relation_type' holds data of another table's subjects: name "
            "that column in 'subject' and list it in 'references'",
            "no-subject",
        )
        return
    target = table.references.get(table.subject)
    if target is None:
        yield Problem(
            f"{at}.subject",
            f"column {table.subject!r} must be listed in 'references' (the subject table it "
            "points to)",
            "no-subject",
        )
        return
    try:
        owner = mapping.table(target)
    except KeyError:
        return
    if not owner.is_subject_table:
        yield Problem(
            f"{at}.references.{table.subject}",
            f"table {target!r} has no relation_type: an owned table's subject column must "
            "reference a subject table",
            "invalid-reference",
        )
    for key in ("subject_prefix",):
        if getattr(table, key) is not None:
            yield Problem(f"{at}.{key}", "only a subject table forms subject ids", "invalid")
    if table.events:
        yield Problem(
            f"{at}.events",
            "lifecycle events are read from the subject table; map them there",
            "invalid",
        )


def _rule_event_problems(
    at: str, table: TableMapping, mapping: Mapping, policy: Policy
) -> Iterator[Problem]:
    assert table.relation_type is not None
    categories = {c.category for t in mapping.owned_by(table) for c in t.columns.values()}
    for category in sorted(categories):
        if not policy.declares(table.relation_type, category):
            continue
        for rule in policy.rules_for(table.relation_type, category):
            if COLLECTED in rule.after:
                continue
            if not any(e in table.events for e in rule.after):
                wanted = " or ".join(repr(e) for e in rule.after)
                yield Problem(
                    f"{at}.events",
                    f"retention rule {rule.id!r} (category {category!r}) counts from {wanted}: "
                    "map that event to a column",
                    "no-event-column",
                )


def _prefix_problems(mapping: Mapping) -> Iterator[Problem]:
    tables = list(enumerate(mapping.tables))
    for i, a in tables:
        if not a.is_subject_table:
            continue
        for j, b in tables:
            if j <= i or not b.is_subject_table:
                continue
            if a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix):
                yield Problem(
                    f"table[{j}].subject_prefix",
                    f"subject prefix {b.prefix!r} of table {b.name!r} and {a.prefix!r} of table "
                    f"{a.name!r} overlap: a subject id must name one table",
                    "ambiguous-prefix",
                )
