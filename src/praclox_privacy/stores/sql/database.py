"""An SQL database of the library: its engine, tables, transactions and cross-process locks.

Shared by the ``sql`` store (:mod:`.store`) and the ledger (:mod:`.ledger`) in the same
database, so a write and its audit entry commit in one transaction. SQLite transactions
are made real (``BEGIN IMMEDIATE``, waiting on locks); a new SQLite file is private to
its owner.
"""

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event, exc

from ...ports import StoreError, StoreUnavailable
from . import SqlSettings
from .schema import Tables, ensure_schema, make_tables

__all__ = ["SqlDatabase", "resolve_url", "sqlite_transactions"]


def resolve_url(url: str, base_dir: str, password_env: str = "") -> sa.URL:
    """Return ``url`` with a relative SQLite path made relative to ``base_dir``.

    MariaDB/MySQL URLs get ``charset=utf8mb4`` unless they name a charset.

    :param password_env: an environment variable holding the password (kept out of the
        workspace file); it replaces any password in ``url``.
    :raises StoreUnavailable: when that variable is not set.
    """
    parsed = sa.make_url(url)
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise StoreUnavailable(
                f"environment variable {password_env} (the password of "
                f"{parsed.render_as_string(hide_password=True)}) is not set"
            )
        parsed = parsed.set(password=password)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:") and not Path(db).is_absolute():
            parsed = parsed.set(database=str(Path(base_dir) / db))
    elif backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


class SqlDatabase:
    """An engine and the library's tables in it; shared by the store and the ledger."""

    def __init__(self, engine: Engine, tables: Tables, batch_size: int, label: str) -> None:
        self.engine = engine
        self.tables = tables
        self.batch_size = batch_size
        self.label = label
        self._current: ContextVar[Connection | None] = ContextVar(f"tx-{id(self)}", default=None)

    @classmethod
    def connect(cls, settings: SqlSettings, base_dir: str, label: str) -> "SqlDatabase":
        """Create the engine, then create or upgrade the schema.

        :raises StoreUnavailable: when the database cannot be reached.
        """
        try:
            url = resolve_url(settings.url, base_dir, settings.password_env)
        except StoreUnavailable as error:
            raise StoreUnavailable(f"store {label!r}: {error}") from None
        kwargs: dict[str, Any] = {}
        if url.get_backend_name() != "sqlite":
            kwargs["pool_pre_ping"] = True
        try:
            engine = sa.create_engine(url, **kwargs)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            raise StoreError(f"store {label!r}: unusable database URL: {error}") from None
        if url.get_backend_name() == "sqlite":
            _private_file(url.database)
            sqlite_transactions(engine)
        db = cls(engine, make_tables(settings.table_prefix), settings.batch_size, label)
        with db.begin() as conn:
            ensure_schema(conn, db.tables)
            if (
                db.dialect == "sqlite"
                and not conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).first()
            ):
                db.refresh_statistics(conn)
        return db

    def refresh_statistics(self, conn: Connection) -> None:
        """Update the planner's statistics of the items table (after bulk changes).

        Without them SQLite picks the category index for "these subjects' items of a
        category" and scans every item of the category once per batch of a sweep.
        """
        name = self.tables.items.name
        if self.dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql(f"ANALYZE TABLE {name}").all()
        else:
            conn.exec_driver_sql(f"ANALYZE {name}")

    @property
    def where(self) -> str:
        """The database, for messages (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Open a transaction; commit on success, roll back on any error.

        Inside another ``begin()`` of the same database (in the same thread or task), the
        outer transaction is joined, so a store write and its audit entry commit together.

        :raises StoreUnavailable: when the database cannot be reached.
        """
        current = self._current.get()
        if current is not None:
            yield current
            return
        try:
            with self.engine.begin() as conn:
                token = self._current.set(conn)
                try:
                    yield conn
                finally:
                    self._current.reset(token)
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise StoreUnavailable(
                f"store {self.label!r} ({self.where}): {_reason(error)}"
            ) from error
        except exc.DBAPIError as error:
            raise StoreError(f"store {self.label!r} ({self.where}): {_reason(error)}") from error

    @contextmanager
    def exclusive(self, name: str, wait: bool = False) -> Iterator[bool]:
        """Hold a lock named ``name`` across processes while the block runs.

        PostgreSQL: an advisory lock; MariaDB: ``GET_LOCK``; SQLite: ``flock`` on a file
        beside the database (a process-local lock for in-memory databases). Every one is
        released when its holder dies, so a killed process never leaves a stale lock.

        :param wait: wait for the lock instead of giving up at once.
        :returns: (as the ``with`` value) whether the lock is held; when ``False`` the
            block runs without it and should do nothing.
        """
        dialect = self.dialect
        if dialect == "sqlite":
            with _file_lock(self.engine.url.database, name, wait) as held:
                yield held
            return
        key = f"praclox_privacy:{self.tables.schema.name}:{name}"
        try:
            conn = self.engine.connect()
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise StoreUnavailable(
                f"store {self.label!r} ({self.where}): {_reason(error)}"
            ) from error
        try:
            if dialect == "postgresql":
                number = int.from_bytes(
                    hashlib.sha256(key.encode()).digest()[:8], "big", signed=True
                )
                fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
                result = conn.execute(sa.text(f"SELECT {fn}(:n)"), {"n": number}).scalar()
                held = True if wait else bool(result)
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(sa.text("SELECT pg_advisory_unlock(:n)"), {"n": number})
                        conn.commit()
            else:
                # MariaDB answers GET_LOCK(k, -1) with NULL at once (MDEV-4017): wait in
                # rounds of a minute instead.
                while True:
                    result = conn.execute(
                        sa.text("SELECT GET_LOCK(:k, :t)"), {"k": key[:64], "t": 60 if wait else 0}
                    ).scalar()
                    if result == 1 or not wait:
                        break
                held = result == 1
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(sa.text("SELECT RELEASE_LOCK(:k)"), {"k": key[:64]})
                        conn.commit()
        finally:
            conn.close()

    @property
    def dialect(self) -> str:
        """The backend's name: ``sqlite``, ``postgresql``, ``mysql`` or ``mariadb``."""
        return self.engine.dialect.name


def _private_file(database: str | None) -> None:
    """Create a new SQLite database file readable by its owner only (personal data)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


_LOCAL_LOCKS: dict[str, threading.Lock] = {}


@contextmanager
def _file_lock(database: str | None, name: str, wait: bool) -> Iterator[bool]:
    if not database or database == ":memory:" or database.startswith("file:"):
        lock = _LOCAL_LOCKS.setdefault(f"{database}:{name}", threading.Lock())
        held = lock.acquire(blocking=wait)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    import fcntl

    path = f"{database}.{name}.lock"
    handle = Path(path).open("a+b")  # noqa: SIM115 - held across the yield
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _reason(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


def sqlite_transactions(engine: Engine, wal: bool = True) -> None:
    """Make SQLite transactions real: ``BEGIN IMMEDIATE`` and waiting on locks.

    :param wal: also switch the file to WAL with ``synchronous = NORMAL`` (the library's
        own database); a mapped database keeps its owner's journal mode.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
