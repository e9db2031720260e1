"""The ledger (subjects, events, consents, audit trail) on SQLite, PostgreSQL and MariaDB.

Each test gets a workspace whose primary store is a fresh set of tables (a unique table
prefix) in the backend's session database, and a deterministic clock.
"""

import gc
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from helpers import table_prefix
from praclox_privacy.domain.audit import GENESIS, AuditVerification, entry_hash
from praclox_privacy.domain.records import Consent, Evidence, Item, ItemKey, Subject
from praclox_privacy.ports import CONFIG_NAME, LedgerError, WriteRefused
from praclox_privacy.services.workspace import Workspace

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


class Clock:
    """A thread-safe clock that moves a little (with microseconds) on every reading."""

    def __init__(
        self, start: datetime = T0, step: timedelta = timedelta(seconds=1, microseconds=7)
    ):
        self.now = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self.now
            self.now += self.step
            return now


def write_config(root: Path, url: str, prefix: str, batch_size: int = 1) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(
        f'policy = "default"\nprimary = "main"\ntimezone = "Europe/Amsterdam"\n\n'
        f'[stores.main]\nplugin = "sql"\nurl = {json.dumps(url)}\n'
        f'table_prefix = "{prefix}"\nbatch_size = {batch_size}\n',
        encoding="utf-8",
    )


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def backend_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:///ledger.db"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def ws_root(tmp_path: Path, backend_url: str) -> Path:
    # batch_size 1: every upsert reaches the database before a later item is refused,
    # so "nothing was written" really depends on the rollback.
    write_config(tmp_path / "ws", backend_url, table_prefix())
    return tmp_path / "ws"


@pytest.fixture
def ws(ws_root: Path) -> Iterator[Workspace]:
    workspace = Workspace.open(ws_root, clock=Clock())
    try:
        yield workspace
    finally:
        db = workspace.ledger.database
        db.tables.metadata.drop_all(db.engine)
        workspace.close()


# -- helpers -------------------------------------------------------------------------------


def rows(ws: Workspace) -> list[Any]:
    a = ws.ledger.database.tables.audit
    with ws.ledger.database.begin() as conn:
        return list(conn.execute(sa.select(a).order_by(a.c.seq)))


def tamper(ws: Workspace, target: int, **values: Any) -> None:
    a = ws.ledger.database.tables.audit
    with ws.ledger.database.begin() as conn:
        assert conn.execute(a.update().where(a.c.seq == target).values(**values)).rowcount == 1


def delete(ws: Workspace, *seqs: int) -> None:
    a = ws.ledger.database.tables.audit
    with ws.ledger.database.begin() as conn:
        conn.execute(a.delete().where(a.c.seq.in_(seqs)))


def fill(ws: Workspace) -> int:
    """Make a realistic trail of 8 entries; return its length."""
    ws.add_subject(["prospect"], subject_id="acme", name="Acme BV")  # 1, 2
    ws.add_subject(["contact_person"], subject_id="jan", organisation="acme")  # 3
    ws.record_event("jan", "relation_ended", datetime(2026, 2, 1, 12, tzinfo=CET))  # 4
    ws.set_relation_types("acme", ["client"])  # 5
    ws.write([Item("acme", "invoicing_records", "inv-1", "EUR 100", T0)])  # 6
    ws.ledger.audit("test.note", {"n": 7, "text": "zeven ✓ 🎂"}, None, "tester")  # 7
    ws.ledger.audit("test.note", {"n": 8}, "jan", "tester")  # 8
    assert len(rows(ws)) == 8
    return 8


def head(ws: Workspace) -> tuple[int, str]:
    h = ws.ledger.database.tables.audit_head
    with ws.ledger.database.begin() as conn:
        row = conn.execute(sa.select(h.c.seq, h.c.hash)).one()
    return row.seq, row.hash


# -- subjects ------------------------------------------------------------------------------


def test_add_and_get_subjects(ws: Workspace) -> None:
    ledger = ws.ledger
    at = datetime(2026, 1, 5, 10, 30, 0, 250000, tzinfo=CET)
    client = ledger.add_subject(Subject("acme", {"client"}, (), None))
    person = ledger.add_subject(
        Subject("jan.jansen@acme", {"contact_person", "website_user"}, (), "acme").with_event(
            "relation_ended", at
        )
    )
    assert ledger.has_subject("acme")
    assert not ledger.has_subject("nobody")
    assert ledger.subject("acme") == client
    got = ledger.subject("jan.jansen@acme")
    assert got == person
    assert got.relation_types == {"contact_person", "website_user"}
    assert got.organisation == "acme"
    assert got.event_at("relation_ended") == at
    assert [s.id for s in ledger.subjects()] == ["acme", "jan.jansen@acme"]
    assert [s.id for s in ledger.subjects(["jan.jansen@acme", "nobody"])] == ["jan.jansen@acme"]
    assert ledger.relation_types_of("jan.jansen@acme") == {"contact_person", "website_user"}
    assert ledger.relation_types_of("nobody") == frozenset()


