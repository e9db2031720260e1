"""Streaming readers for item files: JSON Lines and CSV, one item per record.

Columns (CSV header) or keys (JSON object): ``subject_id``, ``category``, ``field``,
``value``, and optionally ``collected_at`` (ISO 8601 with a UTC offset; default: the
import's instant) and ``purposes`` (a JSON array, or ``;``-separated in CSV). Files are read
line by line and never held in memory whole. Every error names the file and line.
"""

import csv
import json
from array import array
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..domain.errors import InvalidValue, PracloxPrivacyError
from ..domain.records import Item

__all__ = ["FORMATS", "ImportFormatError", "ItemReader", "detect_format"]

FORMATS = ("jsonl", "csv")
_REQUIRED = ("subject_id", "category", "field", "value")
_OPTIONAL = ("collected_at", "purposes")
_ALLOWED = frozenset(_REQUIRED + _OPTIONAL)


class ImportFormatError(PracloxPrivacyError):
    """A record of an item file cannot be read; names the file and line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {message}")


def detect_format(path: Path) -> str:
    """Return ``jsonl`` or ``csv`` from the file name's extension.

    :raises ImportFormatError: for another extension.
    """
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ImportFormatError(
        str(path), 0, "unknown format: name it .jsonl or .csv, or pass --format"
    )


class ItemReader:
    """Iterate over the items of a file, remembering each item's line number.

    :param default_collected_at: the instant for records without ``collected_at``.
    :param on_progress: called now and then with the number of bytes read so far.
    """

    def __init__(
        self,
        path: Path,
        fmt: str,
        default_collected_at: datetime,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ImportFormatError(str(path), 0, f"unknown format {fmt!r}")
        self.path = path
        self.fmt = fmt
        self.default_collected_at = default_collected_at
        self.lines = array("Q")
        """``lines[i]`` is the line where item ``i`` starts."""
        self._on_progress = on_progress
        self._bytes = 0
        self._line = 0

    def line_of(self, index: int) -> int:
        """Return the line number of item ``index`` (0-based)."""
        return int(self.lines[index])

    def _decoded(self, handle: BinaryIO) -> Iterator[str]:
        for raw in handle:
            self._line += 1
            self._bytes += len(raw)
            if self._on_progress is not None and self._line % 10_000 == 0:
                self._on_progress(self._bytes)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._fail("not UTF-8 text")
        if self._on_progress is not None:
            self._on_progress(self._bytes)

    def _fail(self, message: str, line: int | None = None) -> NoReturn:
        raise ImportFormatError(str(self.path), self._line if line is None else line, message)

    def __iter__(self) -> Iterator[Item]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise ImportFormatError(str(self.path), 0, f"cannot open: {exc.strerror}") from None
        with handle:
            if self.fmt == "jsonl":
                yield from self._jsonl(handle)
            else:
                yield from self._csv(handle)

    def _jsonl(self, handle: BinaryIO) -> Iterator[Item]:
        for text in self._decoded(handle):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                self._fail(f"not a JSON object: {exc}")
            if not isinstance(record, dict):
                self._fail("not a JSON object")
            purposes = record.get("purposes", [])
            if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
                self._fail("'purposes' must be an array of strings")
            yield self._item(record, self._line, tuple(purposes))

    def _csv(self, handle: BinaryIO) -> Iterator[Item]:
        reader = csv.reader(self._decoded(handle), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            self._fail(f"not CSV: {exc}")
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        missing = [c for c in _REQUIRED if c not in header]
        unknown = [c for c in header if c not in _REQUIRED + _OPTIONAL]
        if missing or unknown or len(set(header)) != len(header):
            self._fail(
                f"the header must name the columns {', '.join(_REQUIRED)} and optionally "
                f"{', '.join(_OPTIONAL)} (missing: {', '.join(missing) or 'none'}; unknown: "
                f"{', '.join(unknown) or 'none'})",
                1,
            )
        start = self._line + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._fail(f"not CSV: {exc}", start)
            if not row:
                start = self._line + 1
                continue
            if len(row) != len(header):
                self._fail(f"{len(row)} columns where the header has {len(header)}", start)
            record = dict(zip(header, row, strict=True))
            purposes = tuple(p for p in record.pop("purposes", "").split(";") if p)
            yield self._item(record, start, purposes)
            start = self._line + 1

    def _item(self, record: dict[str, Any], line: int, purposes: tuple[str, ...]) -> Item:
        if not record.keys() <= _ALLOWED:
            unknown = sorted(set(record) - _ALLOWED)
            self._fail(f"unknown key {', '.join(unknown)}", line)
        for key in _REQUIRED:
            if type(record.get(key)) is not str:
                what = "missing" if key not in record else "not a string"
                self._fail(f"{key!r} is {what}", line)
        collected_at = self.default_collected_at
        raw = record.get("collected_at")
        if raw:
            try:
                collected_at = datetime.fromisoformat(str(raw))
            except ValueError:
                self._fail(f"collected_at {raw!r} is not an ISO 8601 instant", line)
            if collected_at.utcoffset() is None:
                self._fail(f"collected_at {raw!r} has no UTC offset", line)
        try:
            item = Item(
                record["subject_id"],
                record["category"],
                record["field"],
                record["value"],
                collected_at,
                purposes,
            )
        except InvalidValue as exc:
            self._fail(f"{exc.field}: {exc.message}", line)
        self.lines.append(line)
        return item
