"""Shared fixtures: the default policy, and real servers (database, CalDAV, Tryton), skipped
(or failed in CI) when missing."""

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from praclox_privacy import Policy, default_policy

if TYPE_CHECKING:
    from caldav_server import Radicale
    from tryton_server import Tryton

PG_ADMIN_URL = os.environ.get(
    "PRACLOX_TEST_POSTGRESQL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get(
    "PRACLOX_TEST_MARIADB", "mariadb+pymysql://root@127.0.0.1:3306/test"
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The shipped default policy, one per test module."""
    return default_policy()


def servers_required() -> bool:
    return os.environ.get("PRACLOX_REQUIRE_SERVERS") == "1"


def missing(reason: str, *, module_level: bool = False) -> None:
    """Skip (or, with PRACLOX_REQUIRE_SERVERS=1, fail) a test whose server is missing.

    With ``module_level``, called while a test module is imported: the whole module.
    """
    if servers_required():
        pytest.fail(f"{reason} (PRACLOX_REQUIRE_SERVERS=1)", pytrace=not module_level)
    pytest.skip(reason, allow_module_level=module_level)


def _scratch_database(admin_url: str, label: str) -> Iterator[str]:
    sa = pytest.importorskip("sqlalchemy")
    url = sa.make_url(admin_url)
    name = f"praclox_test_{secrets.token_hex(4)}"
    try:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # the server is down or the driver missing
        missing(f"{label} is not available at {url.render_as_string()}: {exc}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
        engine.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    yield from _scratch_database(PG_ADMIN_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database for this test session, dropped afterwards."""
    yield from _scratch_database(MARIADB_ADMIN_URL, "MariaDB")


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator["Radicale"]:
    """A Radicale CalDAV server for this test module (see tests/caldav_server.py)."""
    pytest.importorskip("caldav")
    from caldav_server import radicale_server

    with radicale_server(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture(scope="session")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator["Tryton"]:
    """The test session's Tryton server (see tests/tryton_server.py)."""
    from tryton_server import tryton_server

    with tryton_server(tmp_path_factory.mktemp("tryton")) as server:
        yield server
