"""`map suggest`: a draft mapping reflected from a live schema, read-only (issue #10)."""

import json
import os
import re
import sqlite3
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from praclox_privacy.domain.errors import MappingError
from praclox_privacy.domain.policy import Policy
from praclox_privacy.formats.mapping import load_mapping
from praclox_privacy.formats.policy import default_policy
from praclox_privacy.stores.mapped.catalogue import ReflectedColumn, ReflectedTable, read_only_url
from praclox_privacy.stores.mapped.guesses import guess_event, guess_field, guess_relation_type
from praclox_privacy.stores.mapped.suggest import render_suggestion, suggest_mapping

SCHEMA = Path(__file__).parents[2] / "examples" / "existing-database" / "schema.sql"


def make_db(path: Path, sql: str) -> str:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(sql)
        connection.commit()
    finally:
        connection.close()
    return f"sqlite:///{path}"


@pytest.fixture
def example_db(tmp_path: Path) -> Path:
    path = tmp_path / "existing.db"
    make_db(path, SCHEMA.read_text(encoding="utf-8"))
    return path


def table_block(text: str, name: str) -> str:
    """Return the lines of ``name``'s [[table]] entry, up to the next one."""
    blocks = text.split("\n[[table]]\n")
    found = [b for b in blocks if b.startswith(f'name = "{name}"\n')]
    assert len(found) == 1, text
    return found[0]


def without_table(text: str, name: str) -> str:
    """Delete ``name``'s [[table]] entry, as the review steps say for tables of no data."""
    return text.replace("\n[[table]]\n" + table_block(text, name), "")


# -- the example schema -------------------------------------------------------------------


def test_the_example_schema_suggestion_loads_as_is(example_db: Path, policy: Policy) -> None:
    text = suggest_mapping(f"sqlite:///{example_db}", policy)
    mapping = load_mapping(text, policy)
    tables = {t.name: t for t in mapping.tables}
    assert set(tables) == {"applicants", "clients", "contact_persons", "invoices", "website_users"}
    assert {n: t.relation_type for n, t in tables.items()} == {
        "applicants": "applicant",
        "clients": "client",
        "contact_persons": "contact_person",
        "invoices": None,
        "website_users": "website_user",
    }
    assert all(t.key == "id" for t in mapping.tables)
    assert mapping.timezone == "UTC"


def test_the_example_guesses(example_db: Path, policy: Policy) -> None:
    mapping = load_mapping(suggest_mapping(f"sqlite:///{example_db}", policy), policy)
    applicants = mapping.table("applicants")
    assert applicants.collected == "applied_at"
    assert applicants.events == {"rejected": "rejected_at"}
    assert applicants.identities == {"email": "email"}
    assert {c: (m.category, m.field) for c, m in applicants.columns.items()} == {
        "full_name": ("application", "name"),
        "email": ("application", None),
        "phone": ("application", None),
        "motivation": ("application", "letter"),
    }
    clients = mapping.table("clients")
    assert clients.events == {"relation_ended": "ended_on"}
    assert clients.identities == {"customer_number": "customer_number", "email": "email"}
    assert {c: m.category for c, m in clients.columns.items()} == {
        "name": "office_identity",
        "street": "office_address",
        "postcode": "office_address",
        "city": "office_address",
        "email": "office_contact",
        "phone": "office_contact",
    }
    assert clients.columns["postcode"].field == "postal_code"
    contacts = mapping.table("contact_persons")
    assert contacts.references == {"client_id": "clients"}
    assert contacts.events == {"relation_ended": "ended_on"}
    assert contacts.columns["birthday"].category == "life_events"
    assert contacts.columns["job_title"].category == "person_name"
    users = mapping.table("website_users")
    assert users.events == {"account_closed": "closed_at"}
    assert users.collected == "created_at"
    invoices = mapping.table("invoices")
    assert invoices.subject == "client_id"
    assert invoices.references == {"client_id": "clients"}
    assert invoices.collected == "issued_on"
    assert {c: m.category for c, m in invoices.columns.items()} == {
        "number": "invoicing_records",
        "description": "invoicing_records",
    }
    assert mapping.owner_of(invoices) is clients


