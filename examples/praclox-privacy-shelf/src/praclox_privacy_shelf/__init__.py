"""The ``shelf`` store: a third-party praclox-privacy store keeping items in one SQLite file.

It uses only the standard library's :mod:`sqlite3`, so it is an implementation of the
store contract independent of the built-in ``sql`` store. Enable it in a workspace with::

    [stores.main]
    plugin = "shelf"
    path = "data/shelf.sqlite3"   # relative to the workspace folder
"""

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from praclox_privacy.domain.policy import Policy, RetentionAction
from praclox_privacy.domain.records import Item, ItemKey
from praclox_privacy.hookspecs import hookimpl
from praclox_privacy.ports import (
    ANONYMISED,
    Capabilities,
    DueQuery,
    ErasedItems,
    Health,
    RelationTypesOf,
    StoreContext,
    StoreError,
    StoreKind,
    StoreUnavailable,
    WriteRefused,
    check_storable,
)

__all__ = ["ShelfSettings", "ShelfStore", "register_stores"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    subject_id   TEXT NOT NULL,
    category     TEXT NOT NULL,
    field        TEXT NOT NULL,
    value        TEXT NOT NULL,
    collected_at TEXT NOT NULL,  -- UTC, fixed format: text order is time order
    purposes     TEXT NOT NULL,  -- a JSON list of names
    PRIMARY KEY (subject_id, category, field)
);
CREATE INDEX IF NOT EXISTS items_due ON items (category, collected_at);
"""
_COLUMNS = "subject_id, category, field, value, collected_at, purposes"
_SLOTS = "?, ?, ?, ?, ?, ?"
_KEY = "subject_id = ? AND category = ? AND field = ?"


@attrs.frozen
class ShelfSettings:
    """The ``[stores.<name>]`` table of a workspace config for a ``shelf`` store."""

    path: str = "shelf.sqlite3"
    """The SQLite file, relative to the workspace folder (``StoreContext.base_dir``)."""


def _instant(at: datetime) -> str:
    # isoformat always pads the year to 4 digits; with a fixed offset (UTC) and fixed
    # precision (microseconds), comparing the text compares the instants.
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _row(item: Item) -> tuple[str, ...]:
    at, purposes = _instant(item.collected_at), json.dumps(list(item.purposes))
    return (item.subject_id, item.category, item.field, item.value, at, purposes)


def _item(row: sqlite3.Row) -> Item:
    at = datetime.fromisoformat(row["collected_at"]).replace(tzinfo=UTC)
    purposes = tuple(json.loads(row["purposes"]))
    return Item(row["subject_id"], row["category"], row["field"], row["value"], at, purposes)


def _due(query: DueQuery) -> tuple[str, list[Any]]:
    """Return the WHERE clause and parameters selecting exactly what ``query.matches``."""
    # json_each() takes a whole set as one parameter: no limit on its size, and an
    # empty set matches nothing, as in DueQuery.matches. (JSON is built into SQLite 3.38+.)
    where = "category IN (SELECT value FROM json_each(?)) AND value != ?"
    params: list[Any] = [json.dumps(sorted(query.categories)), ANONYMISED]
    if query.subject_ids is not None:
        where += " AND subject_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(query.subject_ids)))
    if query.collected_before is not None:
        where += " AND collected_at < ?"  # strictly before
        params.append(_instant(query.collected_before))
    return where, params


class ShelfStore:
    """Items in one SQLite file, one row per item; see :class:`praclox_privacy.ports.Store`."""

    def __init__(self, path: Path, policy: Policy, name: str = "shelf") -> None:
        self.name = name
        self._path = path
        self._policy = policy
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; _transaction() opens them.
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"store {name!r}: cannot open {path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction: committed at the end, rolled back on error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.name!r} ({self._path}): {exc}") from exc

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.name!r} ({self._path}): {exc}") from exc

    def capabilities(self) -> Capabilities:
        """Return what this store supports: everything."""
        return Capabilities(notes=("An example store: one SQLite file, standard library only.",))

    def health(self) -> Health:
        """Return whether the file can be read; never raises."""
        try:
            (count,) = self._db.execute("SELECT count(*) FROM items").fetchone()
        except sqlite3.Error as exc:
            return Health(False, f"{self._path}: {exc}")
        return Health(True, f"{count} items in {self._path}")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items`` (same key: replace) in one transaction; all or nothing."""
        count = 0
        with self._transaction() as db:
            for index, item in enumerate(items):
                reason = check_storable(item, relation_types(item.subject_id), self._policy)
                if reason is not None:
                    raise WriteRefused(index, item.key, reason)  # rolls back the transaction
                db.execute(
                    f"INSERT OR REPLACE INTO items ({_COLUMNS}) VALUES ({_SLOTS})", _row(item)
                )
                count += 1
        return count

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field."""
        # SQLite compares TEXT as UTF-8 bytes, which orders like Python's str comparison.
        sql = f"SELECT {_COLUMNS} FROM items WHERE subject_id = ? ORDER BY category, field"
        return [_item(row) for row in self._rows(sql, [subject_id])]

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one item, each once."""
        rows = self._rows("SELECT DISTINCT subject_id FROM items ORDER BY subject_id")
        yield from (row[0] for row in rows)

    def categories_held(self) -> Mapping[str, int]:
        """Return how many items the store holds per category."""
        rows = self._rows("SELECT category, count(*) FROM items GROUP BY category")
        return {row[0]: row[1] for row in rows}

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys of the items ``query`` selects, evaluated by SQLite."""
        where, params = _due(query)
        sql = f"SELECT subject_id, category, field FROM items WHERE {where} ORDER BY 1, 2, 3"
        yield from (ItemKey(*row) for row in self._rows(sql, params))

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase or anonymise the items with ``keys``; missing keys are skipped."""
        rows = [attrs.astuple(key) for key in set(keys)]
        with self._transaction() as db:
            if action is RetentionAction.ERASE:
                return db.executemany(f"DELETE FROM items WHERE {_KEY}", rows).rowcount
            anonymise = f"UPDATE items SET value = ? WHERE {_KEY}"
            return db.executemany(anonymise, [(ANONYMISED, *r) for r in rows]).rowcount

    def erase_due(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """Erase or anonymise every item ``query`` selects, in one transaction."""
        where, params = _due(query)
        with self._transaction() as db:
            subjects = [
                row[0] for row in db.execute(f"SELECT subject_id FROM items WHERE {where}", params)
            ]
            if action is RetentionAction.ERASE:
                db.execute(f"DELETE FROM items WHERE {where}", params)
            else:
                db.execute(f"UPDATE items SET value = ? WHERE {where}", [ANONYMISED, *params])
        return ErasedItems(len(subjects), set(subjects))

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key``; ``collected_at`` stays (retention runs on)."""
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE items SET value = ? WHERE {_KEY}", (value, *attrs.astuple(key))
            ).rowcount
        if not changed:
            raise KeyError(f"no item {key} in store {self.name!r}")
        sql = f"SELECT {_COLUMNS} FROM items WHERE {_KEY}"
        return _item(self._rows(sql, attrs.astuple(key))[0])

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()


def _factory(settings: ShelfSettings, context: StoreContext) -> ShelfStore:
    # An absolute ``path`` stays absolute: Path("/ws") / "/abs/x" is Path("/abs/x").
    return ShelfStore(Path(context.base_dir) / settings.path, context.policy, context.name)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``shelf`` store kind (the plugin hook praclox-privacy calls)."""
    register(
        StoreKind(
            name="shelf",
            factory=_factory,
            settings_type=ShelfSettings,
            description="Items in one SQLite file (an example third-party store).",
        )
    )
