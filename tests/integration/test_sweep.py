"""The retention sweep across stores, on real servers and as killed processes.

(a) the same result on memory, files, SQLite, PostgreSQL and MariaDB stores; (b) kill -9 at
20 random points; (c) two sweeps at once and the lock; (d) failing stores; (e)
anonymisation; (f) batches of a non-primary store interrupted after their intent.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from helpers import append_config, cli_command, new_workspace, run, sql_config, sql_store
from praclox_privacy import Consent, Evidence, Item, decide
from praclox_privacy.domain.policy import RetentionAction
from praclox_privacy.formats.policy import default_policy_text
from praclox_privacy.ports import ANONYMISED, CONFIG_NAME, ErasedItems, StoreUnavailable
from praclox_privacy.services.guards import record_agreement
from praclox_privacy.services.sweep import SweepBusy, SweepReport, run_sweep
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.files.store import FilesStore

if TYPE_CHECKING:
    from collections.abc import Callable

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
BUSY = "another sweep of this workspace is running"
FILES = '\n[stores.files]\nplugin = "files"\npath = "files"\n'

Snapshot = dict[str, dict[str, list[tuple[str, str, str, datetime]]]]
"""store -> subject -> sorted (category, field, value, collected_at in UTC)."""


# -- helpers ------------------------------------------------------------------------------


def anonymise_accounts(policy_text: str) -> str:
    """The policy, but with website accounts anonymised instead of erased."""
    rule = 'id = "website_accounts"\n'
    assert policy_text.count(rule) == 1
    return policy_text.replace(rule, rule + 'action = "anonymise"\n')


def snapshot(ws: Workspace) -> Snapshot:
    ids = [s.id for s in ws.ledger.subjects()]
    return {
        name: {
            sid: sorted(
                (i.category, i.field, i.value, i.collected_at.astimezone(UTC))
                for i in ws.store(name).items_of(sid)
            )
            for sid in ids
        }
        for name in ws.store_names
    }


def count(snap: Snapshot, store: str) -> int:
    return sum(len(items) for items in snap[store].values())


def audited(ws: Workspace, action: str = "sweep.erased") -> dict[str, int]:
    """How many items the audit trail says the sweep erased, per store."""
    per_store: dict[str, int] = {}
    for entry in ws.audit_entries():
        if entry.action == action:
            store = entry.details["store"]
            per_store[store] = per_store.get(store, 0) + entry.details["count"]
    return per_store


def intents_left(ws: Workspace) -> int:
    t = ws.ledger.database.tables.intents
    with ws.ledger.database.begin() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)


def counts_by_store(report: SweepReport) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for e in report.erased:
        row = (e.rule, e.category, e.action.value, e.count, e.subjects)
        found.setdefault(e.store, []).append(row)
    return {store: sorted(rows) for store, rows in found.items()}


def held_by_store(report: SweepReport) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for h in report.held:
        row = (h.rule, h.category, h.kind, h.ground, h.count, sorted(h.until.items()))
        found.setdefault(h.store, []).append(row)
    return {store: sorted(rows) for store, rows in found.items()}


def keep_application(subject_id: str, granted_at: datetime) -> Consent:
    return Consent(subject_id, "keep_application", granted_at, Evidence("e-mail", "ok", "test"))


# -- (a) the same result on every store -----------------------------------------------------

N_4M = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
N_3M = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
N_2M = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
N_1M = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
N_13M = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
N_8Y = datetime(2017, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2016, 1, 1, tzinfo=UTC)
SEC = timedelta(seconds=1)

# id -> relation types, organisation, events
SUBJECTS: dict[str, tuple[list[str], str | None, dict[str, datetime]]] = {
    "a-due": (["applicant"], None, {"rejected": N_4M}),
    "a-consent": (["applicant"], None, {"rejected": N_4M}),
    "a-withdrawn": (["applicant"], None, {"rejected": N_4M}),
    "a-recent": (["applicant"], None, {"rejected": N_1M}),
    "a-waiting": (["applicant"], None, {}),
    "c-ended": (["client"], None, {"relation_ended": N_13M, "used": NOW - timedelta(days=31)}),
    "c-old": (["client"], None, {"relation_ended": N_8Y}),
    "c-active": (["client"], None, {}),
    "p-ended": (["contact_person"], "c-ended", {"relation_ended": N_13M}),
    "p-active": (["contact_person"], "c-active", {}),
    "w-closed": (["website_user"], None, {"account_closed": N_2M}),
    "w-open": (["website_user"], None, {}),
    "w-both": (["contact_person", "website_user"], "c-active", {"account_closed": N_2M}),
    "prospect": (["prospect"], None, {"relation_ended": N_13M}),
}


def dataset() -> list[Item]:
    """Items at every point of their retention clocks, boundaries on both sides."""
    rows: list[tuple[str, str, str, datetime]] = []
    for a in ("a-due", "a-consent", "a-withdrawn", "a-recent", "a-waiting"):
        rows += [(a, "application", "name", BEFORE), (a, "application", "email", BEFORE)]
    rows += [
        ("a-due", "application", "cv", N_3M),  # its own 3 months end exactly now: due
        ("a-due", "application", "letter", N_3M + SEC),  # one second short: kept
    ]
    for c in ("c-ended", "c-old", "c-active"):
        at = LONG_AGO if c == "c-old" else BEFORE
        rows += [
            (c, "office_identity", "name", at),
            (c, "office_address", "city", at),
            (c, "office_contact", "email", at),
            (c, "invoicing_records", "2016-001" if c == "c-old" else "2024-001", at),
        ]
    rows += [("c-ended", "client_system_data", "export.csv", BEFORE)]
    rows += [
        ("p-ended", "person_name", "name", BEFORE),
        ("p-ended", "person_contact", "email", BEFORE),
        ("p-ended", "life_events", "birthday", BEFORE),
        ("p-ended", "recording", "call-1", NOW - timedelta(days=30)),  # due exactly now
        ("p-ended", "recording", "call-2", NOW - timedelta(days=30) + SEC),  # kept
        ("p-active", "person_name", "name", BEFORE),
        ("p-active", "recording", "call-0", NOW - timedelta(days=40)),
        ("w-both", "person_name", "name", BEFORE),
        ("prospect", "office_identity", "name", BEFORE),
        ("prospect", "office_contact", "email", BEFORE),
    ]
    for w in ("w-closed", "w-open", "w-both"):
        rows += [(w, "website_account", "name", BEFORE), (w, "website_account", "email", BEFORE)]
    return [Item(s, c, f, f"{s}/{f}", at) for s, c, f, at in rows]


def register(ws: Workspace) -> None:
    for sid, (types, organisation, events) in SUBJECTS.items():
        ws.add_subject(types, subject_id=sid, organisation=organisation)
        for name, at in events.items():
            ws.record_event(sid, name, at)
    ws.ledger.add_consent(keep_application("a-consent", N_4M + timedelta(days=1)))
    ws.ledger.add_consent(keep_application("a-withdrawn", N_4M + timedelta(days=1)).withdraw(N_1M))
    # The guards (S10, S13): a transfer agreement and prior recording consents.
    record_agreement(ws, "c-ended", "client_data_transfer", agreed_at=BEFORE - timedelta(days=1))
    for sid, call in (("p-ended", "call-1"), ("p-ended", "call-2"), ("p-active", "call-0")):
        given = Consent(sid, "recording", BEFORE, Evidence("phone", "ok", "test"), scope=call)
        ws.ledger.add_consent(given)


def expected_after_sweep(ws: Workspace, items: list[Item]) -> dict[str, list[tuple[Any, ...]]]:
    """The items `decide` (the one-item-at-a-time reference) says remain, and how."""
    left: dict[str, list[tuple[Any, ...]]] = {sid: [] for sid in SUBJECTS}
    for item in items:
        subject = ws.ledger.subject(item.subject_id)
        decision = decide(item, subject, ws.ledger.consents_of(subject.id), ws.policy, NOW)
        value = item.value
        if decision.is_due:
            if decision.action is RetentionAction.ERASE:
                continue
            value = ANONYMISED
        left[item.subject_id].append((item.category, item.field, value, item.collected_at))
    return {sid: sorted(rows) for sid, rows in left.items()}


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def every_store(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A workspace with a store of every kind; the primary on each SQL backend in turn."""
    urls = {
        "sqlite": "sqlite:///praclox-privacy.db",
        "postgresql": request.getfixturevalue("postgresql_url"),
        "mariadb": request.getfixturevalue("mariadb_url"),
    }
    primary = request.param
    others = '\n[stores.mem]\nplugin = "memory"\n' + FILES
    for backend, url in urls.items():  # the primary's backend too, as another store
        others += sql_store(backend, url if backend != "sqlite" else "sqlite:///second.db")
    root = tmp_path / "ws"
    root.mkdir()
    (root / "policy.toml").write_text(anonymise_accounts(default_policy_text()), encoding="utf-8")
    (root / CONFIG_NAME).write_text(sql_config(urls[primary], others, "policy.toml"), "utf-8")
    return root


