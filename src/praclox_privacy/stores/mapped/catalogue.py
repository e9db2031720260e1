"""A database's catalogue as plain values: its tables, columns and keys, read, never written.

``map suggest`` drafts a mapping from it (:mod:`.suggest`); SQLite files are opened
read-only (:func:`read_only_url`).
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["ReflectedColumn", "ReflectedTable", "read_catalogue", "read_only_url"]


@attrs.frozen
class ReflectedColumn:
    """A column as the database describes it.

    :ivar name: its name.
    :ivar type: its SQL type, as text (``VARCHAR(200)``).
    :ivar is_date: whether it holds dates or date-times (``DATE``, ``DATETIME``,
        ``TIMESTAMP``).
    :ivar is_text: whether it holds text.
    :ivar nullable: whether it may be NULL.
    """

    name: str
    type: str
    is_date: bool = False
    is_text: bool = False
    nullable: bool = True

    @property
    def clearable(self) -> bool:
        """Whether erasure can clear it when its row stays (nullable, or text to anonymise)."""
        return self.nullable or self.is_text


@attrs.frozen
class ReflectedTable:
    """A table as the database describes it.

    :ivar name: its name.
    :ivar columns: its columns, in the table's order.
    :ivar primary_key: the columns of its primary key (empty without one).
    :ivar foreign_keys: column -> (referred table, referred column), single-column keys only.
    """

    name: str
    columns: tuple[ReflectedColumn, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: dict[str, tuple[str, str]] = attrs.field(factory=dict)

    @property
    def key(self) -> str | None:
        """The single-column primary key, or ``None``."""
        return self.primary_key[0] if len(self.primary_key) == 1 else None


def read_only_url(url: "str | sa.URL") -> "sa.URL":
    """Return ``url``, opened read-only where the dialect allows it.

    An SQLite file becomes a ``file:`` URI with ``mode=ro`` (SQLite refuses every write,
    and a missing file is an error instead of a new empty database); other URLs are
    returned as they are.
    """
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or parsed.query.get("uri") == "true"
    ):
        return parsed
    path = Path(database).resolve()
    return parsed.set(
        database=f"file:{quote(str(path))}",
        query={**parsed.query, "mode": "ro", "uri": "true"},
    )


def _type_text(column_type: Any) -> str:
    try:
        return str(column_type)
    except Exception:  # a type the dialect cannot render still gets a name
        return type(column_type).__name__


def read_catalogue(engine: "sa.Engine", schema: str | None = None) -> list[ReflectedTable]:
    """Return every table of ``engine``'s database (of ``schema``), sorted by name.

    Reads the catalogue only (SQLAlchemy's inspector); writes nothing.
    """
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    tables: list[ReflectedTable] = []
    for name in sorted(inspector.get_table_names(schema=schema)):
        columns = tuple(
            ReflectedColumn(
                c["name"],
                _type_text(c["type"]),
                is_date=isinstance(c["type"], (sa.Date, sa.DateTime)),
                is_text=isinstance(c["type"], sa.String),
                nullable=bool(c.get("nullable", True)),
            )
            for c in inspector.get_columns(name, schema=schema)
        )
        primary = inspector.get_pk_constraint(name, schema=schema)
        foreign: dict[str, tuple[str, str]] = {}
        for fk in inspector.get_foreign_keys(name, schema=schema):
            constrained = fk["constrained_columns"]
            referred = fk["referred_columns"]
            if len(constrained) == 1 and len(referred) == 1:
                foreign.setdefault(constrained[0], (fk["referred_table"], referred[0]))
        tables.append(
            ReflectedTable(
                name,
                columns,
                tuple(primary.get("constrained_columns") or ()),
                foreign,
            )
        )
    return tables
