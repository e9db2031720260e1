"""The files store's documents on disk: their encoding, locks, fsyncs and commit markers."""

import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from ...domain.errors import InvalidValue
from ...domain.records import Item, check_subject_id
from ...formats.jsonout import to_json

__all__ = [
    "COMMIT",
    "DOCUMENT_FORMAT",
    "LOCK",
    "SUBJECTS",
    "SUFFIX",
    "TMP_PREFIX",
    "TXN_PREFIX",
    "Fields",
    "Marker",
    "decode",
    "encode",
    "flock",
    "fsync_dir",
    "reason",
    "remove_txn",
    "valid_id",
    "write_new_file",
]

DOCUMENT_FORMAT = 1
"""The version of the subject documents and commit markers this module writes and reads."""

SUBJECTS = "subjects"
LOCK = ".lock"
TXN_PREFIX = ".txn-"
TMP_PREFIX = ".tmp-"
COMMIT = "COMMIT"
SUFFIX = ".json"

Fields = dict[tuple[str, str], Item]
"""A subject's items by ``(category, field)``."""


def flock(fd: int, exclusive: bool) -> None:
    """Take a shared or exclusive ``flock`` on ``fd``, waiting for it."""
    import fcntl  # POSIX only; imported here so loading the plugins works everywhere

    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (renames, new and deleted files) durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with ``data``, flushed and fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def remove_txn(txn: Path) -> None:
    """Delete a (flat) transaction folder: staged files first, the marker last."""
    for child in txn.iterdir():
        if child.name != COMMIT:
            child.unlink()
    (txn / COMMIT).unlink(missing_ok=True)
    txn.rmdir()


def encode(subject_id: str, items: Iterable[Item]) -> bytes:
    """Return the JSON document of ``subject_id`` holding ``items``, one item per line.

    Non-ASCII text is kept readable (UTF-8) unless a value holds a lone surrogate, which
    UTF-8 cannot encode; then the whole document is written as escaped ASCII.
    """
    entries = [  # the document names the subject once
        to_json(item, omit=("subject_id",))
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


def decode(subject_id: str, data: bytes) -> Fields:
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
    items: Fields = {}
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


def valid_id(subject_id: str) -> bool:
    """Return whether ``subject_id`` is a valid subject id (one a document may be named by)."""
    try:
        check_subject_id(subject_id)
    except InvalidValue:
        return False
    return True


@attrs.frozen
class Marker:
    """The content of a transaction's ``COMMIT`` marker."""

    created_ns: int
    write: tuple[str, ...]
    delete: tuple[str, ...]


def reason(error: BaseException) -> str:
    """Return an OS error's message with the file it names, for error messages."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error)