def test_guesses_are_commented_and_other_columns_listed(example_db: Path, policy: Policy) -> None:
    text = suggest_mapping(f"sqlite:///{example_db}", policy)
    assert "# not mapped: notes (TEXT)" in table_block(text, "clients")
    assert "# not mapped: password_hash (TEXT)" in table_block(text, "website_users")
    assert (
        "# not mapped: amount (NUMERIC): may be invoicing_records, but it is NOT NULL and not "
        "text, so erasure could not clear it where its row stays"
    ) in table_block(text, "invoices")
    assert 'email = { category = "website_account" }  # suggested: e-mail address' in text
    assert 'relation_type = "applicant"  # guessed from the table\'s name' in text
    assert text.startswith("# A draft mapping of sqlite:///")
    assert suggest_mapping(f"sqlite:///{example_db}", policy) == text  # deterministic


def test_the_database_is_not_written(example_db: Path, policy: Policy) -> None:
    before = example_db.read_bytes()
    os.utime(example_db, (1_000_000_000, 1_000_000_000))
    listing = sorted(p.name for p in example_db.parent.iterdir())
    suggest_mapping(f"sqlite:///{example_db}", policy)
    assert example_db.read_bytes() == before
    assert example_db.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in example_db.parent.iterdir()) == listing  # no journal


def test_a_missing_sqlite_file_is_an_error_and_not_created(tmp_path: Path, policy: Policy) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(sa.exc.OperationalError):
        suggest_mapping(f"sqlite:///{missing}", policy)
    assert not missing.exists()


def test_read_only_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = read_only_url("sqlite:///my db.sqlite")
    assert url.database == f"file:{tmp_path / 'my%20db.sqlite'}"
    assert dict(url.query) == {"mode": "ro", "uri": "true"}
    assert read_only_url("sqlite://").database is None
    assert read_only_url("sqlite:///:memory:").database == ":memory:"
    pg = "postgresql+psycopg://u:p@host/db"
    assert read_only_url(pg).render_as_string(hide_password=False) == pg


def test_a_caller_engine_is_reflected(policy: Policy) -> None:
    engine = sa.create_engine("sqlite://", poolclass=sa.StaticPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, "
                "created_at DATETIME, deleted_at DATETIME)"
            )
        text = suggest_mapping(engine, policy)
    finally:
        engine.dispose()
    users = load_mapping(text, policy).table("users")
    assert users.relation_type == "website_user"
    assert users.events == {"account_closed": "deleted_at"}
    assert users.collected == "created_at"


# -- what is left to the reviewer ---------------------------------------------------------

AWKWARD = """
CREATE TABLE customers (
    nr INTEGER PRIMARY KEY, company_name TEXT, zip TEXT, iban TEXT,
    "E-mail" TEXT, closed_at TEXT, created_at DATETIME, registered_at DATETIME
);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_nr INTEGER REFERENCES customers (nr),
    total NUMERIC, placed_at DATETIME);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id),
    product TEXT);
CREATE TABLE settings (name TEXT, value TEXT, PRIMARY KEY (name, value));
CREATE TABLE contacts (id INTEGER PRIMARY KEY, login_id INTEGER REFERENCES accounts (id),
    name TEXT, ended_on DATE, deleted_at DATE);
CREATE TABLE accounts (id INTEGER PRIMARY KEY, username TEXT, rejected_at DATE,
    deleted_at DATE);
"""


@pytest.fixture
def awkward(tmp_path: Path, policy: Policy) -> str:
    return suggest_mapping(make_db(tmp_path / "awkward.db", AWKWARD), policy)