def test_the_sweep_gives_the_same_result_on_every_store(every_store: Path) -> None:
    items = dataset()
    # A memory store lives as long as its Workspace: write and sweep with the same one.
    with Workspace.open(every_store) as ws:
        assert len(ws.store_names) == 6
        register(ws)
        for name in ws.store_names:
            assert ws.write(items, name) == len(items)
        expected = expected_after_sweep(ws, items)
        before = snapshot(ws)
        assert all(snap == before["main"] for snap in before.values())

        report = run_sweep(ws, NOW)

        assert report.ok, report.failures
        after = snapshot(ws)
        for name in ws.store_names:
            assert after[name] == expected, name
        # What changed: some items erased, website accounts anonymised, the rest kept.
        assert count(after, "main") < count(before, "main")
        assert any(row[2] == ANONYMISED for rows in after["main"].values() for row in rows)
        assert after["main"]["c-ended"] == [
            ("invoicing_records", "2024-001", "c-ended/2024-001", BEFORE)
        ]
        counts = counts_by_store(report)
        held = held_by_store(report)
        assert set(counts) == set(held) == set(ws.store_names)
        for name in ws.store_names:
            assert counts[name] == counts["main"], name
            assert held[name] == held["main"], name
        anonymised = ("website_accounts", "website_account", "anonymise", 4, ("w-both", "w-closed"))
        assert anonymised in counts["main"]
        hold = next(r for r in ws.policy.retention if r.id == "invoicing_records").legal_hold
        assert hold is not None
        assert [h[:5] for h in held["main"]] == [
            ("applications", "application", "consent", "keep_application", 2),
            ("invoicing_records", "invoicing_records", "legal_hold", hold.law, 1),
        ]
        # Every store's erasures are audited, each store's on its own.
        per_store = audited(ws)
        for name in ws.store_names:
            gone = count(before, name) - count(after, name)
            assert per_store[name] == gone, name
        assert audited(ws, "sweep.anonymised") == dict.fromkeys(ws.store_names, 4)
        assert intents_left(ws) == 0

        # A second sweep at the same instant finds nothing more, in any store.
        again = run_sweep(ws, NOW)
        assert again.ok
        assert again.total == 0
        assert snapshot(ws) == after
        assert ws.verify_audit().ok


