"""The ``files`` store: one JSON document per subject in a folder, POSIX only.

Layout of the store's folder (``path`` in the settings, relative to the workspace)::

    <path>/.lock                   flock'ed: shared for reads, exclusive for changes
    <path>/subjects/<id>.json      one document per subject with at least one item
    <path>/.txn-<random>/          a transaction in progress (or left by a crash)
        <id>.json                  the staged new version of a subject's document
        COMMIT                     the commit marker: which documents to replace/delete

A change to one document is a temp file in ``subjects/`` (flushed and fsynced) renamed
over the document, then the folder is fsynced. A change to several documents stages their
new versions in a transaction folder, writes the ``COMMIT`` marker (atomically), then
renames them into place and removes the transaction folder. Whoever takes the exclusive
lock next first rolls forward any transaction with a marker and deletes any without one,
so a crash at any point leaves either the old or the new state of every document.

Subject ids are checked with :func:`~praclox_privacy.domain.records.check_subject_id`
before a path is built, and the resolved path must lie inside ``subjects/``.
"""

import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from ..domain.errors import InvalidValue
from ..domain.policy import Policy, RetentionAction
from ..domain.records import Item, ItemKey, check_subject_id
from ..hookspecs import hookimpl
from ..ports import (
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

__all__ = ["DOCUMENT_FORMAT", "FilesSettings", "FilesStore"]

DOCUMENT_FORMAT = 1
"""The version of the subject documents and commit markers this module writes and reads."""

_SUBJECTS = "subjects"
_LOCK = ".lock"
_TXN_PREFIX = ".txn-"
_TMP_PREFIX = ".tmp-"
_COMMIT = "COMMIT"
_SUFFIX = ".json"

_Fields = dict[tuple[str, str], Item]
"""A subject's items by ``(category, field)``."""


def _non_blank(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, f"{value!r} must be a folder path, not blank")


@attrs.frozen
class FilesSettings:
    """Settings of a ``files`` store.

    :ivar path: the store's folder; a relative path is relative to the workspace folder.
        It is created (private to the user) when missing.
    """

    path: str = attrs.field(default="data", validator=_non_blank)


def _flock(fd: int, exclusive: bool) -> None:
    """Take a shared or exclusive ``flock`` on ``fd``, waiting for it."""
    import fcntl  # POSIX only; imported here so loading the plugins works everywhere

    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def _fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (renames, new and deleted files) durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with ``data``, flushed and fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _remove_txn(txn: Path) -> None:
    """Delete a (flat) transaction folder: staged files first, the marker last."""
    for child in txn.iterdir():
        if child.name != _COMMIT:
            child.unlink()
    (txn / _COMMIT).unlink(missing_ok=True)
    txn.rmdir()


def _encode(subject_id: str, items: Iterable[Item]) -> bytes:
    """Return the JSON document of ``subject_id`` holding ``items``, one item per line.

    Non-ASCII text is kept readable (UTF-8) unless a value holds a lone surrogate, which
    UTF-8 cannot encode; then the whole document is written as escaped ASCII.
    """
    entries = [
        {
            "category": item.category,
            "field": item.field,
            "value": item.value,
            "collected_at": item.collected_at.isoformat(),
            "purposes": list(item.purposes),
        }
        for item in sorted(items, key=lambda i: (i.category, i.field))
    ]
    # Built by hand rather than with ``indent=``, which makes json use its slow encoder.
    for ascii_only in (False, True):
        lines = [json.dumps(entry, ensure_ascii=ascii_only) for entry in entries]
        body = "\n    " + ",\n    ".join(lines) + "\n  " if lines else ""
        text = (
            f'{{\n  "format": {DOCUMENT_FORMAT},\n'
            f'  "subject_id": {json.dumps(subject_id)},\n'
            f'  "items": [{body}]\n}}\n'
        )
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            continue
    raise AssertionError("unreachable: an ASCII-only document always encodes")


def _decode(subject_id: str, data: bytes) -> _Fields:
    """Return the items of a subject document.

    :raises ValueError, KeyError, TypeError: when the document is not a valid one.
    """
    document: Any = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("the document is not a JSON object")
    if document.get("format") != DOCUMENT_FORMAT:
        raise ValueError(
            f"format {document.get('format')!r} is not {DOCUMENT_FORMAT}, the format "
            "this library reads"
        )
    if document.get("subject_id") != subject_id:
        raise ValueError(f"it names subject {document.get('subject_id')!r}, not {subject_id!r}")
    items: _Fields = {}
    for entry in document["items"]:
        purposes = entry["purposes"]
        if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
            raise ValueError(f"purposes {purposes!r} are not a list of names")
        item = Item(
            subject_id,
            entry["category"],
            entry["field"],
            entry["value"],
            datetime.fromisoformat(entry["collected_at"]),
            purposes,
        )
        items[(item.category, item.field)] = item
    return items


def _valid_id(subject_id: str) -> bool:
    try:
        check_subject_id(subject_id)
    except InvalidValue:
        return False
    return True


@attrs.frozen
class _Marker:
    """The content of a transaction's ``COMMIT`` marker."""

    created_ns: int
    write: tuple[str, ...]
    delete: tuple[str, ...]


class FilesStore:
    """Items in one JSON document per subject, in a folder; safe across processes.

    Every read holds a shared ``flock`` on ``<path>/.lock`` and every change (write,
    erasure, rectification) an exclusive one for its whole read-modify-write, so
    concurrent processes never lose each other's changes.
    """

    def __init__(self, policy: Policy, path: str | os.PathLike[str], name: str = "files") -> None:
        """Open the store in folder ``path``, creating it when missing.

        Leftovers of a crash are cleaned up: committed transactions are rolled forward,
        the others rolled back.

        :raises StoreUnavailable: when the folder cannot be created or written.
        :raises StoreError: when a leftover transaction cannot be understood.
        """
        self.name = name
        self._policy = policy
        self._root = Path(path).absolute()
        self._subjects = self._root / _SUBJECTS
        self._closed = False
        try:
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._subjects.mkdir(mode=0o700, exist_ok=True)
            self._subjects_real = self._subjects.resolve(strict=True)
        except (OSError, RuntimeError) as error:
            raise StoreUnavailable(
                f"store {name!r}: cannot create the folder {self._subjects}: {_reason(error)}"
            ) from None
        for folder in (self._root, self._subjects):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreUnavailable(f"store {name!r}: the folder {folder} is not writable")
        with self._locked(exclusive=True):
            for leftover in self._subjects.glob(f"{_TMP_PREFIX}*"):
                leftover.unlink()

    @classmethod
    def open(cls, settings: FilesSettings, context: StoreContext) -> "FilesStore":
        """Open the store ``settings`` describe, in the workspace of ``context``."""
        return cls(context.policy, Path(context.base_dir) / settings.path, context.name)

    @property
    def path(self) -> Path:
        """The store's folder (absolute)."""
        return self._root

    # -- the Store protocol -----------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Return what this store supports: everything, transactionally."""
        return Capabilities(
            notes=(
                "Retention queries read every subject document of the folder; fine for "
                "thousands of subjects, slow for millions.",
                "Needs POSIX file locks (flock); the folder must be on a local file system.",
            )
        )

    def health(self) -> Health:
        """Return whether the folder exists and is writable; never raises."""
        if self._closed:
            return Health(False, f"store {self.name!r} is closed")
        try:
            if not self._subjects.is_dir():
                return Health(False, f"{self._subjects}: the folder is missing")
            for folder in (self._root, self._subjects):
                if not os.access(folder, os.W_OK | os.X_OK):
                    return Health(False, f"{folder}: the folder is not writable")
            count = len(self._list_subjects())
        except OSError as error:
            return Health(False, f"{self._root}: {_reason(error)}")
        return Health(True, f"{self._root}: {count} subject documents")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items`` all or nothing; see :meth:`praclox_privacy.ports.Store.write`.

        Every item is checked before the folder is touched; the new versions of the
        affected documents are then committed together.
        """
        staged: dict[str, _Fields] = {}
        types: dict[str, frozenset[str]] = {}
        count = 0
        for index, item in enumerate(items):
            subject_id = item.subject_id
            if subject_id not in staged:
                try:
                    self._document(subject_id)
                except (InvalidValue, StoreError) as error:
                    raise WriteRefused(index, item.key, str(error)) from None
            if subject_id not in types:
                types[subject_id] = relation_types(subject_id)
            reason = check_storable(item, types[subject_id], self._policy)
            if reason is not None:
                raise WriteRefused(index, item.key, reason)
            staged.setdefault(subject_id, {})[(item.category, item.field)] = item
            count += 1
        if not staged:
            return count
        with self._locked(exclusive=True):
            changes: dict[str, bytes | None] = {}
            for subject_id, new in staged.items():
                current = self._read(subject_id)
                current.update(new)
                changes[subject_id] = _encode(subject_id, current.values())
            self._commit(changes)
        return count

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field.

        :raises InvalidValue: when ``subject_id`` is not a valid subject id.
        """
        self._document(subject_id)
        with self._locked(exclusive=False):
            items = self._read(subject_id)
        return [items[k] for k in sorted(items)]

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one item, each once, sorted."""
        with self._locked(exclusive=False):
            found = self._list_subjects()
        return iter(found)

    def categories_held(self) -> Mapping[str, int]:
        """Return how many items the store holds per category (reads every document)."""
        counts: Counter[str] = Counter()
        with self._locked(exclusive=False):
            for subject_id in self._list_subjects():
                counts.update(category for category, _ in self._read(subject_id))
        return dict(counts)

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys of the items ``query`` selects, sorted.

        The documents are read under the lock before the first key is yielded, so the
        keys can be passed straight to :meth:`erase`.
        """
        with self._locked(exclusive=False):
            keys = [
                item.key
                for subject_id in self._candidates(query)
                for item in self._read(subject_id).values()
                if query.matches(item)
            ]
        return iter(sorted(keys, key=lambda k: (k.subject_id, k.category, k.field)))

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase or anonymise the items with ``keys``; missing keys are skipped.

        :returns: how many of the keys were found (an item already anonymised counts).
        :raises InvalidValue: when a key's subject id is not a valid subject id; then
            nothing is erased.
        """
        wanted: dict[str, set[tuple[str, str]]] = {}
        for key in keys:
            if key.subject_id not in wanted:
                self._document(key.subject_id)
            wanted.setdefault(key.subject_id, set()).add((key.category, key.field))
        if not wanted:
            return 0
        with self._locked(exclusive=True):
            return len(self._erase_locked(wanted, None, action))

    def erase_due(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """Erase or anonymise every item ``query`` selects, in one transaction."""
        with self._locked(exclusive=True):
            candidates = dict.fromkeys(self._candidates(query))
            erased = self._erase_locked(candidates, query, action)
            return ErasedItems(len(erased), {k.subject_id for k in erased})

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key``; ``collected_at`` stays (retention runs on).

        :raises KeyError: when no such item exists.
        """
        self._document(key.subject_id)
        with self._locked(exclusive=True):
            items = self._read(key.subject_id)
            try:
                item = items[(key.category, key.field)]
            except KeyError:
                raise KeyError(f"no item {key} in store {self.name!r}") from None
            rectified = attrs.evolve(item, value=value)
            items[(key.category, key.field)] = rectified
            self._commit({key.subject_id: _encode(key.subject_id, items.values())})
        return rectified

    def close(self) -> None:
        """Mark the store closed; it holds no file or lock between calls."""
        self._closed = True

    # -- paths, locking and reading ---------------------------------------------------

    def _document(self, subject_id: str) -> Path:
        """Return the path of the document of ``subject_id``, inside ``subjects/``.

        :raises InvalidValue: when ``subject_id`` is not a valid subject id.
        :raises StoreError: when the path resolves outside the folder (e.g. a symlink).
        """
        check_subject_id(subject_id)
        path = self._subjects / f"{subject_id}{_SUFFIX}"
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as error:
            raise StoreError(f"store {self.name!r}: {path}: {_reason(error)}") from None
        if real.parent != self._subjects_real:
            raise StoreError(
                f"store {self.name!r}: the document of subject {subject_id!r} resolves to "
                f"{real}, outside {self._subjects_real}; refused"
            )
        return path

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the folder's lock; with it exclusive, finish or undo crashed transactions.

        A shared holder that finds a crashed transaction takes the exclusive lock to
        clean it up first. ``OSError`` becomes :class:`StoreUnavailable` when the folder
        is gone and :class:`StoreError` otherwise.
        """
        if self._closed:
            raise StoreError(f"store {self.name!r} is closed")
        try:
            fd = os.open(self._root / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise StoreUnavailable(
                f"store {self.name!r}: cannot open the lock file in {self._root}: {_reason(error)}"
            ) from None
        try:
            _flock(fd, exclusive)
            if exclusive:
                self._recover()
            elif self._pending():
                _flock(fd, exclusive=True)
                self._recover()
            yield
        except OSError as error:
            gone = not self._subjects.is_dir()
            kind = StoreUnavailable if gone else StoreError
            raise kind(f"store {self.name!r} ({self._root}): {_reason(error)}") from error
        finally:
            os.close(fd)

    def _read(self, subject_id: str) -> _Fields:
        """Return the items of ``subject_id`` by ``(category, field)`` (empty if none)."""
        path = self._document(subject_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            return _decode(subject_id, data)
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"store {self.name!r}: {path} is not a valid subject document "
                f"({type(error).__name__}: {error}); restore it from a backup"
            ) from None

    def _list_subjects(self) -> list[str]:
        """Return the ids of the subjects that have a document, sorted."""
        found = []
        for entry in self._subjects.iterdir():
            name = entry.name
            if name.endswith(_SUFFIX) and _valid_id(name[: -len(_SUFFIX)]):
                found.append(name[: -len(_SUFFIX)])
        return sorted(found)

    def _candidates(self, query: DueQuery) -> list[str]:
        """Return the subjects whose documents may hold items ``query`` selects."""
        if query.subject_ids is None:
            return self._list_subjects()
        return sorted(s for s in query.subject_ids if _valid_id(s))

    # -- changing documents -----------------------------------------------------------

    def _erase_locked(
        self,
        wanted: Mapping[str, set[tuple[str, str]] | None],
        query: DueQuery | None,
        action: RetentionAction,
    ) -> list[ItemKey]:
        """Erase or anonymise, per subject, the fields named (``None``: all) that match.

        The caller holds the exclusive lock.
        """
        erased: list[ItemKey] = []
        changes: dict[str, bytes | None] = {}
        for subject_id, fields in wanted.items():
            items = self._read(subject_id)
            hits = [
                k
                for k, item in items.items()
                if (fields is None or k in fields) and (query is None or query.matches(item))
            ]
            if not hits:
                continue
            erased.extend(ItemKey(subject_id, c, f) for c, f in hits)
            changed = False
            for k in hits:
                if action is RetentionAction.ERASE:
                    del items[k]
                    changed = True
                elif items[k].value != ANONYMISED:
                    items[k] = attrs.evolve(items[k], value=ANONYMISED)
                    changed = True
            if changed:
                changes[subject_id] = _encode(subject_id, items.values()) if items else None
        self._commit(changes)
        return erased

    def _commit(self, changes: Mapping[str, bytes | None]) -> None:
        """Replace (bytes) or delete (``None``) documents, all or nothing.

        The caller holds the exclusive lock.
        """
        if len(changes) == 1:
            ((subject_id, data),) = changes.items()
            self._replace_one(subject_id, data)
        elif changes:
            txn = self._stage(changes)
            try:
                self._apply(txn, self._read_marker(txn))
            except OSError as error:
                raise StoreError(
                    f"store {self.name!r} ({self._root}): the change was committed but not "
                    f"fully applied ({_reason(error)}); the next operation on the store "
                    "completes it"
                ) from error

    def _replace_one(self, subject_id: str, data: bytes | None) -> None:
        """Atomically replace (or delete) one document: temp file, fsync, rename."""
        path = self._document(subject_id)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_SUFFIX, dir=self._subjects)
            temp = Path(name)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                temp.replace(path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        try:
            _fsync_dir(self._subjects)
        except OSError as error:
            raise StoreError(
                f"store {self.name!r}: {path} was changed, but syncing its folder failed "
                f"({_reason(error)}); the change may be lost if the machine crashes"
            ) from error

    def _stage(self, changes: Mapping[str, bytes | None]) -> Path:
        """Write a committed transaction folder for ``changes``; return it.

        When this fails, the transaction folder is removed and no document changed.
        """
        txn = Path(tempfile.mkdtemp(prefix=_TXN_PREFIX, dir=self._root))
        try:
            for subject_id, data in changes.items():
                self._document(subject_id)
                if data is not None:
                    _write_new_file(txn / f"{subject_id}{_SUFFIX}", data)
            _fsync_dir(txn)
            marker = {
                "format": DOCUMENT_FORMAT,
                "created_ns": time.time_ns(),
                "write": sorted(s for s, d in changes.items() if d is not None),
                "delete": sorted(s for s, d in changes.items() if d is None),
            }
            _write_new_file(txn / f"{_COMMIT}.tmp", json.dumps(marker, indent=2).encode())
            (txn / f"{_COMMIT}.tmp").replace(txn / _COMMIT)
            _fsync_dir(txn)
            _fsync_dir(self._root)
        except BaseException:
            with suppress(OSError):  # else the next exclusive holder removes it (no marker)
                _remove_txn(txn)
            raise
        return txn

    def _read_marker(self, txn: Path) -> _Marker:
        """Return the ``COMMIT`` marker of ``txn``, every subject id in it checked.

        :raises StoreError: when the marker is not valid; nothing is changed then.
        """
        path = txn / _COMMIT
        try:
            marker: Any = json.loads(path.read_bytes())
            if not isinstance(marker, dict) or marker.get("format") != DOCUMENT_FORMAT:
                raise ValueError(f"format {marker!r} is not {DOCUMENT_FORMAT}")
            write = tuple(marker["write"])
            delete = tuple(marker["delete"])
            for subject_id in (*write, *delete):
                if not isinstance(subject_id, str):
                    raise ValueError(f"{subject_id!r} is not a subject id")
                self._document(subject_id)
            return _Marker(int(marker["created_ns"]), write, delete)
        except (ValueError, KeyError, TypeError, StoreError) as error:
            raise StoreError(
                f"store {self.name!r}: the commit marker {path} is not valid ({error}); "
                "nothing was applied. Inspect the transaction folder, then delete it"
            ) from None

    def _apply(self, txn: Path, marker: _Marker) -> None:
        """Move a committed transaction's documents into place, then remove it.

        Idempotent, so a crash while applying is finished by the next lock holder: a
        staged document that is gone was already moved.
        """
        for subject_id in marker.write:
            staged = txn / f"{subject_id}{_SUFFIX}"
            if staged.exists():
                staged.replace(self._document(subject_id))
        for subject_id in marker.delete:
            self._document(subject_id).unlink(missing_ok=True)
        _fsync_dir(self._subjects)
        _remove_txn(txn)
        _fsync_dir(self._root)

    def _pending(self) -> list[Path]:
        """Return the transaction folders present (left by a crash, under the lock)."""
        return [p for p in self._root.iterdir() if p.name.startswith(_TXN_PREFIX) and p.is_dir()]

    def _recover(self) -> None:
        """Roll forward committed transactions (oldest first); delete the others.

        The caller holds the exclusive lock.
        """
        committed: list[tuple[int, str, Path, _Marker]] = []
        for txn in self._pending():
            if (txn / _COMMIT).exists():
                marker = self._read_marker(txn)
                committed.append((marker.created_ns, txn.name, txn, marker))
            else:
                _remove_txn(txn)
        if not committed:
            return
        for _, _, txn, marker in sorted(committed, key=lambda c: (c[0], c[1])):
            self._apply(txn, marker)


def _reason(error: BaseException) -> str:
    """Return an OS error's message with the file it names, for error messages."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error)


def _factory(settings: FilesSettings, context: StoreContext) -> FilesStore:
    return FilesStore.open(settings, context)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``files`` store kind."""
    register(
        StoreKind(
            name="files",
            factory=_factory,
            settings_type=FilesSettings,
            description="One JSON document per subject in a folder; atomic, crash-safe "
            "and safe for several processes (POSIX file locks).",
        )
    )