def test_an_incomplete_draft_is_valid_toml_and_names_what_is_left(
    awkward: str, policy: Policy
) -> None:
    tomllib.loads(awkward)
    with pytest.raises(MappingError) as caught:
        load_mapping(awkward, policy)
    problems = {(p.location, p.code) for p in caught.value.problems}
    names = [m.group(1) for m in re.finditer(r'^name = "(\w+)"$', awkward, re.MULTILINE)]
    lines_at = f"table[{names.index('order_lines')}]"
    settings_at = f"table[{names.index('settings')}]"
    assert (lines_at, "no-subject") in problems
    assert (settings_at, "no-subject") in problems


def test_the_draft_loads_after_the_review_steps(awkward: str, policy: Policy) -> None:
    reviewed = without_table(without_table(awkward, "order_lines"), "settings")
    # Step 3: the clients' relation ends: map the event the retention rules count from.
    assert '# events.relation_ended = "<column>"' in reviewed
    reviewed = reviewed.replace(
        '# events.relation_ended = "<column>"', 'events.relation_ended = "registered_at"'
    )
    # Step 2: map the columns that hold personal data.
    reviewed = reviewed.replace(
        "# not mapped: total (NUMERIC)", 'total = { category = "invoicing_records" }'
    )
    mapping = load_mapping(reviewed, policy)
    assert [t.name for t in mapping.tables] == ["accounts", "contacts", "customers", "orders"]


def test_the_unsure_guesses(awkward: str) -> None:
    customers = table_block(awkward, "customers")
    assert 'relation_type = "client"' in customers
    assert 'key = "nr"' in customers
    assert 'company_name = { category = "office_identity", field = "name" }' in customers
    assert 'zip = { category = "office_address", field = "postal_code" }' in customers
    assert "# not mapped: iban (TEXT): looks like IBAN, but no category of client" in customers
    assert '# not mapped: "E-mail" (TEXT): not a plain SQL name' in customers
    assert "# not mapped: closed_at (TEXT)" in customers  # not a date column
    assert (
        "# not mapped: registered_at (DATETIME): also looks like when the row was collected "
        "(suggested: created_at)"
    ) in customers
    orders = table_block(awkward, "orders")
    assert (
        "subject = \"customer_nr\"  # each row is data of a client of table 'customers'" in orders
    )
    assert "# not mapped: total (NUMERIC)" in orders
    assert "# TODO no column suggested" in orders
    assert "# not mapped: placed_at (DATETIME)" in orders
    order_lines = table_block(awkward, "order_lines")
    assert "# TODO choose what this table holds:" in order_lines
    assert 'references.order_id = "orders"' in order_lines
    settings = table_block(awkward, "settings")
    assert "# TODO key = ...  # the table has a composite primary key (name, value)" in settings
    contacts = table_block(awkward, "contacts")
    assert 'relation_type = "contact_person"' in contacts
    assert (
        "# not mapped: login_id (INTEGER): foreign key -> accounts.id: a contact_person belongs "
        "to a client or prospect, not to a website_user"
    ) in contacts
    assert 'events.relation_ended = "ended_on"' in contacts
    assert (
        "# not mapped: deleted_at (DATE): looks like an event, but event 'relation_ended' is "
        "already mapped to ended_on"
    ) in contacts
    accounts = table_block(awkward, "accounts")
    assert 'relation_type = "website_user"' in accounts
    assert (
        "# not mapped: rejected_at (DATE): looks like an event, but no retention rule of "
        "website_user counts from 'rejected'"
    ) in accounts
    assert accounts.count("rejected_at") == 1
    # Subject tables come first, then owned tables, then the undecided ones.
    order = [m.group(1) for m in re.finditer(r'^name = "(\w+)"$', awkward, re.MULTILINE)]
    assert order == ["accounts", "contacts", "customers", "orders", "order_lines", "settings"]