# -- a workspace with many due subjects in two stores, and its reference sweep -------------

SUBJECT_COUNT = 300

CHILD = """
import json, sys, time
from datetime import datetime
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace

marks = {}

def progress(done, total):
    # The primary store's batches come first: note when they are done.
    if done == total // 2:
        marks["primary"] = time.perf_counter() - start

with Workspace.open(sys.argv[1]) as ws:
    print("ready", flush=True)
    start = time.perf_counter()
    report = run_sweep(
        ws, datetime.fromisoformat(sys.argv[2]), batch_subjects=5, on_progress=progress
    )
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "total": report.total, **marks}), flush=True)
"""


def build_many(root: Path) -> None:
    """300 applicants (9 in 10 due at NOW), 3 items in `main` and 2 in `files` each."""
    new_workspace(root, FILES)
    ids = [f"a{i:03d}" for i in range(SUBJECT_COUNT)]
    with Workspace.open(root) as ws:
        for n, sid in enumerate(ids):
            ws.add_subject(["applicant"], subject_id=sid)
            recent = n % 10 == 0
            ws.record_event(sid, "rejected", NOW - timedelta(days=20 if recent else 400))
        fields = {"main": ("name", "email", "cv"), "files": ("cv", "letter")}
        for store, names in fields.items():
            ws.write(
                [Item(sid, "application", f, f"{sid} {f}", BEFORE) for sid in ids for f in names],
                store,
            )


