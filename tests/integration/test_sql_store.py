from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from helpers import table_prefix
from praclox_privacy import Policy
from praclox_privacy.ports import Store, StoreContext, StoreError, StoreUnavailable
from praclox_privacy.stores.sql import SqlSettings
from praclox_privacy.stores.sql.database import resolve_url
from praclox_privacy.stores.sql.schema import SCHEMA_VERSION
from praclox_privacy.stores.sql.store import SqlStore
from praclox_privacy.testing import StoreContract, make_item, relation_types_of


def _factory(url: str, policy: Policy, base_dir: str = ".") -> Iterator[Callable[[], Store]]:
    made: list[SqlStore] = []

    def make() -> Store:
        prefix = table_prefix()
        store = SqlStore.open(
            SqlSettings(url=url, table_prefix=prefix), StoreContext(policy, "main", base_dir)
        )
        made.append(store)
        return store

    yield make
    for store in made:
        store.database.tables.metadata.drop_all(store.database.engine)
        store.close()


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy, tmp_path) -> Iterator[Callable[[], Store]]:
        yield from _factory("sqlite:///store.db", policy, str(tmp_path))


class TestPostgresqlStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy, postgresql_url: str) -> Iterator[Callable[[], Store]]:
        yield from _factory(postgresql_url, policy)


class TestMariadbStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy, mariadb_url: str) -> Iterator[Callable[[], Store]]:
        yield from _factory(mariadb_url, policy)


def test_relative_sqlite_path_is_inside_the_workspace(tmp_path) -> None:
    url = resolve_url("sqlite:///data/x.db", str(tmp_path))
    assert url.database == str(tmp_path / "data" / "x.db")
    assert resolve_url("sqlite:////abs/x.db", str(tmp_path)).database == "/abs/x.db"
    assert resolve_url("sqlite://", str(tmp_path)).database in (None, "")
    assert resolve_url("mariadb+pymysql://root@h/db", ".").query["charset"] == "utf8mb4"


def test_schema_version_is_recorded_and_a_newer_one_refused(tmp_path) -> None:
    policy = __import__("praclox_privacy").default_policy()
    ctx = StoreContext(policy, "main", str(tmp_path))
    store = SqlStore.open(SqlSettings(), ctx)
    tables = store.database.tables
    with store.database.begin() as conn:
        assert conn.execute(sa.select(tables.schema.c.version)).scalar_one() == SCHEMA_VERSION
        conn.execute(tables.schema.update().values(version=SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(StoreError, match="newer than this library supports"):
        SqlStore.open(SqlSettings(), ctx)


def test_unreachable_server_is_reported_not_raised_raw(policy_default) -> None:
    ctx = StoreContext(policy_default, "crm-db")
    with pytest.raises(StoreUnavailable, match="crm-db"):
        SqlStore.open(SqlSettings(url="postgresql+psycopg://nobody@127.0.0.1:1/none"), ctx)


def test_failed_bulk_write_leaves_the_store_as_before(tmp_path, policy_default) -> None:
    store = SqlStore.open(
        SqlSettings(batch_size=100), StoreContext(policy_default, "main", str(tmp_path))
    )
    store.write([make_item("person-1", "person_name", "name", "kept")], relation_types_of)

    def items():
        for n in range(5000):
            yield make_item("person-1", "person_contact", f"phone-{n}", str(n))
        yield make_item("person-1", "search_parameters", "q", "x")

    with pytest.raises(StoreError) as info:
        store.write(items(), relation_types_of)
    assert "item 5001" in str(info.value)
    assert [i.value for i in store.items_of("person-1")] == ["kept"]
    store.close()


@pytest.fixture
def policy_default() -> Policy:
    from praclox_privacy import default_policy

    return default_policy()
