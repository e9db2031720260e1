"""Errors raised by the library; every one names the file, key or record at fault."""

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "DocumentError",
    "InvalidValue",
    "MappingError",
    "OperationRefused",
    "PolicyError",
    "PracloxPrivacyError",
    "Problem",
    "Severity",
    "WorkspaceError",
]


class PracloxPrivacyError(Exception):
    """Base class of every error this library raises on purpose."""


Severity = str
"""``"error"`` or ``"warning"``."""


@attrs.frozen
class Problem:
    """One thing wrong with a policy (or another document), and where.

    :ivar location: the key at fault, e.g. ``retention[3].period``; empty for the document.
    :ivar message: what is wrong, in one sentence.
    :ivar code: a stable identifier of the check (e.g. ``no-retention-rule``).
    :ivar severity: ``"error"`` or ``"warning"``.
    """

    location: str
    message: str
    code: str = "invalid"
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        tag = " (warning)" if self.severity == "warning" else ""
        return f"{where}{self.message}{tag}"


class DocumentError(PracloxPrivacyError):
    """A document (policy, workspace config, mapping) is not valid; lists every problem.

    :ivar problems: every problem found, each with its location.
    :ivar source: the document, usually its path.
    """

    def __init__(self, problems: Iterable[Problem], source: str = "<policy>") -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        n = len(self.problems)
        head = f"{self.source}: {n} problem{'s' if n != 1 else ''}"
        return head + "".join(f"\n  {self.source}: {p}" for p in self.problems)


class PolicyError(DocumentError):
    """A policy could not be loaded or is not valid; lists every problem with its location."""


class MappingError(DocumentError):
    """A table mapping is not valid, or does not match the policy or the live schema."""


class WorkspaceError(DocumentError):
    """A workspace's configuration is not valid or names something that does not exist."""


class OperationRefused(PracloxPrivacyError):
    """An operation was refused because it would break the policy or names unknown data."""


class InvalidValue(ValueError):
    """A field of a record or policy entry has a value it cannot take.

    :ivar field: the field's name, so loaders can point at the key.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
