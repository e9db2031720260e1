"""The ``sql-mapped`` store on SQLite, PostgreSQL and MariaDB: an existing schema, in place.

The same scenarios run on each backend: the mapping checked against the live schema (a
stale one fails before any write, naming table and column), the set-based sweep (due rows
deleted, referenced rows cleared and kept, consent extensions honoured), an access request
for a person found by e-mail across three tables joined by references, and an erasure
that leaves the legally held invoices and reports them.
"""

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpers import append_config, new_workspace
from praclox_privacy import Consent, Evidence
from praclox_privacy.domain.errors import MappingError
from praclox_privacy.domain.requests import Identity
from praclox_privacy.ports import CONFIG_NAME, StoreUnavailable
from praclox_privacy.services.requests import find_subjects, receive_request, verify_request
from praclox_privacy.services.rights import answer_access, erase_subject, rectify_data
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.mapped.store import MappedStore

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _schema(metadata: sa.MetaData, s: str) -> dict[str, sa.Table]:
    clients = sa.Table(
        f"clients{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("office_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(100)),
        sa.Column("ended_on", sa.Date),
    )
    addresses = sa.Table(
        f"client_addresses{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey(f"clients{s}.id"), nullable=False),
        sa.Column("street", sa.String(100)),
        sa.Column("city", sa.String(100)),
    )
    invoices = sa.Table(
        f"invoices{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey(f"clients{s}.id"), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("amount", sa.String(20)),
    )
    contacts = sa.Table(
        f"contact_persons{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey(f"clients{s}.id")),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(100)),
        sa.Column("ended_on", sa.Date),
    )
    applicants = sa.Table(
        f"applicants{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("motivation", sa.Text),
        sa.Column("applied_at", sa.DateTime, nullable=False),
        sa.Column("rejected_at", sa.DateTime),
    )
    users = sa.Table(
        f"website_users{s}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(100)),
        sa.Column("closed_at", sa.DateTime),
    )
    return {
        "clients": clients,
        "addresses": addresses,
        "invoices": invoices,
        "contacts": contacts,
        "applicants": applicants,
        "users": users,
    }


def _mapping(s: str) -> str:
    return f"""
timezone = "Europe/Amsterdam"

[[table]]
name = "clients{s}"
relation_type = "client"
subject_prefix = "client-"
identities = {{ email = "email", customer_number = "number" }}
events = {{ relation_ended = "ended_on" }}
[table.columns]
office_name = {{ category = "office_identity", field = "name" }}
email = {{ category = "office_contact" }}

[[table]]
name = "client_addresses{s}"
subject = "client_id"
references = {{ client_id = "clients{s}" }}
[table.columns]
street = {{ category = "office_address" }}
city = {{ category = "office_address" }}

[[table]]
name = "invoices{s}"
subject = "client_id"
references = {{ client_id = "clients{s}" }}
collected = "issued_on"
[table.columns]
amount = {{ category = "invoicing_records" }}

[[table]]
name = "contact_persons{s}"
relation_type = "contact_person"
subject_prefix = "contact-"
identities = {{ email = "email" }}
events = {{ relation_ended = "ended_on" }}
references = {{ client_id = "clients{s}" }}
[table.columns]
full_name = {{ category = "person_name", field = "name" }}
email = {{ category = "person_contact" }}

[[table]]
name = "applicants{s}"
relation_type = "applicant"
subject_prefix = "applicant-"
collected = "applied_at"
identities = {{ email = "email" }}
events = {{ rejected = "rejected_at" }}
[table.columns]
full_name = {{ category = "application", field = "name" }}
email = {{ category = "application" }}
motivation = {{ category = "application" }}

[[table]]
name = "website_users{s}"
relation_type = "website_user"
subject_prefix = "user-"
identities = {{ email = "email" }}
events = {{ account_closed = "closed_at" }}
[table.columns]
email = {{ category = "website_account" }}
display_name = {{ category = "website_account", field = "name" }}
"""


def naive(year: int, month: int, day: int) -> datetime:
    """A naive date-time, as applications store them (in the mapping's time zone)."""
    return datetime(year, month, day)  # noqa: DTZ001


