"""The ``files`` store itself: reads under a shared lock, changes under an exclusive one."""

import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs

from ...domain.errors import InvalidValue
from ...domain.policy import Policy, RetentionAction
from ...domain.records import Item, ItemKey, check_subject_id
from ...ports import (
    ANONYMISED,
    Capabilities,
    DueQuery,
    ErasedItems,
    Health,
    RelationTypesOf,
    StoreContext,
    StoreError,
    StoreUnavailable,
    WriteRefused,
    check_storable,
)
from . import FilesSettings
from .disk import (
    COMMIT,
    DOCUMENT_FORMAT,
    LOCK,
    SUBJECTS,
    SUFFIX,
    TMP_PREFIX,
    TXN_PREFIX,
    Fields,
    Marker,
    decode,
    encode,
    flock,
    fsync_dir,
    reason,
    remove_txn,
    valid_id,
    write_new_file,
)

__all__ = ["FilesStore"]


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
        self._subjects = self._root / SUBJECTS
        self._closed = False
        try:
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._subjects.mkdir(mode=0o700, exist_ok=True)
            self._subjects_real = self._subjects.resolve(strict=True)
        except (OSError, RuntimeError) as error:
            raise StoreUnavailable(
                f"store {name!r}: cannot create the folder {self._subjects}: {reason(error)}"
            ) from None
        for folder in (self._root, self._subjects):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreUnavailable(f"store {name!r}: the folder {folder} is not writable")
        with self._locked(exclusive=True):
            for leftover in self._subjects.glob(f"{TMP_PREFIX}*"):
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
            return Health(False, f"{self._root}: {reason(error)}")
        return Health(True, f"{self._root}: {count} subject documents")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items`` all or nothing; see :meth:`praclox_privacy.ports.Store.write`.

        Every item is checked before the folder is touched; the new versions of the
        affected documents are then committed together.
        """
        staged: dict[str, Fields] = {}
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
                changes[subject_id] = encode(subject_id, current.values())
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
            self._commit({key.subject_id: encode(key.subject_id, items.values())})
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
        path = self._subjects / f"{subject_id}{SUFFIX}"
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as error:
            raise StoreError(f"store {self.name!r}: {path}: {reason(error)}") from None
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
            fd = os.open(self._root / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise StoreUnavailable(
                f"store {self.name!r}: cannot open the lock file in {self._root}: {reason(error)}"
            ) from None
        try:
            flock(fd, exclusive)
            if exclusive:
                self._recover()
            elif self._pending():
                flock(fd, exclusive=True)
                self._recover()
            yield
        except OSError as error:
            gone = not self._subjects.is_dir()
            kind = StoreUnavailable if gone else StoreError
            raise kind(f"store {self.name!r} ({self._root}): {reason(error)}") from error
        finally:
            os.close(fd)

    def _read(self, subject_id: str) -> Fields:
        """Return the items of ``subject_id`` by ``(category, field)`` (empty if none)."""
        path = self._document(subject_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            return decode(subject_id, data)
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
            if name.endswith(SUFFIX) and valid_id(name[: -len(SUFFIX)]):
                found.append(name[: -len(SUFFIX)])
        return sorted(found)

    def _candidates(self, query: DueQuery) -> list[str]:
        """Return the subjects whose documents may hold items ``query`` selects."""
        if query.subject_ids is None:
            return self._list_subjects()
        return sorted(s for s in query.subject_ids if valid_id(s))

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
                changes[subject_id] = encode(subject_id, items.values()) if items else None
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
                    f"fully applied ({reason(error)}); the next operation on the store "
                    "completes it"
                ) from error

    def _replace_one(self, subject_id: str, data: bytes | None) -> None:
        """Atomically replace (or delete) one document: temp file, fsync, rename."""
        path = self._document(subject_id)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=SUFFIX, dir=self._subjects)
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
            fsync_dir(self._subjects)
        except OSError as error:
            raise StoreError(
                f"store {self.name!r}: {path} was changed, but syncing its folder failed "
                f"({reason(error)}); the change may be lost if the machine crashes"
            ) from error

    def _stage(self, changes: Mapping[str, bytes | None]) -> Path:
        """Write a committed transaction folder for ``changes``; return it.

        When this fails, the transaction folder is removed and no document changed.
        """
        txn = Path(tempfile.mkdtemp(prefix=TXN_PREFIX, dir=self._root))
        try:
            for subject_id, data in changes.items():
                self._document(subject_id)
                if data is not None:
                    write_new_file(txn / f"{subject_id}{SUFFIX}", data)
            fsync_dir(txn)
            marker = {
                "format": DOCUMENT_FORMAT,
                "created_ns": time.time_ns(),
                "write": sorted(s for s, d in changes.items() if d is not None),
                "delete": sorted(s for s, d in changes.items() if d is None),
            }
            write_new_file(txn / f"{COMMIT}.tmp", json.dumps(marker, indent=2).encode())
            (txn / f"{COMMIT}.tmp").replace(txn / COMMIT)
            fsync_dir(txn)
            fsync_dir(self._root)
        except BaseException:
            with suppress(OSError):  # else the next exclusive holder removes it (no marker)
                remove_txn(txn)
            raise
        return txn

    def _read_marker(self, txn: Path) -> Marker:
        """Return the ``COMMIT`` marker of ``txn``, every subject id in it checked.

        :raises StoreError: when the marker is not valid; nothing is changed then.
        """
        path = txn / COMMIT
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
            return Marker(int(marker["created_ns"]), write, delete)
        except (ValueError, KeyError, TypeError, StoreError) as error:
            raise StoreError(
                f"store {self.name!r}: the commit marker {path} is not valid ({error}); "
                "nothing was applied. Inspect the transaction folder, then delete it"
            ) from None

    def _apply(self, txn: Path, marker: Marker) -> None:
        """Move a committed transaction's documents into place, then remove it.

        Idempotent, so a crash while applying is finished by the next lock holder: a
        staged document that is gone was already moved.
        """
        for subject_id in marker.write:
            staged = txn / f"{subject_id}{SUFFIX}"
            if staged.exists():
                staged.replace(self._document(subject_id))
        for subject_id in marker.delete:
            self._document(subject_id).unlink(missing_ok=True)
        fsync_dir(self._subjects)
        remove_txn(txn)
        fsync_dir(self._root)

    def _pending(self) -> list[Path]:
        """Return the transaction folders present (left by a crash, under the lock)."""
        return [p for p in self._root.iterdir() if p.name.startswith(TXN_PREFIX) and p.is_dir()]

    def _recover(self) -> None:
        """Roll forward committed transactions (oldest first); delete the others.

        The caller holds the exclusive lock.
        """
        committed: list[tuple[int, str, Path, Marker]] = []
        for txn in self._pending():
            if (txn / COMMIT).exists():
                marker = self._read_marker(txn)
                committed.append((marker.created_ns, txn.name, txn, marker))
            else:
                remove_txn(txn)
        if not committed:
            return
        for _, _, txn, marker in sorted(committed, key=lambda c: (c[0], c[1])):
            self._apply(txn, marker)
