"""``map check``: every mapped store's mapping against the policy and the live schema."""

from typing import TYPE_CHECKING

import attrs

from ...domain.errors import MappingError, PracloxPrivacyError, Problem
from ...formats.jsonout import Shape, register_shape, to_json

if TYPE_CHECKING:
    from ...ports import WorkspaceView

__all__ = ["MappingCheck", "check_mappings"]

KIND = "sql-mapped"


@attrs.frozen
class MappingCheck:
    """The outcome for one ``sql-mapped`` store.

    :ivar source: the mapping file and the database it was checked against.
    :ivar problems: every problem, each naming its key, table and column (empty: valid).
    :ivar tables: how many tables the mapping maps (when it loaded).
    """

    store: str
    source: str
    problems: tuple[Problem, ...] = ()
    tables: int = 0

    @property
    def ok(self) -> bool:
        """Whether the mapping is valid against the policy and the schema."""
        return not self.problems


def _problems(problems: tuple[Problem, ...], converter: object) -> list[object]:
    # A mapping's problems are errors: their severity is not written.
    return [to_json(p, omit=("severity",)) for p in problems]


register_shape(
    MappingCheck,
    Shape(("store", "source", "ok", "tables", "problems"), hooks={"problems": _problems}),
)


def check_mappings(ws: "WorkspaceView", store: str | None = None) -> list[MappingCheck]:
    """Check the mapping of every ``sql-mapped`` store of ``ws`` (or of ``store`` only).

    Opening a mapped store is what checks it: nothing is written to the database.

    :raises OperationRefused: when ``store`` is not a configured ``sql-mapped`` store.
    """
    from ...domain.errors import OperationRefused
    from .store import MappedStore

    names = [n for n in ws.store_names if ws.store_kind(n) == KIND]
    if store is not None:
        if ws.store_kind(store) != KIND:
            raise OperationRefused(f"store {store!r} is not a {KIND} store")
        names = [store]
    found: list[MappingCheck] = []
    for name in names:
        try:
            opened = ws.store(name)
        except MappingError as error:
            found.append(MappingCheck(name, error.source, tuple(error.problems)))
            continue
        except PracloxPrivacyError as error:
            found.append(MappingCheck(name, name, (Problem("", str(error), "unreachable"),)))
            continue
        assert isinstance(opened, MappedStore)
        found.append(MappingCheck(name, opened.source, (), len(opened.mapping.tables)))
    return found