# -- the guesses one by one ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "relation_type"),
    [
        ("applicants", "applicant"),
        ("job_applications", "applicant"),
        ("users", "website_user"),
        ("website_users", "website_user"),
        ("wp_users", "website_user"),
        ("auth_user", "website_user"),
        ("accounts", "website_user"),
        ("Clients", "client"),
        ("customers", "client"),
        ("contacts", "contact_person"),
        ("contact_persons", "contact_person"),
        ("contact_people", "contact_person"),
        ("prospects", "prospect"),
        ("leads", "prospect"),
        ("invoices", None),
        ("user_roles", None),
        ("products", None),
    ],
)
def test_guess_relation_type(table: str, relation_type: str | None, policy: Policy) -> None:
    assert guess_relation_type(table, policy) == relation_type


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("email", "email"),
        ("E_Mail", "email"),
        ("phone_number", "phone"),
        ("full_name", "name"),
        ("last_name", "name"),
        ("street", "street"),
        ("address", "street"),
        ("postcode", "postal_code"),
        ("city", "city"),
        ("date_of_birth", "birthday"),
        ("iban", "iban"),
        ("notes", None),
        ("emailed", None),
    ],
)
def test_guess_field(column: str, field: str | None) -> None:
    guessed = guess_field(column)
    assert (guessed[0] if guessed else None) == field


@pytest.mark.parametrize(
    ("column", "events"),
    [
        ("rejected_at", ("rejected",)),
        ("ended_on", ("relation_ended", "agreement_ended", "account_closed")),
        ("end_date", ("relation_ended", "agreement_ended", "account_closed")),
        ("closed_at", ("account_closed", "relation_ended")),
        ("deleted_at", ("account_closed", "relation_ended")),
        ("account_closed_at", ("account_closed",)),
        ("created_at", ("collected",)),
        ("date_created", ("collected",)),
        ("issued_on", ("collected",)),
        ("updated_at", ()),
        ("birthday", ()),
        ("rejected", ()),
    ],
)
def test_guess_event(column: str, events: tuple[str, ...], policy: Policy) -> None:
    assert guess_event(column, policy) == events


def test_the_example_suggestion_passes_the_live_schema_check(
    example_db: Path, policy: Policy
) -> None:
    from praclox_privacy.stores.mapped.schema import check_schema

    engine = sa.create_engine(f"sqlite:///{example_db}")
    try:
        mapping = load_mapping(suggest_mapping(engine, policy), policy)
        assert check_schema(engine, mapping) == []
    finally:
        engine.dispose()


# -- PostgreSQL and MariaDB ---------------------------------------------------------------

SERVER_SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, company_name VARCHAR(200) NOT NULL,
    email VARCHAR(200), ended_on DATE, created_at {timestamp});
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
    number VARCHAR(20), issued_on DATE,
    FOREIGN KEY (customer_id) REFERENCES customers (id));