def _rows(t: dict[str, sa.Table]) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    return [
        (
            t["clients"],
            [
                {"id": 1, "number": "K-001", "office_name": "Tandarts Jansen",
                 "email": "info@jansen.nl",
                     "ended_on": date(2025, 1, 1)},
                {"id": 2, "number": "K-002", "office_name": "Fysio De Vries",
                     "email": "balie@devries.nl", "ended_on": None},
            ],
        ),
        (
            t["addresses"],
            [
                {"id": 10, "client_id": 1, "street": "Dorpsstraat 1", "city": "Utrecht"},
                {"id": 20, "client_id": 2, "street": "Laan 2", "city": "Zwolle"},
            ],
        ),
        (
            t["invoices"],
            [
                {"id": 100, "client_id": 1, "issued_on": date(2024, 3, 1), "amount": "120.00"},
                {"id": 200, "client_id": 2, "issued_on": date(2026, 3, 1), "amount": "80.00"},
                {"id": 201, "client_id": 2, "issued_on": date(2026, 4, 1), "amount": "95.00"},
            ],
        ),
        (
            t["contacts"],
            [
                {"id": 1, "client_id": 1, "full_name": "Piet Jansen", "email": "piet@jansen.nl",
                     "ended_on": date(2025, 1, 1)},
                {"id": 2, "client_id": 2, "full_name": "Eva de Vries", "email": "eva@devries.nl",
                     "ended_on": None},
            ],
        ),
        (
            t["applicants"],
            [
                # rejected 2026-01-01: 3 months over -> due
                {"id": 1, "full_name": "A One", "email": "a1@example.org", "motivation": "m",
                     "applied_at": naive(2025, 12, 1), "rejected_at": naive(2026, 1, 1)},
                # rejected 2026-10-01: not yet
                {"id": 2, "full_name": "A Two", "email": "a2@example.org", "motivation": None,
                     "applied_at": naive(2026, 9, 1), "rejected_at": naive(2026, 10, 1)},
                # not rejected
                {"id": 3, "full_name": "A Three", "email": "a3@example.org", "motivation": "m",
                     "applied_at": naive(2026, 1, 1), "rejected_at": None},
                # rejected 2025-12-15 with consent given before the deadline: kept a year
                {"id": 4, "full_name": "A Four", "email": "a4@example.org", "motivation": "m",
                     "applied_at": naive(2025, 11, 1), "rejected_at": naive(2025, 12, 15)},
                # rejected 2025-06-01 with consent: its year is over -> due
                {"id": 5, "full_name": "A Five", "email": "a5@example.org", "motivation": "m",
                     "applied_at": naive(2025, 5, 1), "rejected_at": naive(2025, 6, 1)},
            ],
        ),
        (
            t["users"],
            [
                {"id": 1, "email": "w1@example.org", "display_name": "W1",
                     "closed_at": naive(2026, 9, 1)},
                {"id": 2, "email": "w2@example.org", "display_name": "W2", "closed_at": None},
            ],
        ),
    ]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def mapped_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'existing.db'}"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def existing(mapped_url: str, tmp_path: Path) -> Iterator[tuple[Path, dict[str, sa.Table], Any]]:
    """A workspace whose ``app`` store maps a freshly created schema."""
    suffix = "_" + secrets.token_hex(3)
    engine = sa.create_engine(mapped_url)
    metadata = sa.MetaData()
    tables = _schema(metadata, suffix)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for table, rows in _rows(tables):
            conn.execute(table.insert(), rows)
    root = tmp_path / "ws"
    new_workspace(
        root,
        f'\n[stores.app]\nplugin = "sql-mapped"\nurl = "{mapped_url}"\n'
        'mapping = "mapping.toml"\nbatch_size = 2\n',
    )
    (root / "mapping.toml").write_text(_mapping(suffix), encoding="utf-8")
    try:
        yield root, tables, engine
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def _ids(engine: Any, table: sa.Table) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(table.c.id)).scalars())


def _consent(ws: Workspace, subject_id: str, granted: datetime) -> None:
    ws.sync_subjects("app", [subject_id])
    ws.ledger.add_consent(
        Consent(subject_id, "keep_application", granted, Evidence("form", "sollicitatie"))
    )


