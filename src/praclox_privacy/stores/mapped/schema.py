"""Checking a mapping against the live database schema (SQLAlchemy reflection).

Run before anything else touches a mapped database: an unknown table or column, an event
column that is not a date, a key that is not the primary key, a column that cannot be
cleared the way the mapping says: each is a :class:`~praclox_privacy.domain.errors.Problem`
naming the table and column, and the store refuses to open.
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...domain.errors import Problem
from ...domain.mapping import EraseMode, Mapping, TableMapping

__all__ = ["check_schema", "python_type", "reflect_tables"]


def python_type(column: Any) -> type | None:
    """Return the Python type of a reflected column's values, or ``None`` when unknown."""
    try:
        found: type = column.type.python_type
    except NotImplementedError:
        return None
    return found


def _is_temporal(column: Any) -> bool:
    kind = python_type(column)
    return kind is not None and issubclass(kind, dt.date)


def _is_text(column: Any) -> bool:
    return python_type(column) is str


def reflect_tables(engine: Engine, mapping: Mapping) -> dict[str, sa.Table]:
    """Reflect the mapped tables that exist (missing ones are left out)."""
    metadata = sa.MetaData()
    names = set(sa.inspect(engine).get_table_names())
    return {
        t.name: sa.Table(t.name, metadata, autoload_with=engine)
        for t in mapping.tables
        if t.name in names
    }


def _table_problems(at: str, table: TableMapping, reflected: sa.Table) -> list[Problem]:
    problems: list[Problem] = []
    cols = reflected.c
    name = table.name

    def column(where: str, col: str) -> Any:
        if col not in cols:
            problems.append(
                Problem(
                    where,
                    f"column {name}.{col} does not exist (the table has "
                    f"{', '.join(sorted(cols.keys()))})",
                    "unknown-column",
                )
            )
            return None
        return cols[col]

    key = column(f"{at}.key", table.key)
    if key is not None and [c.name for c in reflected.primary_key.columns] != [table.key]:
        problems.append(
            Problem(
                f"{at}.key",
                f"column {name}.{table.key} is not the table's single-column primary key",
                "not-primary-key",
            )
        )
    if table.subject is not None:
        column(f"{at}.subject", table.subject)
    if table.collected is not None:
        found = column(f"{at}.collected", table.collected)
        if found is not None and not _is_temporal(found):
            problems.append(
                Problem(
                    f"{at}.collected",
                    f"column {name}.{table.collected} is {found.type}: the collected column "
                    "must be a DATE or DATETIME",
                    "type-mismatch",
                )
            )
    for kind, col in sorted(table.identities.items()):
        column(f"{at}.identities.{kind}", col)
    for event, col in sorted(table.events.items()):
        found = column(f"{at}.events.{event}", col)
        if found is not None and not _is_temporal(found):
            problems.append(
                Problem(
                    f"{at}.events.{event}",
                    f"column {name}.{col} is {found.type}: an event column must be a DATE or "
                    "DATETIME",
                    "type-mismatch",
                )
            )
    for col in sorted(table.references):
        column(f"{at}.references.{col}", col)
    structural = {table.key, table.subject_column, *table.references}
    for col, mapped in sorted(table.columns.items()):
        where = f"{at}.columns.{col}"
        found = column(where, col)
        if found is None:
            continue
        if col in structural:
            problems.append(
                Problem(
                    where,
                    f"column {name}.{col} is a key or reference: it cannot hold mapped data "
                    "(it would be cleared on erasure)",
                    "structural-column",
                )
            )
            continue
        if found.nullable:
            continue
        if mapped.erase is EraseMode.NULL:
            problems.append(
                Problem(
                    f"{where}.erase",
                    f"column {name}.{col} is NOT NULL: it cannot be set to NULL on erasure "
                    "(use erase = 'anonymise' for text, or make the column nullable)",
                    "not-nullable",
                )
            )
        elif not _is_text(found):
            problems.append(
                Problem(
                    where,
                    f"column {name}.{col} is NOT NULL {found.type}: when its row stays (a "
                    "reference target, a partial erasure) it can be neither set to NULL nor "
                    "anonymised",
                    "not-nullable",
                )
            )
    return problems


def check_schema(engine: Engine, mapping: Mapping) -> list[Problem]:
    """Return every mismatch between ``mapping`` and the live schema behind ``engine``.

    Locations are the mapping's keys (``table[1].events.rejected``); messages name the
    table and column. Reads the schema only.
    """
    problems: list[Problem] = []
    existing = set(sa.inspect(engine).get_table_names())
    reflected = reflect_tables(engine, mapping)
    for index, table in enumerate(mapping.tables):
        at = f"table[{index}]"
        if table.name not in existing:
            problems.append(
                Problem(
                    f"{at}.name",
                    f"table {table.name!r} does not exist in the database",
                    "unknown-table",
                )
            )
            continue
        problems.extend(_table_problems(at, table, reflected[table.name]))
    return problems
