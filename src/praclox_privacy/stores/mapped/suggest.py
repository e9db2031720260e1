"""Draft a table mapping from a live database schema, for a person to review.

:func:`suggest_mapping` reflects a database with SQLAlchemy (it reads the catalogue and
never writes; SQLite files are opened read-only) and writes a mapping TOML file (see
:mod:`praclox_privacy.domain.mapping` and docs/mapped-databases.md) with every table as a
``[[table]]`` entry and a comment on every guess:

* a table's ``relation_type`` is guessed from its name (``applicants`` -> ``applicant``,
  ``users`` -> ``website_user``, ``customers`` -> ``client``, ...); a table with no
  relation type of its own but a foreign key to a subject table is suggested as owned by
  it (``invoices`` -> ``subject = "client_id"``); any other table gets a ``TODO`` comment;
* its primary key is the ``key``; single-column foreign keys become ``references``;
* date and date-time columns named like an event (``rejected_at``, ``ended_on``,
  ``closed_at``, ``deleted_at``) or a creation instant (``created_at``, ``issued_on``) are
  suggested as ``events`` (only events a retention rule of the relation type counts
  from) and as ``collected``;
* columns named like personal data (e-mail, phone, name, address, postcode, city, birth
  date, IBAN, ...) get the category of the relation type whose ``fields`` list that field;
  an e-mail column of a subject table is also its ``email`` identity;
* every other column is listed as ``# not mapped: notes (TEXT)``.

The draft is valid TOML; once every guess is complete it loads with
:func:`~praclox_privacy.formats.mapping.load_mapping`, and otherwise loading it names
what is left to decide.
"""