def test_sweep_erases_due_rows_in_place(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    root, t, engine = existing
    with Workspace.open(root) as ws:
        _consent(ws, "applicant-4", datetime(2025, 12, 20, tzinfo=UTC))
        _consent(ws, "applicant-5", datetime(2025, 6, 5, tzinfo=UTC))
        dry = run_sweep(ws, NOW, dry_run=True)
        assert _ids(engine, t["applicants"]) == [1, 2, 3, 4, 5]  # a dry run changes nothing
        report = run_sweep(ws, NOW)
        assert report.ok, report.failures

        assert dry.total == report.total
        again = run_sweep(ws, NOW)
    assert _ids(engine, t["applicants"]) == [2, 3, 4]
    assert _ids(engine, t["users"]) == [2]
    assert _ids(engine, t["contacts"]) == [2]
    # invoices are held 7 years; the ended client is referenced by them: cleared, kept
    assert _ids(engine, t["invoices"]) == [100, 200, 201]
    assert _ids(engine, t["addresses"]) == [20]
    with engine.connect() as conn:
        client = conn.execute(sa.select(t["clients"]).where(t["clients"].c.id == 1)).one()
    assert client.office_name == "[anonymised]"
    assert client.email is None
    by_table = {(e.table, e.category): e for e in report.erased}
    # applicant-1 by the set-based statements, applicant-5 (a consent holder) on its own
    assert by_table[(t["applicants"].name, "application")].subjects == ("applicant-1",)
    assert by_table[(None, "application")].subjects == ("applicant-5",)
    kept = by_table[(t["clients"].name, "office_identity")]
    assert kept.kept == 1
    assert kept.subjects == ("client-1",)
    held = [h for h in report.held if h.store == "app"]
    assert [(h.kind, sorted(h.until)) for h in held] == [("consent", ["applicant-4"])]
    assert again.total == 0  # cleared rows are not erased again


def test_sweep_is_audited_per_batch(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    root, _, _ = existing
    with Workspace.open(root) as ws:
        run_sweep(ws, NOW)
        entries = [e for e in ws.audit_entries() if e.action.startswith("sweep.")]
        intents = [e for e in entries if e.action == "sweep.intent"]
        erased = [e for e in entries if e.action == "sweep.erased"]
        assert intents
        assert len(intents) == len(erased)
        assert ws.verify_audit().ok
        tables = ws.ledger.database.tables
        with ws.ledger.database.begin() as conn:
            assert conn.execute(sa.select(tables.intents)).all() == []


def test_access_by_email_spans_three_tables_and_erasure_keeps_held_invoices(
    existing: tuple[Path, dict[str, sa.Table], Any],
) -> None:
    root, t, engine = existing
    now = NOW
    with Workspace.open(root) as ws:
        found = find_subjects(ws, [Identity("email", "BALIE@devries.nl")])
        assert found == ["client-2"]
        request = receive_request(ws, "access", [Identity("email", "balie@devries.nl")], now=now)
        verify_request(ws, request.id, "test", now=now)
        report = answer_access(ws, "client-2", now=now)
        assert report.subject.id == "client-2"
        held = [entry.item for entry in report.items if entry.store == "app"]
        assert {i.field for i in held} >= {"name", "email"}  # the clients row itself
        tables_seen = {i.field.split("#")[0].split("[")[-1] for i in held if "[" in i.field}
        assert tables_seen == {t["addresses"].name, t["invoices"].name}
        assert {i.category for i in held} == {
            "office_identity",
            "office_contact",
            "office_address",
            "invoicing_records",
        }
        request = receive_request(ws, "erasure", [Identity("email", "balie@devries.nl")], now=now)
        verify_request(ws, request.id, "test", now=now)
        result = erase_subject(ws, "client-2", now=now)
        assert result.done
        assert sorted(k.field for k in result.kept) == [
            f"amount [{t['invoices'].name}#200]",
            f"amount [{t['invoices'].name}#201]",
        ]
        assert {k.law for k in result.kept}
        assert all("rijksbelastingen" in k.law for k in result.kept)
        assert result.rows_kept == (
            (
                "app",
                f"{t['clients'].name}#2 kept (its mapped columns cleared): referenced by "
                f"{t['contacts'].name}.client_id, {t['invoices'].name}.client_id",
            ),
        )
    assert _ids(engine, t["invoices"]) == [100, 200, 201]
    assert _ids(engine, t["addresses"]) == [10]
    assert _ids(engine, t["contacts"]) == [1, 2]  # another subject referencing the client
    with engine.connect() as conn:
        client = conn.execute(sa.select(t["clients"]).where(t["clients"].c.id == 2)).one()
    assert client.office_name == "[anonymised]"
    assert client.email is None


def test_rectification_updates_the_column(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    root, t, engine = existing
    with Workspace.open(root) as ws:
        request = receive_request(
            ws, "rectification", [Identity("email", "eva@devries.nl")], now=NOW
        )
        verify_request(ws, request.id, "test", now=NOW)
        rectify_data(ws, "contact-2", "person_name", "name", "Eva de Vries-Bakker", now=NOW)
    with engine.connect() as conn:
        name = conn.execute(
            sa.select(t["contacts"].c.full_name).where(t["contacts"].c.id == 2)
        ).scalar_one()
    assert name == "Eva de Vries-Bakker"


def test_subjects_come_from_the_tables(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    root, _, _ = existing
    with Workspace.open(root) as ws:
        store = ws.store("app")
        assert isinstance(store, MappedStore)
        contact = store.subject("contact-1")
        assert contact is not None
        assert contact.organisation == "client-1"
        assert [e.name for e in contact.events] == ["relation_ended"]
        assert store.subject("contact-99") is None
        assert store.subject("nobody") is None
        assert store.find_subjects("customer_number", "K-002") == ["client-2"]
        assert ws.sync_subjects("app", ["client-1", "client-99"]) == {
            "client-1": "added",
            "client-99": "missing",
        }
        assert ws.sync_subjects("app", ["client-1"]) == {"client-1": "unchanged"}
        held = store.categories_held()
        assert held["application"] == 5 * 2 + 4  # names, e-mails, 4 motivations
        with pytest.raises(Exception, match="application writes its own tables"):
            store.write([], lambda s: frozenset())


def test_stale_mapping_fails_before_any_write(
    existing: tuple[Path, dict[str, sa.Table], Any],
) -> None:
    root, t, engine = existing
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"ALTER TABLE {t['applicants'].name} RENAME COLUMN rejected_at TO refused_at")
        )
    with Workspace.open(root) as ws:
        before = ws.audit_entries()
        with pytest.raises(MappingError) as caught:
            run_sweep(ws, NOW)
        assert ws.audit_entries() == before
    message = str(caught.value)
    assert f"column {t['applicants'].name}.rejected_at does not exist" in message
    assert "events.rejected" in message
    assert _ids(engine, t["users"]) == [1, 2]  # nothing of the other tables went either


def test_event_column_of_the_wrong_type(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    root, t, _ = existing
    mapping = (root / "mapping.toml").read_text(encoding="utf-8")
    (root / "mapping.toml").write_text(
        mapping.replace('events = { account_closed = "closed_at" }',
                        'events = { account_closed = "display_name" }'),
        encoding="utf-8",
    )  # fmt: skip
    with Workspace.open(root) as ws, pytest.raises(MappingError) as caught:
        ws.store("app")
    assert f"column {t['users'].name}.display_name is " in str(caught.value)
    assert "an event column must be a DATE or DATETIME" in str(caught.value)


def test_check_reports_overdue_rows_until_swept(
    existing: tuple[Path, dict[str, sa.Table], Any],
) -> None:
    from praclox_privacy.services.checks import run_checks

    root, _, _ = existing
    with Workspace.open(root) as ws:
        before = {r.check: r for r in run_checks(ws, NOW).results}
        overdue = before["retention.overdue"]
        found = {(f.details["rule"], f.details["category"]) for f in overdue.findings}
        assert ("applications", "application") in found
        assert ("website_accounts", "website_account") in found
        assert before["stores.categories"].findings == ()
        run_sweep(ws, NOW)
        after = {r.check: r for r in run_checks(ws, NOW).results}
        assert after["retention.overdue"].findings == ()


def test_check_names_a_stale_mapping(existing: tuple[Path, dict[str, sa.Table], Any]) -> None:
    from praclox_privacy.services.checks import run_checks

    root, t, engine = existing
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {t['users'].name} DROP COLUMN display_name"))
    with Workspace.open(root) as ws:
        results = {r.check: r for r in run_checks(ws, NOW).results}
    reachable = results["stores.reachable"]
    assert reachable.findings
    assert f"column {t['users'].name}.display_name does not exist" in str(
        reachable.findings[0].message
    )


class Killed(BaseException):
    """Stands in for the process dying (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("where", ["after_intent", "after_erase"])
def test_interrupted_batch_is_finished_and_audited_once(
    existing: tuple[Path, dict[str, sa.Table], Any],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """A sweep dying after recording a batch's intent, before or after the rows went."""
    from praclox_privacy.services import sweep as sweep_module

    root, t, engine = existing
    original_record = sweep_module._Sweep._record_in_place_intent
    original_close = sweep_module._Sweep._close_intent

    def record(self: Any, name: str, details: dict[str, Any]) -> int:
        intent = original_record(self, name, details)
        if where == "after_intent" and details["table"] == t["applicants"].name:
            raise Killed
        return intent

    def close(self: Any, intent: int, name: str, details: dict[str, Any]) -> None:
        if where == "after_erase" and details.get("table") == t["applicants"].name:
            raise Killed
        original_close(self, intent, name, details)

    monkeypatch.setattr(sweep_module._Sweep, "_record_in_place_intent", record)
    monkeypatch.setattr(sweep_module._Sweep, "_close_intent", close)
    with Workspace.open(root) as ws, pytest.raises(Killed):
        run_sweep(ws, NOW)
    # Without consents applicants 1, 4 and 5 are due; the first batch died.
    left = _ids(engine, t["applicants"])
    if where == "after_intent":
        assert left == [1, 2, 3, 4, 5]  # its transaction rolled back
    else:
        assert 2 <= len(left) < 5  # its rows went
    monkeypatch.setattr(sweep_module._Sweep, "_record_in_place_intent", original_record)
    monkeypatch.setattr(sweep_module._Sweep, "_close_intent", original_close)
    with Workspace.open(root) as ws:
        report = run_sweep(ws, NOW)
        entries = ws.audit_entries()
        assert ws.verify_audit().ok
    assert _ids(engine, t["applicants"]) == [2, 3]
    done = [
        e
        for e in entries
        if e.action == "sweep.erased" and e.details.get("table") == t["applicants"].name
    ]
    recovered = [e for e in done if e.details.get("recovered")]
    assert len(recovered) == 1
    assert report.recovered == recovered[0].details["count"] >= 1
    assert sum(e.details["count"] for e in done) == 3  # every erased row audited once
    assert set(recovered[0].details["subjects"]) <= {"applicant-1", "applicant-4"}


def test_a_mapped_store_in_the_ledgers_own_sqlite_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root)
    engine = sa.create_engine(f"sqlite:///{root / 'praclox-privacy.db'}")
    metadata = sa.MetaData()
    tables = _schema(metadata, "")
    metadata.create_all(engine)
    with engine.begin() as conn:
        for table, rows in _rows(tables):
            conn.execute(table.insert(), rows)
    engine.dispose()
    (root / "mapping.toml").write_text(_mapping(""), encoding="utf-8")
    append_config(
        root,
        '\n[stores.app]\nplugin = "sql-mapped"\nurl = "sqlite:///praclox-privacy.db"\n'
        'mapping = "mapping.toml"\n',
    )
    with Workspace.open(root) as ws:
        report = run_sweep(ws, NOW)
    assert [f.store for f in report.failures] == ["app"]
    assert "maps the ledger's own SQLite file" in report.failures[0].error


def test_the_password_can_come_from_the_environment(
    existing: tuple[Path, dict[str, sa.Table], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, engine = existing
    config = (root / CONFIG_NAME).read_text(encoding="utf-8")
    (root / CONFIG_NAME).write_text(
        config.replace(
            'mapping = "mapping.toml"', 'mapping = "mapping.toml"\npassword_env = "APP_DB_PASSWORD"'
        ),
        encoding="utf-8",
    )
    monkeypatch.delenv("APP_DB_PASSWORD", raising=False)
    with Workspace.open(root) as ws, pytest.raises(StoreUnavailable) as caught:
        ws.store("app")
    assert "store 'app': environment variable APP_DB_PASSWORD" in str(caught.value)
    monkeypatch.setenv("APP_DB_PASSWORD", engine.url.password or "")
    with Workspace.open(root) as ws:
        assert ws.store("app").health().ok