class Many:
    """The built workspace, its items before and after an uninterrupted sweep, its time."""

    def __init__(
        self, base: Path, before: Snapshot, after: Snapshot, seconds: float, primary: float
    ) -> None:
        self.base = base
        self.before = before
        self.after = after
        self.seconds = seconds
        """How long the uninterrupted sweep took."""
        self.primary = primary
        """When it was done with the primary store (the rest is the `files` store)."""

    def gone(self, store: str) -> int:
        return count(self.before, store) - count(self.after, store)


def sweep_process(root: Path) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), NOW.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Many:
    folder = tmp_path_factory.mktemp("many")
    base = folder / "base"
    build_many(base)
    with Workspace.open(base) as ws:
        before = snapshot(ws)
    reference = folder / "reference"
    shutil.copytree(base, reference)
    with sweep_process(reference) as proc:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    with Workspace.open(reference) as ws:
        after = snapshot(ws)
    assert result["total"] == count(before, "main") - count(after, "main") + (
        count(before, "files") - count(after, "files")
    )
    assert result["total"] == SUBJECT_COUNT * 9 // 10 * 5
    return Many(base, before, after, result["seconds"], result["primary"])


def assert_swept_once(ws: Workspace, many: Many) -> None:
    """The workspace ends like the reference, with every erasure audited exactly once."""
    assert snapshot(ws) == many.after
    assert audited(ws) == {"main": many.gone("main"), "files": many.gone("files")}
    assert intents_left(ws) == 0


# -- (b) kill -9 at 20 random points ---------------------------------------------------------


def test_a_sweep_killed_at_20_random_points_ends_like_an_uninterrupted_one(
    many: Many, tmp_path: Path
) -> None:
    rng = random.Random(20251126)
    killed = 0
    states: set[tuple[int, int, int]] = set()
    for point in range(20):
        root = tmp_path / f"point-{point}"
        shutil.copytree(many.base, root)
        # Half the kills while the primary store is swept (fast: set-based), half after.
        if point % 2 == 0:
            delay = rng.uniform(0, many.primary)
        else:
            delay = rng.uniform(many.primary, many.seconds)
        with sweep_process(root) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        killed += proc.returncode == -signal.SIGKILL
        with Workspace.open(root) as ws:
            left = snapshot(ws)
            states.add((count(left, "main"), count(left, "files"), intents_left(ws)))
            report = run_sweep(ws, NOW, batch_subjects=5)
            assert report.ok
            assert_swept_once(ws, many)
        verified = run("audit", "verify", "-w", root)
        assert verified.exit_code == 0, (point, verified.output)
        shutil.rmtree(root)
    # The kills interrupted sweeps, at different points of their work.
    assert killed >= 10
    assert len(states) >= 4, states


# -- (c) two sweeps at once ------------------------------------------------------------------


