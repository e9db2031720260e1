import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from praclox_privacy import Policy
from praclox_privacy.domain.errors import InvalidValue
from praclox_privacy.domain.policy import RetentionAction
from praclox_privacy.domain.records import ItemKey
from praclox_privacy.ports import (
    DueQuery,
    Store,
    StoreContext,
    StoreError,
    StoreKind,
    StoreUnavailable,
    WriteRefused,
)
from praclox_privacy.stores import files
from praclox_privacy.stores.files import FilesSettings
from praclox_privacy.stores.files.store import FilesStore
from praclox_privacy.testing import StoreContract, make_item, relation_types_of


class TestFilesStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy, tmp_path: Path) -> Callable[[], Store]:
        counter = iter(range(1_000_000))
        return lambda: FilesStore(policy, tmp_path / f"store-{next(counter)}", name="docs")


@pytest.fixture
def policy_default() -> Policy:
    from praclox_privacy import default_policy

    return default_policy()


@pytest.fixture
def store(policy_default: Policy, tmp_path: Path) -> FilesStore:
    return FilesStore(policy_default, tmp_path / "data", name="docs")


def _sample() -> list:
    return [
        make_item("client-1", "office_identity", "name", "Kantoor De Vries B.V."),
        make_item("client-1", "office_contact", "email", "info@devries.example"),
        make_item("person-1", "person_name", "name", "Jan Jansen"),
        make_item("person-2", "person_name", "name", "Zoë Ørsted ✓"),
    ]


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but the lock file, with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _txn_folders(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name.startswith(".txn-")]


# -- plugin registration ----------------------------------------------------------------


def test_registers_the_files_kind_relative_to_the_workspace(policy_default, tmp_path) -> None:
    kinds: list[StoreKind] = []
    files.register_stores(kinds.append)
    (kind,) = kinds
    assert kind.name == "files"
    assert kind.settings_type is FilesSettings
    assert FilesSettings().path == "data"
    store = kind.factory(FilesSettings(), StoreContext(policy_default, "docs", str(tmp_path)))
    assert isinstance(store, Store)
    assert store.name == "docs"
    assert (tmp_path / "data" / "subjects").is_dir()
    store.close()
    with pytest.raises(InvalidValue, match="path"):
        FilesSettings(path=" ")


# -- documents ----------------------------------------------------------------------------