"""


def _server_suggestion(admin_url: str, timestamp: str, policy: Policy) -> str:
    """Create the schema in a database of its own, suggest a mapping, drop the database."""
    import secrets

    url = sa.make_url(admin_url)
    name = f"praclox_suggest_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        scratch = url.set(database=name)
        engine = sa.create_engine(scratch)
        try:
            with engine.begin() as conn:
                for statement in SERVER_SCHEMA.format(timestamp=timestamp).split(";"):
                    if statement.strip():
                        conn.exec_driver_sql(statement)
        finally:
            engine.dispose()
        return suggest_mapping(scratch.render_as_string(hide_password=False), policy)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def _check_server_suggestion(text: str, policy: Policy) -> None:
    mapping = load_mapping(text, policy)
    customers = mapping.table("customers")
    assert customers.relation_type == "client"
    assert customers.events == {"relation_ended": "ended_on"}
    assert customers.collected == "created_at"
    assert customers.identities == {"email": "email"}
    assert customers.columns["company_name"].field == "name"
    invoices = mapping.table("invoices")
    assert invoices.subject == "customer_id"
    assert invoices.references == {"customer_id": "customers"}
    assert invoices.collected == "issued_on"
    assert set(invoices.columns) == {"number"}


def test_postgresql(postgresql_url: str, policy: Policy) -> None:
    text = _server_suggestion(postgresql_url, "TIMESTAMP WITH TIME ZONE", policy)
    _check_server_suggestion(text, policy)


def test_mariadb(mariadb_url: str, policy: Policy) -> None:
    _check_server_suggestion(_server_suggestion(mariadb_url, "DATETIME", policy), policy)


# -- any schema ---------------------------------------------------------------------------

_NAMES = st.sampled_from(
    [
        "users",
        "clients",
        "invoices",
        "contacts",
        "leads",
        "applicants",
        "orders",
        "notes",
        "a$b",
        "E-mail",
        "my table",
        "tab\tle",
    ]
)
_COLUMNS = st.sampled_from(
    [
        "email",
        "name",
        "full_name",
        "phone",
        "iban",
        "street",
        "zip",
        "created_at",
        "ended_on",
        "closed_at",
        "rejected_at",
        "notes",
        "amount",
        "x$y",
        "E-mail",
        "weird column",
        'quo"te',
        "new\nline",
        "del\x7f",
    ]
)


@st.composite
def schemas(draw: st.DrawFn) -> list[ReflectedTable]:
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    tables = []
    for name in names:
        columns = draw(st.lists(_COLUMNS, max_size=6, unique=True))
        reflected = [ReflectedColumn("id", "INTEGER", nullable=False)] + [
            ReflectedColumn(
                c,
                draw(st.sampled_from(["TEXT", "DATE", "NUMERIC"])),
                is_date=draw(st.booleans()),
                is_text=draw(st.booleans()),
                nullable=draw(st.booleans()),
            )
            for c in columns
        ]
        foreign = {
            f"{other}_id": (other, "id")
            for other in draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        }
        reflected += [ReflectedColumn(c, "INTEGER") for c in foreign]
        primary = draw(st.sampled_from([("id",), (), ("id", reflected[-1].name)]))
        tables.append(ReflectedTable(name, tuple(reflected), primary, foreign))
    return tables


@settings(max_examples=150, deadline=None)
@given(schemas())
def test_every_draft_is_valid_toml_naming_every_table(
    tables: list[ReflectedTable],
) -> None:
    policy = default_policy()
    text = render_suggestion(tables, policy, "sqlite:///any.db")
    data = tomllib.loads(text)
    drafted = {t["name"] for t in data.get("table", [])}
    for table in tables:
        assert table.name in drafted or f"# not mapped: table {json.dumps(table.name)}" in text
    try:
        mapping = load_mapping(text, policy)
    except MappingError:
        return  # left to the reviewer, with the problems named
    assert {t.name for t in mapping.tables} == drafted


def test_the_example_mapping_fits_its_schema_and_the_draft(
    example_db: Path, policy: Policy
) -> None:
    from praclox_privacy.formats.mapping import load_mapping_file
    from praclox_privacy.stores.mapped.schema import check_schema

    reviewed = load_mapping_file(SCHEMA.with_name("mapping.toml"), policy)
    engine = sa.create_engine(f"sqlite:///{example_db}")
    try:
        assert check_schema(engine, reviewed) == []
        draft = load_mapping(suggest_mapping(engine, policy), policy)
    finally:
        engine.dispose()
    # The review changed prefixes, erase modes and the time zone, not what maps where.
    for table in reviewed.tables:
        drafted = draft.table(table.name)
        assert (table.relation_type, table.subject_column, table.events) == (
            drafted.relation_type,
            drafted.subject_column,
            drafted.events,
        )
        assert {c: m.category for c, m in table.columns.items()} == {
            c: m.category for c, m in drafted.columns.items()
        }
