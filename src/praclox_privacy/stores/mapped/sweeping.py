"""The set-based sweep of mapped tables: due rows found and erased by SQL statements.

Per table, a category's data is due when every retention rule covering it is due: the
rule's event columns (in the subject table) say the period has run, and the row's own
``collected`` column too (a period never starts before the data existed). Statements use
the table's own columns; no subject is loaded into Python, except those holding a consent
that extends retention: they are left out of the statements and judged one by one by the
domain's planner (:func:`~praclox_privacy.domain.sweep_plan.plan_sweep`).

Two phases per table:

1. **rows**: rows whose every category is due are deleted (erase mode ``delete``, action
   ``erase``, and no other row references them) or have their mapped columns cleared.
2. **columns**: where a table holds several categories, the columns of a category that is
   due while others are not are cleared.

Each batch (``batch_size`` rows, keyset order on the key) runs in one transaction of the
mapped database: its keys are selected, an *intent* listing them is committed in the
ledger, the rows are erased by statements bounded to the batch's key range and repeating
the due condition, and the count must match (or the batch rolls back). The caller then
records the erasure; a sweep that finds an intent left by a killed one finishes it.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import attrs
import sqlalchemy as sa

from ...domain.mapping import EraseMode, TableMapping
from ...domain.periods import start_cutoff
from ...domain.policy import COLLECTED, RetentionAction, RetentionRule
from ...domain.records import Consent
from ...ports import ANONYMISED, BatchDone, StoreError
from .schema import python_type
from .store import MappedStore

__all__ = ["TableSweep", "extended_subjects", "plan_tables", "recover", "run_table"]

ROWS = "rows"
COLUMNS = "columns"


@attrs.frozen
class TableSweep:
    """One statement family of a sweep: a table, a phase and what it erases.

    :ivar categories: the categories whose columns go (all of the table's, for ``rows``).
    :ivar columns: the columns cleared when a row stays.
    """

    table: str
    phase: str
    rules: tuple[str, ...]
    categories: tuple[str, ...]
    action: RetentionAction
    columns: tuple[str, ...]
    condition: Any = attrs.field(eq=False, repr=False)
    deletable: bool
    blocked: Any = attrs.field(eq=False, repr=False, default=None)
    unique_subjects: bool = False
    """Whether each row is a different subject (a subject table keyed by its subject)."""


def _extension_kinds(store: MappedStore, owner: TableMapping) -> set[str]:
    assert owner.relation_type is not None
    categories = {c.category for t in store.mapping.owned_by(owner) for c in t.columns.values()}
    return {
        r.consent_extension.consent_kind
        for c in categories
        for r in store.policy.rules_for(owner.relation_type, c)
        if r.consent_extension is not None
    }


def extended_subjects(
    store: MappedStore, consents: Mapping[str, Sequence[Consent]]
) -> dict[str, list[str]]:
    """Return, per subject table, the subjects holding a consent that can extend retention.

    They are left out of the set-based statements and planned one by one.
    """
    found: dict[str, list[str]] = {}
    for owner in store.mapping.subject_tables():
        kinds = _extension_kinds(store, owner)
        if not kinds:
            continue
        ids = sorted(
            subject_id
            for subject_id, given in consents.items()
            if subject_id.startswith(owner.prefix) and any(c.kind in kinds for c in given)
        )
        if ids:
            found[owner.name] = ids
    return found


def _rule_condition(
    store: MappedStore,
    rule: RetentionRule,
    table: TableMapping,
    owner: TableMapping,
    now: datetime,
) -> Any:
    t = store.tables[table.name]
    cutoff = start_cutoff(rule.period, now)
    parts = []
    if table.collected is not None:
        parts.append(store.before(t.c[table.collected], cutoff))
    if COLLECTED not in rule.after:
        o = store.tables[owner.name]
        events = [
            store.before(o.c[owner.events[e]], cutoff) for e in rule.after if e in owner.events
        ]
        if not events:
            return sa.false()
        happened = sa.or_(*events)
        if table is owner:
            parts.append(happened)
        else:
            parts.append(t.c[table.subject_column].in_(sa.select(o.c[owner.key]).where(happened)))
    return sa.and_(*parts) if parts else sa.true()


def _holds_data(store: MappedStore, table: TableMapping, columns: Sequence[str]) -> Any:
    t = store.tables[table.name]
    checks = []
    for column in columns:
        col = t.c[column]
        if python_type(col) is str:
            checks.append(sa.and_(col.is_not(None), col != ANONYMISED))
        else:
            checks.append(col.is_not(None))
    return sa.or_(*checks)


def _blocked(store: MappedStore, table: TableMapping) -> Any:
    t = store.tables[table.name]
    conditions = []
    metadata = sa.MetaData()
    for name, column in store.referencing(table):
        other = store.tables.get(name)
        if other is None:
            other = sa.Table(name, metadata, autoload_with=store.engine)
        alias = other.alias(f"ref_{name}_{column}")
        conditions.append(sa.exists().where(alias.c[column] == t.c[table.key]))
    return sa.or_(*conditions) if conditions else None


def plan_tables(
    store: MappedStore, now: datetime, excluded: Mapping[str, Sequence[str]]
) -> list[TableSweep]:
    """Return the statement families of a sweep at ``now``, in mapping order.

    :param excluded: per subject table, subject ids judged one by one (consents).
    """
    sweeps: list[TableSweep] = []
    policy = store.policy
    for owner in store.mapping.subject_tables():
        assert owner.relation_type is not None
        skip = [store.parse_subject(s) for s in excluded.get(owner.name, ())]
        skip_values = [p[1] for p in skip if p is not None]
        for table in store.mapping.owned_by(owner):
            t = store.tables[table.name]
            by_category: dict[str, list[str]] = {}
            for column, mapped in sorted(table.columns.items()):
                by_category.setdefault(mapped.category, []).append(column)
            conditions: dict[str, Any] = {}
            rules: dict[str, list[RetentionRule]] = {}
            for category in sorted(by_category):
                applicable = policy.rules_for(owner.relation_type, category)
                if applicable:
                    rules[category] = list(applicable)
                    conditions[category] = sa.and_(
                        *(_rule_condition(store, r, table, owner, now) for r in applicable)
                    )
            if not conditions:
                continue
            not_excluded = (
                t.c[table.subject_column].not_in(skip_values) if skip_values else sa.true()
            )
            blocked = _blocked(store, table)
            all_rules = sorted({r.id for rs in rules.values() for r in rs})
            action = (
                RetentionAction.ANONYMISE
                if any(r.action is RetentionAction.ANONYMISE for rs in rules.values() for r in rs)
                else RetentionAction.ERASE
            )
            deletable = table.erase is EraseMode.DELETE and action is RetentionAction.ERASE
            unique = table.is_subject_table and table.subject_column == table.key
            everything = sorted(table.columns)
            may_stay = not deletable or blocked is not None
            whole: Any = None
            if len(conditions) == len(by_category):
                condition = whole = sa.and_(not_excluded, *conditions.values())
                if may_stay:
                    condition = sa.and_(condition, _holds_data(store, table, everything))
                sweeps.append(
                    TableSweep(
                        table.name,
                        ROWS,
                        tuple(all_rules),
                        tuple(sorted(by_category)),
                        action,
                        tuple(everything),
                        condition,
                        deletable,
                        blocked,
                        unique,
                    )
                )
            if len(by_category) > 1 or len(conditions) < len(by_category):
                for category, condition in conditions.items():
                    columns = by_category[category]
                    if whole is not None:
                        # Rows due as a whole are the rows phase's (also in a dry run).
                        condition = sa.and_(condition, sa.not_(whole))
                    sweeps.append(
                        TableSweep(
                            table.name,
                            COLUMNS,
                            tuple(sorted(r.id for r in rules[category])),
                            (category,),
                            action,
                            tuple(columns),
                            sa.and_(not_excluded, condition, _holds_data(store, table, columns)),
                            False,
                            None,
                            unique,
                        )
                    )
    return sweeps


def run_table(
    store: MappedStore,
    sweep: TableSweep,
    dry_run: bool,
    intent: Callable[[dict[str, Any]], int],
    done: Callable[[int, dict[str, Any]], None],
) -> Iterator[BatchDone]:
    """Run ``sweep`` in batches; yield each batch's result.

    :param intent: records the batch's intent (its details, with the keys) in the ledger,
        committed before the rows go; returns the intent's id.
    :param done: records the erasure and drops the intent, after the rows went.
    :raises StoreError: when the database fails or rows changed under the sweep; the
        failing batch is rolled back (earlier ones stay done and recorded).
    """
    table = store.mapping.table(sweep.table)
    t = store.tables[table.name]
    dialect = store.engine.dialect
    if (
        dialect.name != "sqlite"
        and python_type(t.c[table.key]) is int
        and dialect.delete_returning
        and ((sweep.blocked is None and sweep.deletable) or dialect.update_returning)
    ):
        yield from _run_ranges(store, sweep, dry_run, intent, done)
        return
    owner = store.mapping.owner_of(table)
    key = t.c[table.key]
    subject = t.c[table.subject_column]
    last: Any = None
    while True:
        with store.begin() as conn:
            same = table.subject_column == table.key
            query = sa.select(key) if same else sa.select(key, subject)
            query = query.where(sweep.condition).order_by(key)
            if last is not None:
                query = query.where(key > last)
            # Keys and subject values are plain integers or strings: read them from the
            # driver's cursor, without SQLAlchemy's per-row processing.
            raw = _fetch(conn.execute(query.limit(store.batch_size)))
            keys: list[Any] = list(map(itemgetter(0), raw))
            values: Sequence[Any] = keys if same else list(map(itemgetter(1), raw))
            if not keys:
                return
            low, last = last, keys[-1]
            subjects = tuple(store.subject_ids_of(owner, values))
            if dry_run:
                yield BatchDone(len(keys), subjects)
                continue
            details = _details(sweep, len(keys))
            recorded = {**details, "keys": keys}  # JSON: other key types as text
            if not same:  # a gone row's subject cannot be read back from its key
                recorded["subjects"] = list(subjects)
            intent_id = intent(recorded)
            bounded = sa.and_(sweep.condition, key <= last)
            if low is not None:
                bounded = sa.and_(bounded, key > low)
            deleted = cleared = kept = 0
            clear = store.clear_values(table, sweep.columns, sweep.action)
            if sweep.deletable:
                free = bounded if sweep.blocked is None else sa.and_(bounded, ~sweep.blocked)
                deleted = conn.execute(t.delete().where(free)).rowcount
                if sweep.blocked is not None:
                    kept = conn.execute(
                        t.update().where(sa.and_(bounded, sweep.blocked)).values(clear)
                    ).rowcount
            else:
                cleared = conn.execute(t.update().where(bounded).values(clear)).rowcount
            if deleted + cleared + kept != len(keys):
                raise StoreError(
                    f"store {store.name!r}: rows of {table.name} changed while the sweep ran "
                    f"(expected {len(keys)}, erased {deleted + cleared + kept}); this batch "
                    "was rolled back, run the sweep again"
                )
        done(
            intent_id,
            {
                **details,
                **_who(subjects),
                "deleted": deleted,
                "cleared": cleared,
                "kept": kept,
            },
        )
        yield BatchDone(len(keys), subjects, kept)


def _details(sweep: TableSweep, count: int) -> dict[str, Any]:
    """Return what an intent and its erasure record about a batch (without its keys)."""
    return {
        "kind": "mapped-rows",
        "table": sweep.table,
        "phase": sweep.phase,
        "rule": ",".join(sweep.rules),
        "category": ",".join(sweep.categories),
        "categories": list(sweep.categories),
        "columns": list(sweep.columns),
        "action": sweep.action.value,
        "count": count,
    }


def _who(subjects: Sequence[str]) -> dict[str, Any]:
    """Return the subjects named in an erasure's audit entry.

    The rows' keys (and, for owned tables, their subjects) are in the batch's
    ``sweep.intent`` entry with the same ``intent`` number; a single subject is named
    here too, so that the entry is found by its subject.
    """
    return {"subjects": list(subjects) if len(subjects) == 1 else []}


def _fetch(result: Any) -> list[Any]:
    """Return a result's rows as the driver's tuples (keys need no processing)."""
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return list(rows)


def _run_ranges(
    store: MappedStore,
    sweep: TableSweep,
    dry_run: bool,
    intent: Callable[[dict[str, Any]], int],
    done: Callable[[int, dict[str, Any]], None],
) -> Iterator[BatchDone]:
    """Batches by ranges of an integer key, erased with ``RETURNING`` (PostgreSQL, MariaDB).

    One statement per range finds and erases the due rows, in the mapped database's
    transaction; the intent (the returned keys) is committed in the ledger before that
    transaction commits, so a sweep killed in between leaves an intent whose rows are
    still there, and the next sweep erases them.
    """
    table = store.mapping.table(sweep.table)
    owner = store.mapping.owner_of(table)
    t = store.tables[table.name]
    key = t.c[table.key]
    subject = t.c[table.subject_column]
    same = table.subject_column == table.key
    wanted = (key,) if same else (key, subject)
    with store.begin() as conn:
        low, high = conn.execute(sa.select(sa.func.min(key), sa.func.max(key))).one()
    if low is None:
        return
    # Ranges start as wide as a batch and adapt to how densely due rows fill them.
    width = store.batch_size
    clear = store.clear_values(table, sweep.columns, sweep.action)
    start = low - 1
    while start < high:
        end = start + width
        bounded = sa.and_(sweep.condition, key > start, key <= end)
        start = end
        with store.begin() as conn:
            if dry_run:
                found = _fetch(conn.execute(sa.select(*wanted).where(bounded)))
                kept_rows: list[Any] = []
            elif sweep.deletable:
                free = bounded if sweep.blocked is None else sa.and_(bounded, ~sweep.blocked)
                found = _fetch(conn.execute(t.delete().where(free).returning(*wanted)))
                kept_rows = (
                    []
                    if sweep.blocked is None
                    else _fetch(
                        conn.execute(
                            t.update()
                            .where(sa.and_(bounded, sweep.blocked))
                            .values(clear)
                            .returning(*wanted)
                        )
                    )
                )
            else:
                found = _fetch(
                    conn.execute(t.update().where(bounded).values(clear).returning(*wanted))
                )
                kept_rows = []
            both = found + kept_rows
            width = max(1, min(width * 4, width * store.batch_size // max(len(both), 1)))
            if not both:
                continue
            keys = list(map(itemgetter(0), both))
            values = keys if same else list(map(itemgetter(1), both))
            subjects = tuple(store.subject_ids_of(owner, values))
            if dry_run:
                yield BatchDone(len(keys), subjects)
                continue
            details = _details(sweep, len(keys))
            recorded = {**details, "keys": keys}
            if not same:
                recorded["subjects"] = list(subjects)
            intent_id = intent(recorded)
        deleted = len(found) if sweep.deletable else 0
        cleared = 0 if sweep.deletable else len(found)
        done(
            intent_id,
            {
                **details,
                **_who(subjects),
                "deleted": deleted,
                "cleared": cleared,
                "kept": len(kept_rows),
            },
        )
        yield BatchDone(len(keys), subjects, len(kept_rows))


def recover(store: MappedStore, details: Mapping[str, Any]) -> BatchDone:
    """Finish a batch a killed sweep recorded as an intent.

    Rows of the intent that are gone were erased by the killed sweep; rows still holding
    data were not (its transaction rolled back) and are erased now.
    """
    table, t = store.table(details["table"])
    key = t.c[table.key]
    keys = [store.typed_value(table, table.key, str(k)) for k in details["keys"]]
    columns = list(details["columns"])
    action = RetentionAction(details["action"])
    deletable = details["phase"] == ROWS and table.erase is EraseMode.DELETE
    deletable = deletable and action is RetentionAction.ERASE
    kept = 0
    with store.begin() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            present = conn.execute(
                sa.select(key).where(key.in_(chunk), _holds_data(store, table, columns))
            ).scalars()
            for row_key in present:
                blockers = store.referenced_by(conn, table, row_key) if deletable else []
                where = key == row_key
                if deletable and not blockers:
                    conn.execute(t.delete().where(where))
                else:
                    conn.execute(
                        t.update().where(where).values(store.clear_values(table, columns, action))
                    )
                    kept += bool(blockers)
    subjects = details.get("subjects")
    if subjects is None:
        subjects = store.subject_ids_of(store.mapping.owner_of(table), keys)
    return BatchDone(len(keys), tuple(subjects), kept)