def test_subject_ids_are_case_exact(ws: Workspace) -> None:
    ws.ledger.add_subject(Subject("Acme", {"client"}))
    ws.ledger.add_subject(Subject("acme", {"prospect"}))
    assert ws.ledger.relation_types_of("Acme") == {"client"}
    assert ws.ledger.relation_types_of("acme") == {"prospect"}


def test_duplicate_subject_is_refused_and_leaves_no_trace(ws: Workspace) -> None:
    ws.ledger.add_subject(Subject("acme", {"client"}))
    before = rows(ws)
    with pytest.raises(LedgerError, match="'acme' already exists"):
        ws.ledger.add_subject(Subject("acme", {"prospect"}))
    assert ws.ledger.subject("acme").relation_types == {"client"}
    assert rows(ws) == before


def test_unknown_subject_is_refused(ws: Workspace) -> None:
    ledger = ws.ledger
    with pytest.raises(LedgerError, match="unknown subject 'nobody'"):
        ledger.subject("nobody")
    with pytest.raises(LedgerError, match="unknown subject 'nobody'"):
        ledger.record_event("nobody", "relation_ended", T0)
    with pytest.raises(LedgerError, match="unknown subject 'nobody'"):
        ledger.set_relation_types("nobody", ["client"])
    with pytest.raises(LedgerError, match="unknown subject 'nobody'"):
        ledger.add_consent(Consent("nobody", "newsletter", T0, Evidence("web", "ja")))
    assert rows(ws) == []


def test_events_keep_their_instant(ws: Workspace) -> None:
    ws.ledger.add_subject(Subject("sol-1", {"applicant"}))
    first = datetime(2026, 4, 1, 23, 30, 0, 1, tzinfo=CEST)
    second = datetime(2026, 4, 3, 8, 0, tzinfo=UTC)
    ws.record_event("sol-1", "rejected", first)
    got = ws.record_event("sol-1", "rejected", second)
    assert [(e.name, e.at) for e in got.events] == [("rejected", first), ("rejected", second)]
    assert got.event_at("rejected") == second
    assert all(e.at.utcoffset() == timedelta(0) for e in got.events)
    assert rows(ws)[-1].action == "subject.event"
    assert json.loads(rows(ws)[-1].details) == {
        "event": "rejected",
        "at": "2026-04-03T08:00:00+00:00",
    }


def test_S15_prospect_becomes_client_keeping_data_and_history(ws: Workspace) -> None:
    ws.add_subject(["prospect"], subject_id="acme", name="Acme BV", email="info@acme.example")
    ws.add_subject(["contact_person"], subject_id="jan", organisation="acme", name="Jan")
    contacted = datetime(2026, 2, 2, 14, tzinfo=CET)
    ws.record_event("acme", "relation_ended", contacted)
    invoice = Item("acme", "invoicing_records", "inv-2026-001", "EUR 1.250,00", T0)
    with pytest.raises(WriteRefused, match="not declared for relation type prospect"):
        ws.write([invoice])
    data_before = ws.items_of("acme")
    trail_before = rows(ws)

    became = ws.set_relation_types("acme", ["client"])

    assert became.relation_types == {"client"}
    assert became.events == ws.ledger.subject("acme").events
    assert became.event_at("relation_ended") == contacted
    assert ws.items_of("acme") == data_before
    assert ws.ledger.subject("jan").organisation == "acme"
    after = rows(ws)
    assert after[: len(trail_before)] == trail_before
    assert after[-1].action == "subject.relation_types"
    assert json.loads(after[-1].details) == {"from": ["prospect"], "to": ["client"]}
    # a client's own category is now accepted
    assert ws.write([invoice]) == 1
    assert ws.verify_audit().ok


