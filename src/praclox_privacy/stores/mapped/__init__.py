"""The ``sql-mapped`` store plugin: the policy enforced in place on a database's own tables.

A mapping file (:mod:`praclox_privacy.domain.mapping`, docs/mapped-databases.md) says
which tables hold which relation types and categories; the store reads subjects, their
events and data straight from those tables, and the sweep erases due rows with set-based
statements on them. Nothing is copied into the library's own schema. SQLAlchemy is
imported when a store is built, so loading plugins stays cheap.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ...hookspecs import hookimpl
from ...ports import StoreContext, StoreKind

if TYPE_CHECKING:
    import click

    from ...ports import CommandKit
    from .store import MappedStore

__all__ = ["MappedSettings"]


def _positive(instance: object, attribute: "attrs.Attribute[int]", value: int) -> None:
    from ...domain.errors import InvalidValue

    if value < 1:
        raise InvalidValue(attribute.name, f"must be at least 1, not {value}")


@attrs.frozen
class MappedSettings:
    """Settings of an ``sql-mapped`` store.

    :ivar url: the SQLAlchemy URL of the existing database; a relative SQLite path is
        relative to the workspace folder.
    :ivar mapping: the mapping file, relative to the workspace folder.
    :ivar password_env: the environment variable holding the database password, which
        keeps it out of the workspace file (it replaces any password in ``url``).
    :ivar batch_size: rows per sweep statement and per commit.
    """

    url: str
    mapping: str
    password_env: str = ""
    batch_size: int = attrs.field(default=100_000, validator=_positive)


def _factory(settings: MappedSettings, context: StoreContext) -> "MappedStore":
    from .store import MappedStore

    return MappedStore.open(settings, context)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``sql-mapped`` store kind."""
    register(
        StoreKind(
            name="sql-mapped",
            factory=_factory,
            settings_type=MappedSettings,
            description="An existing database's own tables, mapped onto the policy and "
            "enforced in place (SQLite, PostgreSQL, MariaDB).",
        )
    )


@hookimpl
def register_commands(register: "Callable[[click.Command], None]", cli: "CommandKit") -> None:
    """Add the ``map`` command group."""
    from .commands import map_group

    register(map_group(cli))