def test_documents_are_valid_json_one_per_subject(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    docs = sorted(p.name for p in (store.path / "subjects").iterdir())
    assert docs == ["client-1.json", "person-1.json", "person-2.json"]
    client = json.loads((store.path / "subjects" / "client-1.json").read_text("utf-8"))
    assert client["subject_id"] == "client-1"
    assert [(i["category"], i["field"]) for i in client["items"]] == [
        ("office_contact", "email"),
        ("office_identity", "name"),
    ]
    item = client["items"][0]
    assert set(item) == {"category", "field", "value", "collected_at", "purposes"}
    assert datetime.fromisoformat(item["collected_at"]).utcoffset() is not None
    assert item["collected_at"].endswith("+00:00")
    # Non-ASCII text stays readable in the file.
    assert "Zoë Ørsted ✓" in (store.path / "subjects" / "person-2.json").read_text("utf-8")


def test_a_value_utf8_cannot_encode_is_escaped_and_round_trips(store: FilesStore) -> None:
    odd = "broken \udc80 surrogate"
    store.write([make_item("person-1", "person_name", "name", odd)], relation_types_of)
    raw = (store.path / "subjects" / "person-1.json").read_bytes()
    raw.decode("ascii")
    assert json.loads(raw)["items"][0]["value"] == odd
    assert store.items_of("person-1")[0].value == odd


def test_a_subject_with_no_items_left_has_no_document(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    keys = [i.key for i in store.items_of("client-1")]
    assert store.erase(keys, RetentionAction.ERASE) == 2
    assert not (store.path / "subjects" / "client-1.json").exists()
    assert list(store.subject_ids()) == ["person-1", "person-2"]
    assert store.erase_due(DueQuery({"person_name"}), RetentionAction.ERASE).count == 2
    assert list((store.path / "subjects").iterdir()) == []


def test_anonymising_twice_counts_both_times(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    key = ItemKey("person-1", "person_name", "name")
    assert store.erase([key, key], RetentionAction.ANONYMISE) == 1
    assert store.erase([key], RetentionAction.ANONYMISE) == 1
    assert store.items_of("person-1")[0].value == "[anonymised]"
    assert "Jan Jansen" not in (store.path / "subjects" / "person-1.json").read_text("utf-8")


def test_a_corrupt_document_is_a_clear_error(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    doc = store.path / "subjects" / "person-1.json"
    doc.write_text("{not json", "utf-8")
    with pytest.raises(StoreError, match=r"person-1\.json is not a valid subject document"):
        store.items_of("person-1")
    doc.write_text(json.dumps({"format": 1, "subject_id": "person-2", "items": []}), "utf-8")
    with pytest.raises(StoreError, match="names subject 'person-2'"):
        store.items_of("person-1")


# -- subject ids can never name a path outside the folder ------------------------------

ESCAPING_IDS = [
    "../../etc/passwd",
    "../person-1",
    "/etc/passwd",
    "a/b",
    "..",
    ".",
    ".lock",
    ".txn-x",
    "",
    "x" * 129,
    "a\x00b",
    "a\\b",
    "person-1/../../x",
]


def _anyone(subject_id: str) -> frozenset[str]:
    return frozenset({"contact_person"})


@pytest.mark.parametrize("subject_id", ESCAPING_IDS)
def test_escaping_subject_ids_are_rejected(store: FilesStore, subject_id: str) -> None:
    store.write(_sample(), relation_types_of)
    before = _snapshot(store.path.parent)
    with pytest.raises(InvalidValue, match="not a valid subject id"):
        store.items_of(subject_id)
    with pytest.raises(InvalidValue, match="not a valid subject id"):
        store.erase([ItemKey(subject_id, "person_name", "name")], RetentionAction.ERASE)
    with pytest.raises(InvalidValue, match="not a valid subject id"):
        store.rectify(ItemKey(subject_id, "person_name", "name"), "x")
    # An item can hold such an id only when its validation is bypassed.
    item = make_item("person-1", "person_name", "name", "x")
    object.__setattr__(item, "subject_id", subject_id)
    with pytest.raises(WriteRefused, match="not a valid subject id") as info:
        store.write(
            [make_item("person-2", "person_name", "name", "y"), item],
            lambda s: frozenset({"contact_person"}),
        )
    assert info.value.index == 1
    # A retention query naming such a subject matches nothing.
    assert list(store.find_due(DueQuery({"person_name"}, {subject_id}))) == []
    assert _snapshot(store.path.parent) == before


def test_a_document_resolving_outside_the_folder_is_refused(store: FilesStore, tmp_path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"format": 1, "subject_id": "evil", "items": []}), "utf-8")
    (store.path / "subjects" / "evil.json").symlink_to(outside)
    with pytest.raises(StoreError, match="outside"):
        store.items_of("evil")
    with pytest.raises(WriteRefused, match="outside"):
        store.write([make_item("evil", "person_name", "name", "x")], relation_types_of)
    assert outside.read_text("utf-8").startswith("{")


# -- all or nothing -------------------------------------------------------------------------


def test_a_refused_write_leaves_every_document_byte_identical(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    before = _snapshot(store.path)
    batch = [
        make_item("client-1", "office_identity", "name", "changed"),
        make_item("person-1", "person_name", "name", "changed"),
        make_item("person-2", "person_contact", "email", "new@example.org"),
        make_item("person-1", "search_parameters", "query", "x"),
    ]
    with pytest.raises(WriteRefused) as info:
        store.write(batch, relation_types_of)
    assert info.value.index == 3
    assert _snapshot(store.path) == before


def test_a_write_failing_on_disk_leaves_every_document_byte_identical(
    store: FilesStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(_sample(), relation_types_of)
    before = _snapshot(store.path)
    real_fsync = os.fsync
    calls = []
    fail_at = [2]  # the second fsync: a staged document of the transaction

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == fail_at[0]:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    batch = [
        make_item("client-1", "office_identity", "name", "changed"),
        make_item("person-1", "person_name", "name", "changed"),
        make_item("person-2", "person_contact", "email", "new@example.org"),
    ]
    with pytest.raises(StoreError, match="No space left on device"):
        store.write(batch, relation_types_of)
    monkeypatch.undo()
    assert _snapshot(store.path) == before
    assert _txn_folders(store.path) == []
    # A single-document write failing before its rename leaves no temp file behind.
    calls.clear()
    fail_at[0] = 1
    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StoreError, match="No space left on device"):
        store.write([make_item("person-1", "person_name", "name", "x")], relation_types_of)
    monkeypatch.undo()
    assert _snapshot(store.path) == before


# -- crashes ---------------------------------------------------------------------------------


def _staged_doc(subject_id: str, value: str) -> str:
    return json.dumps(
        {
            "format": 1,
            "subject_id": subject_id,
            "items": [
                {
                    "category": "person_name",
                    "field": "name",
                    "value": value,
                    "collected_at": "2026-01-15T09:30:00+00:00",
                    "purposes": [],
                }
            ],
        }
    )


def _leave_transaction(root: Path, committed: bool) -> Path:
    """A transaction folder as a crash leaves it: person-1 and -2 replaced, client-1 deleted."""
    txn = root / ".txn-crashed"
    txn.mkdir()
    (txn / "person-1.json").write_text(_staged_doc("person-1", "new one"), "utf-8")
    (txn / "person-2.json").write_text(_staged_doc("person-2", "new two"), "utf-8")
    if committed:
        marker = {
            "format": 1,
            "created_ns": time.time_ns(),
            "write": ["person-1", "person-2"],
            "delete": ["client-1"],
        }
        (txn / "COMMIT").write_text(json.dumps(marker), "utf-8")
    return txn


def test_opening_rolls_a_committed_transaction_forward(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    FilesStore(policy_default, root).write(_sample(), relation_types_of)
    txn = _leave_transaction(root, committed=True)
    # The crash came after person-1 was moved into place.
    (txn / "person-1.json").replace(root / "subjects" / "person-1.json")
    store = FilesStore(policy_default, root)
    assert _txn_folders(root) == []
    assert [i.value for i in store.items_of("person-1")] == ["new one"]
    assert [i.value for i in store.items_of("person-2")] == ["new two"]
    assert store.items_of("client-1") == []
    assert list(store.subject_ids()) == ["person-1", "person-2"]


def test_opening_rolls_an_uncommitted_transaction_back(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    FilesStore(policy_default, root).write(_sample(), relation_types_of)
    before = _snapshot(root)
    _leave_transaction(root, committed=False)
    (root / "subjects" / ".tmp-half-written.json").write_text("{", "utf-8")
    store = FilesStore(policy_default, root)
    assert _txn_folders(root) == []
    assert _snapshot(root) == before
    assert [i.value for i in store.items_of("person-1")] == ["Jan Jansen"]


def test_a_reader_finishes_a_transaction_a_crashed_writer_left(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    store = FilesStore(policy_default, root)
    store.write(_sample(), relation_types_of)
    _leave_transaction(root, committed=True)
    assert [i.value for i in store.items_of("person-2")] == ["new two"]
    assert _txn_folders(root) == []


def test_a_tampered_commit_marker_is_refused_and_nothing_applied(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    FilesStore(policy_default, root).write(_sample(), relation_types_of)
    txn = _leave_transaction(root, committed=True)
    marker = json.loads((txn / "COMMIT").read_text("utf-8"))
    marker["delete"] = ["../../etc/passwd"]
    (txn / "COMMIT").write_text(json.dumps(marker), "utf-8")
    before = _snapshot(root / "subjects")
    with pytest.raises(StoreError, match=r"commit marker .* is not valid"):
        FilesStore(policy_default, root)
    assert _snapshot(root / "subjects") == before


_CRASHING_WRITER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from praclox_privacy.formats.policy import default_policy
    from praclox_privacy.stores.files.store import FilesStore
    from praclox_privacy.testing import make_item, relation_types_of

    root, crash_at = sys.argv[1], sys.argv[2]
    real_replace = Path.replace
    moved = []

    def crashing_replace(self, target):
        target = Path(target)
        if crash_at == "commit" and target.name == "COMMIT":
            os._exit(3)
        if crash_at == "apply" and target.parent.name == "subjects":
            if moved:
                os._exit(3)
            moved.append(target)
        return real_replace(self, target)

    Path.replace = crashing_replace
    store = FilesStore(default_policy(), root)
    store.write(
        [
            make_item("client-1", "office_identity", "name", "new"),
            make_item("person-1", "person_name", "name", "new"),
            make_item("person-2", "person_name", "name", "new"),
        ],
        relation_types_of,
    )
    """
)


@pytest.mark.parametrize(("crash_at", "expected"), [("commit", "old"), ("apply", "new")])
def test_a_writer_killed_mid_transaction_leaves_old_or_new_state(
    policy_default, tmp_path, crash_at: str, expected: str
) -> None:
    root = tmp_path / "data"
    FilesStore(policy_default, root).write(_sample(), relation_types_of)
    before = _snapshot(root / "subjects")
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_WRITER, str(root), crash_at],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert len(_txn_folders(root)) == 1
    store = FilesStore(policy_default, root)
    assert _txn_folders(root) == []
    values = {
        s: [i.value for i in store.items_of(s) if i.field == "name"]
        for s in ("client-1", "person-1", "person-2")
    }
    if expected == "old":
        assert _snapshot(root / "subjects") == before
    else:
        assert values == {"client-1": ["new"], "person-1": ["new"], "person-2": ["new"]}


# -- several processes ------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from praclox_privacy.formats.policy import default_policy
    from praclox_privacy.stores.files.store import FilesStore
    from praclox_privacy.testing import make_item, relation_types_of

    root, tag, own, own_category, go = sys.argv[1:]
    store = FilesStore(default_policy(), root, name=tag)
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    batch, written, size = [], 0, 1
    for n in range(1000):
        if n % 2:
            batch.append(make_item("person-1", "person_contact", f"{tag}-{n}", str(n)))
        else:
            batch.append(make_item(own, own_category, f"{tag}-{n}", str(n)))
        if len(batch) == size or n == 999:
            written += store.write(batch, relation_types_of)
            batch, size = [], size % 9 + 1
    store.close()
    assert written == 1000, written
    """
)


def test_two_processes_writing_at_once_lose_nothing(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    go = tmp_path / "go"
    FilesStore(policy_default, root).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), tag, own, category, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag, own, category in (
            ("a", "client-1", "office_contact"),
            ("b", "client-2", "office_address"),
        )
    ]
    go.touch()
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    store = FilesStore(policy_default, root)
    shared = {i.field for i in store.items_of("person-1")}
    assert shared == {f"{tag}-{n}" for tag in "ab" for n in range(1, 1000, 2)}
    assert {i.field for i in store.items_of("client-1")} == {f"a-{n}" for n in range(0, 1000, 2)}
    assert {i.field for i in store.items_of("client-2")} == {f"b-{n}" for n in range(0, 1000, 2)}
    assert sum(store.categories_held().values()) == 2000
    assert _txn_folders(root) == []
    assert [p.name for p in (root / "subjects").iterdir() if p.name.startswith(".")] == []


# -- availability -------------------------------------------------------------------------------


def test_a_folder_that_cannot_be_created_is_unavailable(policy_default, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", "utf-8")
    with pytest.raises(StoreUnavailable, match=str(blocker / "data")):
        FilesStore(policy_default, blocker / "data")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_a_read_only_folder_is_unavailable(policy_default, tmp_path) -> None:
    root = tmp_path / "data"
    FilesStore(policy_default, root).close()
    root.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailable, match="not writable"):
            FilesStore(policy_default, root)
    finally:
        root.chmod(0o700)


def test_health_reports_a_removed_folder(store: FilesStore) -> None:
    store.write(_sample(), relation_types_of)
    assert store.health().ok
    assert "3 subject documents" in store.health().detail
    shutil.rmtree(store.path)
    health = store.health()
    assert not health.ok
    assert str(store.path) in health.detail
    with pytest.raises(StoreUnavailable, match=str(store.path)):
        store.write(_sample(), relation_types_of)
    store.close()
    assert not store.health().ok
    with pytest.raises(StoreError, match="closed"):
        store.items_of("person-1")