import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from ...domain.policy import COLLECTED, Policy
from .catalogue import ReflectedColumn, ReflectedTable, read_catalogue, read_only_url
from .guesses import (
    IDENTITY_NAMES,
    guess_event,
    guess_field,
    guess_relation_type,
    rule_events,
    singular,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = [
    "guess_event",
    "guess_field",
    "guess_relation_type",
    "render_suggestion",
    "suggest_mapping",
]

_SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(line: str) -> str:
    """Escape control characters (a name with a newline) that TOML comments cannot hold."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", line)


@attrs.define
class _Draft:
    """What is suggested for one table, with the comments shown to the reviewer."""

    table: ReflectedTable
    relation_type: str | None = None
    relation_note: str = ""
    subject: str | None = None
    subject_note: str = ""
    collected: str | None = None
    events: dict[str, str] = attrs.field(factory=dict)
    references: dict[str, str] = attrs.field(factory=dict)
    identities: dict[str, str] = attrs.field(factory=dict)
    columns: list[tuple[str, str, str | None, str]] = attrs.field(factory=list)
    foreign_key_notes: dict[str, str] = attrs.field(factory=dict)
    unmapped: list[str] = attrs.field(factory=list)


def _toml_str(value: str) -> str:
    """Return ``value`` as a TOML basic string (JSON's escapes, and DEL escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_str(key)


def _inline(entries: dict[str, str]) -> str:
    inner = ", ".join(f"{_toml_key(k)} = {_toml_str(v)}" for k, v in entries.items())
    return f"{{ {inner} }}"


def _decide_tables(tables: Sequence[ReflectedTable], policy: Policy) -> list[_Draft]:
    drafts = {t.name: _Draft(t) for t in tables}
    for draft in drafts.values():
        relation_type = guess_relation_type(draft.table.name, policy)
        if relation_type is not None:
            draft.relation_type = relation_type
            draft.relation_note = "guessed from the table's name"
    for draft in drafts.values():
        if draft.relation_type is not None:
            continue
        owners = [
            (column, target)
            for column, (target, _) in draft.table.foreign_keys.items()
            if target in drafts and drafts[target].relation_type is not None
        ]
        if owners:
            column, target = owners[0]
            draft.subject = column
            draft.subject_note = (
                f"each row is data of a {drafts[target].relation_type} of table {target!r}"
            )
            if len(owners) > 1:
                others = ", ".join(f"{c} -> {t}" for c, t in owners[1:])
                draft.subject_note += f" (or choose: {others})"
    return list(drafts.values())


def _add_references(draft: _Draft, drafts: dict[str, _Draft], policy: Policy) -> None:
    table = draft.table
    belongs_to: tuple[str, ...] = ()
    if draft.relation_type is not None:
        belongs_to = policy.relation_type(draft.relation_type).belongs_to
    for column, (target, referred) in table.foreign_keys.items():
        where = f"{target}.{referred}"
        if not _SQL_NAME.fullmatch(column):
            continue  # listed as a column a mapping cannot name
        if target not in drafts:
            draft.foreign_key_notes[column] = (
                f"foreign key -> {where}: table {target!r} is not mapped"
            )
            continue
        if referred != drafts[target].table.key:
            draft.foreign_key_notes[column] = (
                f"foreign key -> {where}: it does not reference {target!r}'s key"
            )
            continue
        if draft.relation_type is not None and column == table.key:
            draft.foreign_key_notes[column] = (
                f"foreign key -> {where}: a subject table's key cannot reference another table"
            )
            continue
        other = drafts[target].relation_type
        if belongs_to and other is not None and other not in belongs_to:
            draft.foreign_key_notes[column] = (
                f"foreign key -> {where}: a {draft.relation_type} belongs to a "
                f"{' or '.join(belongs_to)}, not to a {other}"
            )
            continue
        draft.references[column] = target


def _add_dates(draft: _Draft, column: ReflectedColumn, policy: Policy) -> tuple[bool, str]:
    """Suggest ``column`` as ``collected`` or an event.

    :returns: whether it was used, and else why a date column named like one was not.
    """
    if not column.is_date:
        return False, ""
    events = guess_event(column.name, policy)
    if not events:
        return False, ""
    if events == (COLLECTED,):
        if draft.collected is None:
            draft.collected = column.name
            return True, ""
        return False, f"also looks like when the row was collected (suggested: {draft.collected})"
    if draft.relation_type is None:
        return False, ""  # an owned table's events are read from its subject table
    relevant = rule_events(policy, draft.relation_type)
    chosen = next((e for e in events if e in relevant and e not in draft.events), None)
    if chosen is None:
        taken = [e for e in events if e in draft.events]
        why = (
            f"event {taken[0]!r} is already mapped to {draft.events[taken[0]]}"
            if taken
            else f"no retention rule of {draft.relation_type} counts from "
            + " or ".join(repr(e) for e in events)
        )
        return False, f"looks like an event, but {why}"
    draft.events[chosen] = column.name
    return True, ""


def _category_for(field: str, relation_type: str, policy: Policy) -> list[str]:
    found: list[str] = []
    for category_id in policy.relation_type(relation_type).categories:
        try:
            category = policy.category(category_id)
        except KeyError:
            continue
        if not category.ephemeral and field in category.fields:
            found.append(category.id)
    return found


def _table_category(table: str, relation_type: str, policy: Policy) -> str | None:
    """Return the category the table's name suggests (``invoices`` -> ``invoicing_records``)."""
    stem = singular(table).rsplit("_", 1)[-1]
    if len(stem) < 5:
        return None
    for category_id in policy.relation_type(relation_type).categories:
        try:
            category = policy.category(category_id)
        except KeyError:
            continue
        if not category.ephemeral and category.id.startswith(stem[:6]):
            return category.id
    return None


def _not_clearable(column: ReflectedColumn, guess: str) -> str:
    return (
        f"{column.name} ({column.type}): {guess}, but it is NOT NULL and not text, so "
        "erasure could not clear it where its row stays (make it nullable to map it)"
    )


def _add_columns(draft: _Draft, drafts: dict[str, _Draft], policy: Policy) -> None:
    table = draft.table
    relation_type = draft.relation_type
    if relation_type is None and draft.subject is not None:
        relation_type = drafts[draft.table.foreign_keys[draft.subject][0]].relation_type
    used = {table.key, draft.subject, *draft.references}
    fields_taken: set[tuple[str, str]] = set()
    leftovers: list[ReflectedColumn] = []
    for column in table.columns:
        if not _SQL_NAME.fullmatch(column.name):
            draft.unmapped.append(
                f"{_toml_str(column.name)} ({column.type}): not a plain SQL name, which a "
                "mapping cannot name"
            )
            continue
        if column.name in used:
            continue
        if column.name in draft.foreign_key_notes:
            draft.unmapped.append(
                f"{column.name} ({column.type}): {draft.foreign_key_notes[column.name]}"
            )
            continue
        dated, reason = _add_dates(draft, column, policy)
        if dated:
            continue
        if reason:
            draft.unmapped.append(f"{column.name} ({column.type}): {reason}")
            continue
        lowered = column.name.lower()
        for kind, names in IDENTITY_NAMES.items():
            if draft.relation_type is not None and lowered in names:
                draft.identities.setdefault(kind, column.name)
        guessed = guess_field(column.name)
        if guessed is None or relation_type is None:
            if column.name not in draft.identities.values():
                leftovers.append(column)
            continue
        field, description = guessed
        if field == "email" and draft.relation_type is not None:
            draft.identities.setdefault("email", column.name)
        categories = _category_for(field, relation_type, policy)
        if not categories:
            draft.unmapped.append(
                f"{column.name} ({column.type}): looks like {description}, but no category "
                f"of {relation_type} lists a field {field!r}"
            )
            continue
        if not column.clearable:
            draft.unmapped.append(_not_clearable(column, f"looks like {description}"))
            continue
        note = f"suggested: {description}"
        if len(categories) > 1:
            note += f" (or {', '.join(categories[1:])})"
        if (categories[0], field) in fields_taken or field == column.name:
            draft.columns.append((column.name, categories[0], None, note))
        else:
            draft.columns.append((column.name, categories[0], field, note))
        fields_taken.add((categories[0], field))
    category = None
    if draft.subject is not None and relation_type is not None:
        category = _table_category(table.name, relation_type, policy)
    for column in leftovers:
        if category is not None and not column.is_date and not column.clearable:
            draft.unmapped.append(_not_clearable(column, f"may be {category}"))
        elif category is not None and not column.is_date:
            draft.columns.append(
                (column.name, category, None, f"suggested: the table's name suggests {category}")
            )
        else:
            draft.unmapped.append(f"{column.name} ({column.type})")


def _missing_events(draft: _Draft, drafts: Iterable[_Draft], policy: Policy) -> list[str]:
    """Return the events the rules of ``draft``'s mapped categories count from, unmapped."""
    assert draft.relation_type is not None
    categories = {c[1] for c in draft.columns}
    for other in drafts:
        if other.subject is not None and other.references.get(other.subject) == draft.table.name:
            categories.update(c[1] for c in other.columns)
    missing: list[str] = []
    for category in sorted(categories):
        if not policy.declares(draft.relation_type, category):
            continue
        for rule in policy.rules_for(draft.relation_type, category):
            if COLLECTED in rule.after or any(e in draft.events for e in rule.after):
                continue
            for event in rule.after:
                if event not in missing:
                    missing.append(event)
    return missing


def _render_table(draft: _Draft, drafts: Iterable[_Draft], policy: Policy) -> list[str]:
    table = draft.table
    lines = ["[[table]]", f"name = {_toml_str(table.name)}"]
    if table.key is not None:
        lines.append(f"key = {_toml_str(table.key)}")
    else:
        what = (
            "a composite primary key (" + ", ".join(table.primary_key) + ")"
            if table.primary_key
            else "no primary key"
        )
        lines.append(f"# TODO key = ...  # the table has {what}: name a unique column")
    if draft.relation_type is not None:
        lines.append(f"relation_type = {_toml_str(draft.relation_type)}  # {draft.relation_note}")
        lines.append(
            f"# subject ids: {table.name}-<{table.key or 'key'}> (set subject_prefix to change)"
        )
    elif draft.subject is not None:
        lines.append(f"subject = {_toml_str(draft.subject)}  # {draft.subject_note}")
    else:
        choices = " | ".join(_toml_str(r.id) for r in policy.relation_types)
        lines += [
            "# TODO choose what this table holds:",
            f"#   relation_type = {choices}  (each row is one subject), or",
            '#   subject = "<column>" listed in references = { <column> = "<subject table>" }',
            "#   (each row is data of another table's subject), or",
            "#   delete this [[table]] when it holds no personal data.",
        ]
    if draft.collected is not None:
        lines.append(
            f"collected = {_toml_str(draft.collected)}  # suggested: when the row was collected"
        )
    for kind, column in draft.identities.items():
        lines.append(
            f"identities.{_toml_key(kind)} = {_toml_str(column)}  # find a person by {kind}"
        )
    for event, column in draft.events.items():
        lines.append(f"events.{_toml_key(event)} = {_toml_str(column)}  # suggested: {event}")
    for column, target in draft.references.items():
        lines.append(f"references.{_toml_key(column)} = {_toml_str(target)}")
    if draft.relation_type is not None:
        for event in _missing_events(draft, drafts, policy):
            lines.append(
                f'# events.{event} = "<column>"  # a retention rule of {draft.relation_type} '
                "counts from it"
            )
    lines.append("")
    lines.append("[table.columns]")
    if not draft.columns:
        lines.append("# TODO no column suggested: map each column of personal data to a category")
    for column, category, field, note in draft.columns:
        entry: dict[str, str] = {"category": category}
        if field is not None:
            entry["field"] = field
        lines.append(f"{_toml_key(column)} = {_inline(entry)}  # {note}")
    lines.extend(f"# not mapped: {text}" for text in draft.unmapped)
    return lines


def _header(source: str) -> list[str]:
    return [
        f"# A draft mapping of {source}, written by `praclox-privacy map suggest`.",
        "# Review every line before use (docs/mapped-databases.md):",
        "#   1. check each relation_type and subject, and decide where a TODO asks;",
        "#   2. check each suggested category, map the 'not mapped' columns that hold",
        "#      personal data, and delete the [[table]] entries that hold none;",
        "#   3. map the lifecycle events the retention rules count from (a commented",
        "#      events line names each one still missing);",
        "#   4. set timezone to the zone of the DATE and naive DATETIME columns;",
        "#   5. run `praclox-privacy map check` (policy and live schema).",
        "",
        'timezone = "UTC"',
    ]


def render_suggestion(tables: Iterable[ReflectedTable], policy: Policy, source: str) -> str:
    """Return the draft mapping TOML of the reflected ``tables``; see the module docs."""
    ordered = sorted(tables, key=lambda t: t.name)
    plain = [t for t in ordered if _SQL_NAME.fullmatch(t.name)]
    drafts = _decide_tables(plain, policy)
    by_name = {d.table.name: d for d in drafts}
    for draft in drafts:
        _add_references(draft, by_name, policy)
        if draft.subject is not None and draft.subject not in draft.references:
            draft.subject = None  # its reference could not be mapped: left to the reviewer
    for draft in drafts:
        _add_columns(draft, by_name, policy)

    def rank(draft: _Draft) -> int:
        return 0 if draft.relation_type is not None else 1 if draft.subject is not None else 2

    lines = _header(source)
    for draft in sorted(drafts, key=rank):
        lines.append("")
        lines.extend(_render_table(draft, drafts, policy))
    for table in ordered:
        if table not in plain:
            lines += [
                "",
                f"# not mapped: table {_toml_str(table.name)}: not a plain SQL name, which a "
                "mapping cannot name",
            ]
    return "\n".join(_printable(line) for line in lines) + "\n"


def suggest_mapping(engine_or_url: "sa.Engine | sa.URL | str", policy: Policy) -> str:
    """Reflect a database and return a draft mapping TOML for a person to review.

    The tables of the connection's default schema are reflected, as the ``sql-mapped``
    store sees them.

    :param engine_or_url: an engine, or a database URL (an SQLite file is opened
        read-only, see :func:`read_only_url`; a PostgreSQL session is read-only). Only
        the catalogue is read: nothing is written.
    :param policy: the policy whose relation types, categories and events are suggested.
    :raises sqlalchemy.exc.SQLAlchemyError: when the database cannot be read.
    """
    import sqlalchemy as sa

    if isinstance(engine_or_url, sa.Engine):
        source = engine_or_url.url.render_as_string(hide_password=True)
        return render_suggestion(read_catalogue(engine_or_url), policy, source)
    url = sa.make_url(engine_or_url)
    source = url.render_as_string(hide_password=True)
    engine = sa.create_engine(read_only_url(url))
    if url.get_backend_name() == "postgresql":
        engine = engine.execution_options(postgresql_readonly=True)
    try:
        return render_suggestion(read_catalogue(engine), policy, source)
    finally:
        engine.dispose()