def test_consents_round_trip(ws: Workspace) -> None:
    ws.ledger.add_subject(Subject("web-1", {"website_user"}))
    granted = datetime(2026, 5, 1, 10, 0, 0, 999999, tzinfo=CEST)
    withdrawn = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    until = datetime(2027, 5, 1, 0, 0, tzinfo=CEST)
    consents = [
        Consent("web-1", "newsletter", granted, Evidence("web form", "Ja, stuur mij ✓", "f-7")),
        Consent(
            "web-1",
            "newsletter",
            granted,
            Evidence("e-mail", "yes", ""),
            withdrawn_at=withdrawn,
            until=until,
            scope="weekly",
        ),
    ]
    ids = [ws.ledger.add_consent(c) for c in consents]
    assert len(set(ids)) == 2
    back = ws.ledger.consents_of("web-1")
    assert back == consents
    assert back[0].granted_at == granted
    assert back[0].granted_at.utcoffset() == timedelta(0)
    assert back[1].active_at(datetime(2026, 5, 15, tzinfo=UTC))
    assert not back[1].active_at(withdrawn)
    assert ws.ledger.consents_of("nobody") == []
    last = rows(ws)[-1]
    assert (last.action, last.subject_id) == ("consent.granted", "web-1")
    assert json.loads(last.details) == {"consent": ids[1], "kind": "newsletter"}


# -- the audit chain -----------------------------------------------------------------------


def test_audit_entries_chain(ws: Workspace) -> None:
    n = fill(ws)
    entries = ws.audit_entries()
    assert [e.seq for e in entries] == list(range(1, n + 1))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
        assert after.at > before.at
    for e in entries:
        assert e.hash == e.expected_hash()
        assert e.at.tzinfo is not None
    assert head(ws) == (n, entries[-1].hash)
    assert [e.seq for e in ws.audit_entries(limit=3)] == [n - 2, n - 1, n]
    assert {e.subject_id for e in ws.audit_entries("jan")} == {"jan"}
    assert [e.action for e in ws.audit_entries("jan")] == [
        "subject.added",
        "subject.event",
        "test.note",
    ]
    seventh = entries[6]
    assert (seventh.actor, seventh.action, seventh.subject_id) == ("tester", "test.note", None)
    assert seventh.details == {"n": 7, "text": "zeven ✓ 🎂"}


def test_audit_entry_instants_survive_the_round_trip(ws: Workspace) -> None:
    """Microseconds and the UTC instant are kept, so the recomputed hash matches."""
    appended = ws.ledger.audit("test.note", {"x": 1})
    (stored,) = ws.audit_entries()
    assert stored == appended
    assert stored.at == T0


def test_verify_audit_ok(ws: Workspace) -> None:
    assert ws.verify_audit() == AuditVerification(True, 0)
    n = fill(ws)
    result = ws.verify_audit()
    assert (result.ok, result.checked, result.broken_at) == (True, n, None)


_TAMPERINGS = {
    "details": lambda row: {"details": row.details.replace("7", "9")},
    "details-not-json": lambda row: {"details": row.details[:-1]},
    "hash": lambda row: {"hash": "f" * 64},
    "prev_hash": lambda row: {"prev_hash": "0" * 64},
    "at": lambda row: {"at": row.at.replace(tzinfo=UTC) + timedelta(seconds=1)},
    "at-microsecond": lambda row: {"at": row.at.replace(tzinfo=UTC) + timedelta(microseconds=1)},
    "actor": lambda row: {"actor": "someone-else"},
    "action": lambda row: {"action": "subject.removed"},
    "subject_id": lambda row: {"subject_id": "acme"},
}


@pytest.mark.parametrize("what", sorted(_TAMPERINGS))
def test_tampering_with_one_entry_is_found(ws: Workspace, what: str) -> None:
    fill(ws)
    target = rows(ws)[6]  # entry 7: {"n": 7, "text": ...}, no subject
    tamper(ws, 7, **_TAMPERINGS[what](target))
    result = ws.verify_audit()
    assert not result.ok
    assert result.broken_at == 7
    assert result.checked == 6
    assert result.reason


@pytest.mark.parametrize("seq", [1, 4])
def test_deleting_an_entry_is_found(ws: Workspace, seq: int) -> None:
    fill(ws)
    delete(ws, seq)
    result = ws.verify_audit()
    assert (result.ok, result.broken_at) == (False, seq)
    assert "missing" in result.reason


@pytest.mark.parametrize("removed", [1, 3])
def test_deleting_the_last_entries_is_found_by_the_head(ws: Workspace, removed: int) -> None:
    n = fill(ws)
    delete(ws, *range(n - removed + 1, n + 1))
    result = ws.verify_audit()
    assert (result.ok, result.broken_at, result.checked) == (False, n - removed + 1, n - removed)
    assert "removed" in result.reason


def test_deleting_every_entry_is_found_by_the_head(ws: Workspace) -> None:
    n = fill(ws)
    delete(ws, *range(1, n + 1))
    result = ws.verify_audit()
    assert (result.ok, result.broken_at) == (False, 1)