def cli_process(root: Path, *extra: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [*cli_command(), "sweep", "-w", str(root), "--now", NOW.isoformat(), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("wait", [False, True], ids=["no-wait", "wait"])
def test_two_sweeps_started_at_once_never_erase_twice(
    many: Many, tmp_path: Path, wait: bool
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(many.base, root)
    extra = ("--format", "json", *(("--wait",) if wait else ()))
    procs = [cli_process(root, *extra) for _ in range(2)]
    outcomes = []
    for proc in procs:
        with proc:
            out, err = proc.communicate(timeout=120)
        outcomes.append((proc.returncode, out, err))
    totals = []
    for code, out, err in outcomes:
        if code == 0:
            totals.append(json.loads(out)["total"])
        else:
            # The other one ran: this one says so, and did nothing.
            assert not wait, err
            assert code == 1, err
            assert BUSY in err
            assert out == ""
    assert totals, outcomes
    assert sum(totals) == many.gone("main") + many.gone("files")
    with Workspace.open(root) as ws:
        assert_swept_once(ws, many)
        assert ws.verify_audit().ok


def lock_workspace(tmp_path: Path, request: pytest.FixtureRequest, backend: str) -> Path:
    url = {
        "sqlite": "sqlite:///praclox-privacy.db",
        "postgresql": "postgresql_url",
        "mariadb": "mariadb_url",
    }[backend]
    if backend != "sqlite":
        url = request.getfixturevalue(url)
    root = tmp_path / "ws"
    root.mkdir()
    (root / CONFIG_NAME).write_text(sql_config(url), encoding="utf-8")
    with Workspace.open(root) as ws:
        ws.add_subject(["applicant"], subject_id="ann")
        ws.record_event("ann", "rejected", N_4M)
        ws.write([Item("ann", "application", "cv", "cv", BEFORE)])
    return root


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_while_a_sweep_runs_another_stops_with_a_clear_message(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    root = lock_workspace(tmp_path, request, backend)
    with Workspace.open(root) as holder, Workspace.open(root) as other:
        trail = holder.audit_entries()
        with holder.ledger.database.exclusive("sweep") as held:
            assert held
            result = run("sweep", "-w", root, "--now", NOW.isoformat())
            assert result.exit_code == 1
            assert BUSY in result.output
            assert "--wait" in result.output
            with pytest.raises(SweepBusy):
                run_sweep(other, NOW)
            assert other.audit_entries() == trail
            assert [i.field for i in other.store().items_of("ann")] == ["cv"]
        # Released: the next sweep runs.
        assert run_sweep(other, NOW).total == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_with_wait_a_second_sweep_waits_for_the_first(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    root = lock_workspace(tmp_path, request, backend)
    with Workspace.open(root) as holder:
        with holder.ledger.database.exclusive("sweep") as held:
            assert held
            proc = cli_process(root, "--wait", "--format", "json")
            time.sleep(2.5)
            still_running = proc.poll() is None
            unchanged = [i.field for i in holder.store().items_of("ann")] == ["cv"]
        with proc:
            out, err = proc.communicate(timeout=60)
        assert still_running, (out, err)
        assert unchanged
        assert proc.returncode == 0, err
        assert json.loads(out)["total"] == 1
        assert holder.store().items_of("ann") == []


# -- (d) a store that fails -------------------------------------------------------------------

DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none"


def two_store_workspace(root: Path, extra: str = "") -> Path:
    """`main` and `files`, with a due applicant ann (2 + 2 items) and a kept one bob."""
    new_workspace(root, FILES + extra)
    with Workspace.open(root) as ws:
        for sid, rejected in (("ann", N_4M), ("bob", N_1M)):
            ws.add_subject(["applicant"], subject_id=sid)
            ws.record_event(sid, "rejected", rejected)
            for store in ("main", "files"):
                ws.write(
                    [Item(sid, "application", f, f"{sid} {f}", BEFORE) for f in ("cv", "letter")],
                    store,
                )
    return root


def fields(ws: Workspace, store: str, sid: str) -> list[str]:
    return [i.field for i in ws.store(store).items_of(sid)]


def test_a_store_that_is_down_is_reported_and_the_others_complete(tmp_path: Path) -> None:
    root = two_store_workspace(tmp_path / "ws", sql_store("down", DOWN))
    result = run("sweep", "-w", root, "--now", NOW.isoformat(), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [f["store"] for f in report["failures"]] == ["down"]
    assert "'down'" in report["failures"][0]["error"]
    assert {(e["store"], e["count"]) for e in report["erased"]} == {("main", 2), ("files", 2)}
    with Workspace.open(root) as ws:
        for store in ("main", "files"):
            assert fields(ws, store, "ann") == []
            assert fields(ws, store, "bob") == ["cv", "letter"]
        assert audited(ws) == {"main": 2, "files": 2}
        assert audited(ws, "sweep.intent") == {"files": 2}
        assert intents_left(ws) == 0
        finished = [e for e in ws.audit_entries() if e.action == "sweep.finished"]
        assert finished[-1].details["ok"] is False
        assert finished[-1].details["failed_stores"] == ["down"]
    # The text report says so too, and the exit code stays 1 while the store is down.
    text = run("sweep", "-w", root, "--now", NOW.isoformat())
    assert text.exit_code == 1
    assert "FAILED store down: " in text.stderr
    assert text.stdout.splitlines()[-1] == (
        "0 items erased in 0 stores; 0 held back; 1 store failed"
    )


def test_a_store_failing_mid_sweep_keeps_its_items_unaudited_until_a_later_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_store_workspace(tmp_path / "ws")

    def unavailable(self: FilesStore, query: Any, action: RetentionAction) -> ErasedItems:
        raise StoreUnavailable(f"store {self.name!r}: the disk went away")

    with monkeypatch.context() as patch:
        patch.setattr(FilesStore, "erase_due", unavailable)
        with Workspace.open(root) as ws:
            report = run_sweep(ws, NOW)
            assert [(f.store, f.error) for f in report.failures] == [
                ("files", "store 'files': the disk went away")
            ]
            assert {(e.store, e.count) for e in report.erased} == {("main", 2)}
            assert fields(ws, "main", "ann") == []
            assert fields(ws, "files", "ann") == ["cv", "letter"]
            assert audited(ws) == {"main": 2}  # nothing of `files` recorded as erased
    with Workspace.open(root) as ws:
        report = run_sweep(ws, NOW)
        assert report.ok
        assert report.recovered == 2
        assert fields(ws, "files", "ann") == []
        assert fields(ws, "files", "bob") == ["cv", "letter"]
        assert audited(ws) == {"main": 2, "files": 2}
        assert intents_left(ws) == 0


def test_a_store_failing_part_way_reports_what_it_erased_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_store_workspace(tmp_path / "ws")
    with Workspace.open(root) as ws:
        for sid in ("cas", "dirk"):
            ws.add_subject(["applicant"], subject_id=sid)
            ws.record_event(sid, "rejected", N_4M)
            ws.write([Item(sid, "application", "cv", "cv", BEFORE)], "files")
    real_erase: Callable[..., ErasedItems] = FilesStore.erase_due
    calls: list[Any] = []

    def fails_second_time(self: FilesStore, query: Any, action: RetentionAction) -> ErasedItems:
        calls.append(query)
        if len(calls) == 2:
            raise StoreUnavailable(f"store {self.name!r}: the disk went away")
        return real_erase(self, query, action)

    monkeypatch.setattr(FilesStore, "erase_due", fails_second_time)
    with Workspace.open(root) as ws:
        report = run_sweep(ws, NOW, batch_subjects=1)  # ann, cas, dirk: one batch each
        assert [f.store for f in report.failures] == ["files"]
        assert audited(ws) == {"main": 2, "files": 2}  # ann's 2 items went before the failure
        assert fields(ws, "files", "ann") == []
        assert fields(ws, "files", "cas") == ["cv"]
        # The report agrees with the audit trail: what went before the failure is listed.
        assert {(e.store, e.count) for e in report.erased} == {("main", 2), ("files", 2)}
        assert report.total == 4


# -- (e) anonymisation ------------------------------------------------------------------------


def test_anonymise_replaces_values_keeps_the_items_and_never_repeats(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    policy = root / "policy.toml"
    assert run("policy", "init", policy).exit_code == 0
    policy.write_text(anonymise_accounts(policy.read_text(encoding="utf-8")), encoding="utf-8")
    assert run("policy", "check", policy).exit_code == 0
    assert run("init", root, "--policy", "policy.toml").exit_code == 0
    append_config(root, FILES)
    account = [("name", "Zoë"), ("email", "zoe@example.org")]
    with Workspace.open(root) as ws:
        for sid in ("zoe", "max"):
            ws.add_subject(["website_user"], subject_id=sid)
            for store in ("main", "files"):
                ws.write([Item(sid, "website_account", f, v, BEFORE) for f, v in account], store)
        ws.record_event("zoe", "account_closed", N_2M)

    first = run("sweep", "-w", root, "--now", NOW.isoformat())
    assert first.exit_code == 0, first.output
    assert "2 website_account items erased (anonymise) in main" in first.stdout
    with Workspace.open(root) as ws:
        for store in ("main", "files"):
            zoe = ws.store(store).items_of("zoe")
            assert [(i.field, i.value, i.collected_at) for i in zoe] == [
                ("email", ANONYMISED, BEFORE),
                ("name", ANONYMISED, BEFORE),
            ]
            assert [i.value for i in ws.store(store).items_of("max")] == [
                "zoe@example.org",
                "Zoë",
            ]
        assert audited(ws, "sweep.anonymised") == {"main": 2, "files": 2}
        assert audited(ws) == {}
        trail = len(ws.audit_entries())
    # Anonymised items are never selected again, now or years later.
    for later in (NOW, NOW + timedelta(days=5 * 365)):
        again = json.loads(
            run("sweep", "-w", root, "--now", later.isoformat(), "--format", "json").stdout
        )
        assert again["total"] == 0
        assert again["erased"] == []
    with Workspace.open(root) as ws:
        assert audited(ws, "sweep.anonymised") == {"main": 2, "files": 2}
        assert len(ws.audit_entries()) == trail + 2  # two `sweep.finished`, nothing else
        assert len(ws.store("files").items_of("zoe")) == 2


# -- (f) a batch of another store interrupted after its intent --------------------------------


@pytest.mark.parametrize("crash", ["before-erasing", "after-erasing"])
def test_an_interrupted_batch_of_another_store_is_finished_and_audited_once(
    many: Many, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash: str
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(many.base, root)
    real_erase: Callable[..., ErasedItems] = FilesStore.erase_due
    calls: list[Any] = []

    def dies_once(self: FilesStore, query: Any, action: RetentionAction) -> ErasedItems:
        calls.append(query)
        if len(calls) == 1:
            if crash == "after-erasing":
                real_erase(self, query, action)
            raise SystemExit("killed")
        return real_erase(self, query, action)

    monkeypatch.setattr(FilesStore, "erase_due", dies_once)
    with Workspace.open(root) as ws, pytest.raises(SystemExit):
        run_sweep(ws, NOW, batch_subjects=5)
    assert len(calls[0].subject_ids) == 5
    interrupted = 10  # 5 subjects, 2 items each
    with Workspace.open(root) as ws:
        assert intents_left(ws) == 1
        assert audited(ws, "sweep.intent") == {"files": interrupted}
        assert "files" not in audited(ws)
        files_left = count(snapshot(ws), "files")
        erased_already = interrupted if crash == "after-erasing" else 0
        assert files_left == count(many.before, "files") - erased_already

    result = run("sweep", "-w", root, "--now", NOW.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["recovered"] == interrupted
    with Workspace.open(root) as ws:
        assert_swept_once(ws, many)
        recovered = [
            e
            for e in ws.audit_entries()
            if e.action == "sweep.erased" and e.details.get("recovered")
        ]
        assert [e.details["count"] for e in recovered] == [interrupted]
        assert ws.verify_audit().ok
    text = run("sweep", "-w", root, "--now", NOW.isoformat())
    assert "finished" not in text.stdout  # nothing left to recover


def test_finishing_an_interrupted_batch_spares_data_written_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sweep dies after recording its intent for ann's `files` items; before the next
    # sweep, ann's cv is stored again, fresh (its own 3 months have not run). An
    # uninterrupted sweep followed by that write would leave the fresh cv.
    root = two_store_workspace(tmp_path / "ws")
    real_erase: Callable[..., ErasedItems] = FilesStore.erase_due

    def dies(self: FilesStore, query: Any, action: RetentionAction) -> ErasedItems:
        raise SystemExit("killed")

    with monkeypatch.context() as patch:
        patch.setattr(FilesStore, "erase_due", dies)
        with Workspace.open(root) as ws, pytest.raises(SystemExit):
            run_sweep(ws, NOW)
    assert FilesStore.erase_due is real_erase
    fresh = Item("ann", "application", "cv", "new cv", NOW - timedelta(days=1))
    with Workspace.open(root) as ws:
        assert intents_left(ws) == 1
        ws.write([fresh], "files")
        report = run_sweep(ws, NOW)
        assert report.ok
        assert ws.store("files").items_of("ann") == [fresh]
        assert audited(ws) == {"main": 2, "files": 1}


# -- categories a newer policy marks ephemeral (S11) ----------------------------------------


def test_S11_items_of_a_category_made_ephemeral_are_swept_and_reported(tmp_path: Path) -> None:
    """Issue 16, item 15: items written while a category was kept (an older policy) are
    erased by the next sweep once the policy marks the category ephemeral (S11), in every
    store, and the report says so; another subject's other data stays."""
    import attrs

    from praclox_privacy import default_policy
    from praclox_privacy.ports import StoreContext
    from praclox_privacy.stores.sql import SqlSettings
    from praclox_privacy.stores.sql.store import SqlStore

    root = tmp_path / "ws"
    new_workspace(root, FILES)
    with Workspace.open(root, clock=lambda: NOW) as ws:
        ws.add_subject(["client"], subject_id="acme", name="Acme")
        ws.add_subject(["contact_person"], subject_id="jan", organisation="acme", name="Jan")
    current = default_policy()
    older = attrs.evolve(
        current,
        categories=tuple(
            attrs.evolve(c, ephemeral=False) if c.id == "search_parameters" else c
            for c in current.categories
        ),
    )
    search = Item("jan", "search_parameters", "query", "bakkers in Utrecht", BEFORE)

    def types(subject_id: str) -> frozenset[str]:
        return frozenset({"contact_person"}) if subject_id == "jan" else frozenset()

    main = SqlStore.open(SqlSettings(), StoreContext(older, "main", str(root)))
    main.write([search], types)
    main.close()
    files = FilesStore(older, root / "files", "files")
    files.write([search], types)
    files.close()

    with Workspace.open(root, clock=lambda: NOW) as ws:
        dry = run_sweep(ws, NOW, dry_run=True)
        assert {(e.store, e.category, e.rule, e.count) for e in dry.erased} >= {
            ("main", "search_parameters", "ephemeral", 1),
            ("files", "search_parameters", "ephemeral", 1),
        }
        report = run_sweep(ws, NOW)
        swept = {(e.store, e.rule, e.count, e.subjects) for e in report.erased}
        assert ("main", "ephemeral", 1, ("jan",)) in swept
        assert ("files", "ephemeral", 1, ("jan",)) in swept
        for name in ("main", "files"):
            assert all(i.category != "search_parameters" for i in ws.store(name).items_of("jan"))
        assert [i.field for i in ws.store("main").items_of("jan")] == ["name"]
        assert [i.field for i in ws.store("main").items_of("acme")] == ["name"]
        assert audited(ws)["main"] == 1
        assert run_sweep(ws, NOW).erased == ()
