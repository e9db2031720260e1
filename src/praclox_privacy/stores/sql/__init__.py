"""The ``sql`` store plugin: SQLAlchemy 2 Core on SQLite (the default), PostgreSQL, MariaDB.

This module only registers the store kind; SQLAlchemy is imported when a store is built,
so loading plugins stays cheap.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ...hookspecs import hookimpl
from ...ports import StoreContext, StoreKind

if TYPE_CHECKING:
    from datetime import datetime

    from ...ports import Store
    from .ledger import SqlLedger
    from .store import SqlStore

__all__ = ["DEFAULT_URL", "SqlSettings"]

DEFAULT_URL = "sqlite:///praclox-privacy.db"
"""The embedded default: an SQLite file in the workspace folder."""


def _positive(instance: object, attribute: "attrs.Attribute[int]", value: int) -> None:
    from ...domain.errors import InvalidValue

    if value < 1:
        raise InvalidValue(attribute.name, f"must be at least 1, not {value}")


def _prefix(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    import re

    from ...domain.errors import InvalidValue

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", value):
        raise InvalidValue(
            attribute.name,
            f"{value!r} must be 1-16 lower-case letters, digits or '_', starting with a letter",
        )


@attrs.frozen
class SqlSettings:
    """Settings of an ``sql`` store.

    :ivar url: an SQLAlchemy database URL; a relative SQLite path is relative to the
        workspace folder. PostgreSQL: ``postgresql+psycopg://user@host/db``; MariaDB:
        ``mariadb+pymysql://user@host/db``.
    :ivar password_env: the environment variable holding the database password, which
        keeps it out of the workspace file (it replaces any password in ``url``).
    :ivar table_prefix: prefix of the library's tables, so they can live beside others.
    :ivar batch_size: rows per statement in bulk writes and erasures; bounded so that
        locks stay short.
    """

    url: str = DEFAULT_URL
    password_env: str = ""
    table_prefix: str = attrs.field(default="pp_", validator=_prefix)
    batch_size: int = attrs.field(default=5000, validator=_positive)


def _factory(settings: SqlSettings, context: StoreContext) -> "SqlStore":
    from .store import SqlStore

    return SqlStore.open(settings, context)


def _ledger(store: "Store", clock: "Callable[[], datetime]") -> "SqlLedger":
    from .ledger import SqlLedger
    from .store import SqlStore

    if not isinstance(store, SqlStore):  # pragma: no cover - the workspace passes its own
        raise TypeError(f"expected an SqlStore, not {type(store).__name__}")
    return SqlLedger(store.database, clock)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``sql`` store kind."""
    register(
        StoreKind(
            name="sql",
            factory=_factory,
            settings_type=SqlSettings,
            description="SQL database through SQLAlchemy: SQLite (default), PostgreSQL, "
            "MariaDB. Also holds the workspace's ledger when it is the primary store.",
            ledger=_ledger,
            init_settings={"url": DEFAULT_URL},
        )
    )