def test_swapping_two_entries_is_found(ws: Workspace) -> None:
    fill(ws)
    all_rows = rows(ws)
    columns = ("at", "actor", "action", "subject_id", "details", "prev_hash", "hash")

    def content(row: Any) -> dict[str, Any]:
        values = {c: getattr(row, c) for c in columns}
        values["at"] = values["at"].replace(tzinfo=UTC)
        return values

    third, sixth = all_rows[2], all_rows[5]
    tamper(ws, 3, **content(sixth))
    tamper(ws, 6, **content(third))
    result = ws.verify_audit()
    assert (result.ok, result.broken_at) == (False, 3)


def test_swapping_sequence_numbers_is_found(ws: Workspace) -> None:
    fill(ws)
    tamper(ws, 3, seq=-3)
    tamper(ws, 6, seq=3)
    tamper(ws, -3, seq=6)
    result = ws.verify_audit()
    assert (result.ok, result.broken_at) == (False, 3)


def test_verify_audit_releases_its_cursor_when_it_stops_early(ws: Workspace) -> None:
    """Stopping at the first entry leaves the rest of a streamed result unread.

    PostgreSQL: psycopg warns that a server-side cursor was deleted while open. MariaDB:
    PyMySQL warns "Previous unbuffered result was left incomplete" at COMMIT (an error
    under ``-W error``, so ``verify_audit`` raises instead of reporting).
    """
    for i in range(60):
        ws.ledger.audit("test.note", {"i": i})
    tamper(ws, 1, details=json.dumps({"i": -1}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ws.verify_audit()
        gc.collect()
        assert ws.verify_audit().broken_at == 1  # the connection is usable again
        gc.collect()
    assert (result.ok, result.broken_at) == (False, 1)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []


def _rechain_from(ws: Workspace, seq: int) -> None:
    """Rewrite entries ``seq``.. with valid hashes, as a forger would; leave the head."""
    all_rows = rows(ws)
    prev = all_rows[seq - 2].hash if seq > 1 else GENESIS
    for row in all_rows[seq - 1 :]:
        details = json.loads(row.details)
        at = row.at.replace(tzinfo=UTC)
        digest = entry_hash(prev, row.seq, at, row.actor, row.action, row.subject_id, details)
        tamper(ws, row.seq, prev_hash=prev, hash=digest)
        prev = digest


def test_a_rewritten_chain_is_found_at_the_entry_that_disagrees_with_the_head(
    ws: Workspace,
) -> None:
    """Entries 7 and 8 are altered and re-hashed; only the head still holds the truth."""
    n = fill(ws)
    tamper(ws, 7, details=json.dumps({"n": 77}))
    _rechain_from(ws, 7)
    result = ws.verify_audit()
    assert not result.ok
    # Nothing was removed: the last entry no longer matches the hash the head recorded.
    assert result.broken_at == n
    assert "removed" not in result.reason


def test_an_entry_appended_behind_the_head_is_found(ws: Workspace) -> None:
    """A forged, correctly chained entry n+1 inserted directly (the head still says n)."""
    n = fill(ws)
    last = rows(ws)[-1]
    at = last.at.replace(tzinfo=UTC) + timedelta(seconds=1)
    details = {"forged": True}
    digest = entry_hash(last.hash, n + 1, at, "x", "test.note", None, details)
    a = ws.ledger.database.tables.audit
    with ws.ledger.database.begin() as conn:
        conn.execute(
            a.insert().values(
                seq=n + 1,
                at=at,
                actor="x",
                action="test.note",
                subject_id=None,
                details=json.dumps(details, sort_keys=True, separators=(",", ":")),
                prev_hash=last.hash,
                hash=digest,
            )
        )
    result = ws.verify_audit()
    assert not result.ok
    assert result.broken_at == n + 1
    assert "removed" not in result.reason


def test_the_chain_continues_after_reopening(ws_root: Path, ws: Workspace) -> None:
    n = fill(ws)
    with Workspace.open(ws_root, clock=Clock(T0 + timedelta(days=1))) as again:
        entry = again.ledger.audit("test.note", {"reopened": True})
        assert entry.seq == n + 1
        assert entry.prev_hash == rows(ws)[n - 1].hash
        assert again.verify_audit().ok
    assert ws.verify_audit().checked == n + 1


# -- concurrency ---------------------------------------------------------------------------


def _run_threads(count: int, work: Any) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(who: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(who)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []


def test_concurrent_audit_appends_from_threads_keep_the_chain(ws: Workspace) -> None:
    per_thread = 40

    def work(who: int) -> None:
        for i in range(per_thread):
            ws.ledger.audit("test.concurrent", {"who": who, "i": i}, None, f"thread-{who}")

    _run_threads(2, work)
    entries = ws.audit_entries()
    assert [e.seq for e in entries] == list(range(1, 2 * per_thread + 1))
    assert sorted((e.details["who"], e.details["i"]) for e in entries) == sorted(
        (w, i) for w in range(2) for i in range(per_thread)
    )
    result = ws.verify_audit()
    assert (result.ok, result.checked) == (True, 2 * per_thread)


def test_concurrent_workspace_writes_keep_items_and_chain(ws: Workspace) -> None:
    ws.add_subject(["client"], subject_id="c0")
    ws.add_subject(["client"], subject_id="c1")
    per_thread = 15

    def work(who: int) -> None:
        for i in range(per_thread):
            ws.write([Item(f"c{who}", "invoicing_records", f"inv-{i}", f"EUR {i}", T0)])

    _run_threads(2, work)
    for who in range(2):
        assert len(ws.items_of(f"c{who}")["main"]) == per_thread
    written = [e for e in ws.audit_entries() if e.action == "items.written"]
    assert len(written) == 2 * per_thread
    assert ws.verify_audit().ok


_APPENDER = """
import sys, time
from pathlib import Path
from praclox_privacy.services.workspace import Workspace
root, count, who = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ws = Workspace.open(root)
go = Path(root) / "go"
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
for i in range(count):
    ws.ledger.audit("test.concurrent", {"who": who, "i": i}, None, who)
ws.close()
"""


def test_concurrent_audit_appends_from_processes_keep_the_chain_on_sqlite(
    tmp_path: Path,
) -> None:
    """SQLite is the backend where separate processes share one database file."""
    root = tmp_path / "ws"
    write_config(root, "sqlite:///ledger.db", "pp_")
    Workspace.open(root).close()  # create the schema before the race
    per_process = 400
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(root), str(per_process), f"p{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    time.sleep(0.2)
    (root / "go").touch()
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with Workspace.open(root) as ws:
        entries = ws.audit_entries()
        assert [e.seq for e in entries] == list(range(1, 2 * per_process + 1))
        assert {e.actor for e in entries} == {"p0", "p1"}
        assert ws.verify_audit().ok


# -- failures leave no audit entry ---------------------------------------------------------


def test_refused_write_leaves_no_audit_entry_and_items_unchanged(ws: Workspace) -> None:
    ws.add_subject(["contact_person", "website_user"], subject_id="zoe", name="Zoë")
    before_items = ws.items_of("zoe")
    before_rows = rows(ws)
    before_head = head(ws)
    items = [
        Item("zoe", "person_name", "name", "Changed", T0),  # would overwrite (batch of 1)
        Item("zoe", "website_account", "email", "zoe@example.org", T0),
        Item("zoe", "search_parameters", "query", "accountants Utrecht", T0),
    ]
    with pytest.raises(WriteRefused) as refused:
        ws.write(items)
    assert refused.value.index == 2
    assert ws.items_of("zoe") == before_items
    assert rows(ws) == before_rows
    assert head(ws) == before_head
    assert not any(e.action == "items.written" for e in ws.audit_entries()[len(before_rows) :])
    # the chain continues where it was
    assert ws.ledger.audit("test.note", {}).seq == before_head[0] + 1
    assert ws.verify_audit().ok


def test_rolled_back_transaction_takes_its_audit_entries_with_it(ws: Workspace) -> None:
    fill(ws)
    before_rows = rows(ws)
    before_head = head(ws)

    def add_then_fail() -> None:
        with ws.ledger.database.begin():
            ws.ledger.add_subject(Subject("ghost", {"client"}))
            ws.ledger.audit("test.note", {"inside": True})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    assert not ws.ledger.has_subject("ghost")
    assert rows(ws) == before_rows
    assert head(ws) == before_head
    assert ws.verify_audit().ok


def test_failed_rectify_and_event_leave_no_audit_entry(ws: Workspace) -> None:
    ws.add_subject(["client"], subject_id="acme", name="Acme")
    before_rows = rows(ws)
    with pytest.raises(KeyError):
        ws.rectify(ItemKey("acme", "office_contact", "phone"), "010-1234567")
    with pytest.raises(LedgerError):
        ws.record_event("nobody", "relation_ended", T0)
    assert rows(ws) == before_rows
    assert ws.verify_audit().ok
